"""The backend seam: what a model engine needs from a runtime, and the registry of runtimes.

A backend loads one model (plus an optional adapter) once, counts tokens, and generates a batch of prompts into
candidate texts with finished flags. Everything else (input budgets, prompt rendering, cleanup, choosing among
candidates, fallbacks) is the engine's, done once whatever the backend. Adding a backend is a class that meets
`Backend` (tests/test_backends.py checks every registered one) and one line in BACKENDS, or a call to
`register_backend` from outside the package.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from ..errors import ConfigError
from ..generation import GenerationSettings, TaskFormat

BACKENDS = {
    "hf": "summarizer.backends.hf:HFBackend",
    "ct2": "summarizer.backends.ct2:CT2Backend",
}
"""Registry name -> "module:Class". CLI choices, `summarizer bench` variants and load_backend all read it."""
DEFAULT_BACKEND = "ct2"
"""What the default engine runs on: CTranslate2 int8 is faster than transformers fp32 on a CPU
(docs/measurements.md, Speed)."""


@dataclass
class Candidate:
    text: str
    """Raw decoded text (the engine cleans it with the task format)."""
    finished: bool
    """True when generation ended on a stop token, not at the length limit."""
    score: float = 0.0
    """Log-likelihood score from the decoder (higher is better), for ranking candidates."""


@runtime_checkable
class Backend(Protocol):
    name: str
    """Its BACKENDS name (reports, prediction files)."""
    label: str
    """What it runs, for people and report rows: the model (and adapter)."""
    task_format: TaskFormat
    """How prompts are written and outputs cleaned for this model (saved with its weights)."""
    is_seq2seq: bool
    concurrent: bool
    """True when calls from several threads at once run side by side (the engine then writes the headline and
    the summary at the same time); False when they would only queue."""
    variants: ClassVar[dict[str, dict]]
    """Named sets of extra `load` options worth comparing (`summarizer bench` runs each as <name>-<variant>)."""

    @classmethod
    def load(cls, model: str, *, adapter: str | None = None, device: str = "auto", threads: int | None = None,
             **options) -> "Backend":
        """The model (hub id or directory) with an optional peft adapter, ready to generate; ModelLoadError
        naming what could not be loaded. `options` are the backend's own (e.g. ct2's trim_vocab)."""
        ...

    def count_tokens(self, text: str, *, special: bool = False) -> int:
        """Tokens of `text` (with the tokenizer's special tokens when `special`)."""
        ...

    def position_limit(self, max_new_tokens: int) -> int:
        """Most prompt tokens the model can take while still generating `max_new_tokens`."""
        ...

    def generate(self, prompts: list[str], *, task: str, max_new_tokens: int, settings: GenerationSettings,
                 sources: list[str]) -> list[list[Candidate]]:
        """Candidates for each prompt (best first, at most settings.num_candidates). `sources` holds the article
        text each prompt was made from, for source-aware decoding."""
        ...


def piece_ids(tokenizer, pieces: list[str]) -> tuple[list[int], list[int]]:
    """An answer written piece by piece (summarizer.cut.answer_pieces), as token ids, and the index of each piece's
    last token: where end_scores reads the model's readiness to stop."""
    ids: list[int] = []
    ends = []
    for piece in pieces:
        ids += tokenizer(piece, add_special_tokens=False).input_ids
        ends.append(len(ids) - 1)
    return ids, ends


def backend_names() -> tuple[str, ...]:
    return tuple(BACKENDS)


_NAME = re.compile(r"[a-z][a-z0-9_]*")
_TARGET = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


def register_backend(name: str, target: str) -> None:
    """Make the class at `target` ("module:Class", imported when first loaded) available as backend `name`
    everywhere names are offered (CLI --backend, the server's backend, bench variants)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(f"backend name {name!r}: lower-case letters, digits and _ only, starting with a letter")
    if not isinstance(target, str) or not _TARGET.fullmatch(target):
        raise ConfigError(f"backend {name!r}: target {target!r} is not of the form 'module:Class'")
    BACKENDS[name] = target


def backend_class(name: str) -> type:
    """The class registered as `name`; ConfigError for an unknown name or a runtime that is not installed."""
    if name not in BACKENDS:
        raise ConfigError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    module_name, class_name = BACKENDS[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"backend {name!r} is not installed ({exc.name} is missing)") from None
    try:
        return getattr(module, class_name)
    except AttributeError:
        raise ConfigError(f"backend {name!r}: {module_name} has no {class_name}") from None


def load_backend(name: str, model: str, *, adapter: str | None = None, device: str = "auto",
                 threads: int | None = None, **options) -> Backend:
    return backend_class(name).load(model, adapter=adapter, device=device, threads=threads, **options)
