"""Errors that reach users as one clear line (the CLI, the API and batch records print their message)."""


class SummarizerError(Exception):
    """Base class: the message is written for the user and names the problem."""


class InputError(SummarizerError):
    """The input text or file cannot be summarized (empty, no Arabic, too large, unreadable)."""


class ModelLoadError(SummarizerError):
    """A model, tokenizer or adapter could not be loaded from the given path or id."""


class ConfigError(SummarizerError, ValueError):
    """A configuration file or override is invalid; the message lists every problem."""
