"""The one article type every reader, cleaner and engine passes around."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

from .reasons import Note, fallback_codes, messages


@dataclass
class Article:
    """An article: title (if known), paragraphs in order, and where it came from.

    `reference` holds a corpus-provided summary (an ABSTRACT) when one exists; protocols decide what is used as
    the reference for scoring.
    """

    id: str
    paragraphs: list[str]
    title: str | None = None
    reference: str | None = None
    source: str | None = None
    url: str | None = None

    @property
    def lead(self) -> str:
        return self.paragraphs[0] if self.paragraphs else ""

    @property
    def body(self) -> list[str]:
        """Paragraphs after the lead."""
        return self.paragraphs[1:]

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)

    def to_dict(self) -> dict:
        return asdict(self)


def content_id(text: str) -> str:
    """A stable id for text without a url: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Summary:
    """What an engine returns for one article."""

    headline: str
    summary: str
    engine: str
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)
    """Free-text cautions of the engine itself (e.g. the default model's); the checks' lines come from `notes`."""
    notes: list[Note] = field(default_factory=list)
    """Why the text is not simply the model's: replaced, repaired or chosen fields, a cut input (codes)."""
    headline_candidates: list[dict] = field(default_factory=list)
    """Headlines to choose from, best first: {"text", "verdict", "score", "evidence"} (see summarizer.check);
    `headline` is the first."""
    summary_points: list[str] = field(default_factory=list)
    """The key facts of a bullets summary (summary_length="bullets"), one sentence each; `summary` joins them."""
    checks: dict[str, dict] = field(default_factory=dict)
    """Per field (headline, summary): {"verdict", "score", "evidence": [{"sentence", "text"}], "by"}: how far the
    article supports it, from the consistency checker ("by": "checker") or the lexical guard ("by": "guard")."""

    @property
    def fallback(self) -> dict[str, list[str]]:
        """Fields replaced by the extractive engine because the model's text was not supported -> reason codes."""
        return fallback_codes(self.notes)

    def messages(self) -> list[str]:
        """Everything users should read about this output: the engine's cautions, then one line per check."""
        return [*self.warnings, *messages(self.notes)]
