"""The backend seam: what a model engine needs from a runtime, and the registry of runtimes.

A backend loads one model (plus an optional adapter) once, counts tokens, and generates a batch of prompts into
candidate texts with finished flags. A backend whose `concurrent` attribute is true may be called from several
threads at once (the engine then writes the headline and the summary side by side). Everything else (input budgets, prompt rendering, cleanup, choosing among
candidates, fallbacks) is the engine's, done once whatever the backend. Adding a backend is one module here plus
one line in BACKENDS.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol

from ..errors import ConfigError
from ..generation import GenerationSettings, TaskFormat

BACKENDS = {
    "hf": "summarizer.backends.hf:HFBackend",
    "ct2": "summarizer.backends.ct2:CT2Backend",
}
DEFAULT_BACKEND = "ct2"
"""What the default engine runs on: CTranslate2 int8 is 2.5-3x faster than transformers fp32 on a CPU."""


@dataclass
class Candidate:
    text: str
    """Raw decoded text (the engine cleans it with the task format)."""
    finished: bool
    """True when generation ended on a stop token, not at the length limit."""
    score: float = 0.0
    """Log-likelihood score from the decoder (higher is better), for ranking candidates."""


class Backend(Protocol):
    name: str
    task_format: TaskFormat
    is_seq2seq: bool

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


def backend_names() -> tuple[str, ...]:
    return tuple(BACKENDS)


def load_backend(name: str, model: str, *, adapter: str | None = None, device: str = "auto",
                 threads: int | None = None, **options) -> Backend:
    if name not in BACKENDS:
        raise ConfigError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    module_name, class_name = BACKENDS[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"backend {name!r} is not installed ({exc.name} is missing)") from None
    return getattr(module, class_name).load(model, adapter=adapter, device=device, threads=threads, **options)
