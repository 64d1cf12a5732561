"""Errors that reach users as one clear line (the CLI, the API and batch records print their message).

Callers decide by type, never by message text: the API maps each type to its HTTP status (service.STATUS), so a
message can be reworded freely.
"""


class SummarizerError(Exception):
    """Base class: the message is written for the user and names the problem."""


class InputError(SummarizerError):
    """The input text or file cannot be summarized (empty, no Arabic, too large, unreadable)."""


class InputTooLarge(InputError):
    """The input is over a size limit (a page's characters, a file's bytes, a line's length)."""


class ModelLoadError(SummarizerError):
    """A model, tokenizer or adapter could not be loaded from the given path or id."""


class ConfigError(SummarizerError, ValueError):
    """A configuration file or override is invalid; the message lists every problem."""


class WorkTooLarge(ConfigError):
    """Settings that are each in range but together ask a server for more work than one request may take."""
