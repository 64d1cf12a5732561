"""The one result record: what every path (CLI, API, web demo, batch, evaluation) gives for one article.

It is serialized the same way everywhere (`to_dict` for JSON Lines and the API, `csv_row` for CSV), carries a
`schema_version`, and an error for an input that could not be used is the same record with `status: "error"`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields

from .article import Article, Summary
from .faithfulness import SourceIndex
from .reasons import FIELDS, Note, fallback_codes, messages

SCHEMA_VERSION = 4
"""3: `fallback` maps a field to reason codes (it was an Arabic message), and `notes` is new. 4: the checker's
`checks` per field, `headline_candidates`, `summary_points`."""


@dataclass
class ArticleResult:
    id: str
    """Article id: the page id, or `<page id>#K` for the K-th article found on the page."""
    status: str = "ok"
    """'ok', or 'error' when the input could not be summarized (see `error`)."""
    page: str | None = None
    """Where the page came from: file, feed entry URL, API item index."""
    url: str | None = None
    title: str | None = None
    """The article's own title, when the page or feed had one."""
    headline: str = ""
    summary: str = ""
    engine: str = ""
    secondary: bool = False
    """True for an article found after the page's main one (e.g. after "إقرأ أيضاً")."""
    truncated: bool = False
    """The article was longer than the model's input budget and was cut."""
    fallback: dict[str, list[str]] = field(default_factory=dict)
    """Fields replaced by the extractive engine -> reason codes (e.g. {"summary": ["unsupported_number"]})."""
    notes: list[dict] = field(default_factory=list)
    """Every check that changed or explains the output, machine-readable: {"code", "field", "params"} with the
    codes of `summarizer.reasons.Reason` (their Arabic lines are in `warnings`)."""
    faithfulness: dict = field(default_factory=dict)
    """Per-field support by the article: unsupported numbers, novel words, novel rare words."""
    checks: dict = field(default_factory=dict)
    """Per field (headline, summary): {"verdict": supported | unsupported | contradicted, "score", "evidence":
    [{"sentence": index, "text"}], "by": "checker" or "guard"} (summarizer.check)."""
    headline_candidates: list[dict] = field(default_factory=list)
    """Headlines to choose from, best first: {"text", "verdict", "score", "evidence"}; `headline` is the first."""
    summary_points: list[str] = field(default_factory=list)
    """The key facts of a bullets summary, one sentence each (`summary` joins them)."""
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None
    """Batch: a short code for what failed (`bad-line`, `timeout`, `refused`, ...), to count failures without
    reading `error`."""
    text_source: str | None = None
    """Batch: 'page' (the fetched page) or 'feed' (the feed entry's own text)."""
    page_records: int | None = None
    """Batch: how many records the page gave; a rerun counts a page as done only when all of them are written."""
    cleaned_text: str | None = None
    """What the engine saw after cleaning (the web demo shows it)."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent: summarize (this article's share of its batch), fetch (batch, fetched pages)."""
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def failed(cls, id: str, error: str, **values) -> "ArticleResult":
        return cls(id=id, status="error", error=error, **values)

    @classmethod
    def from_summary(cls, article: Article, summary: Summary, *, notes: Sequence[Note] = (),
                     **values) -> "ArticleResult":
        """The record of one engine output for `article` (what the engine saw), with its faithfulness per field;
        `notes` adds the caller's own (e.g. the page held several articles)."""
        index = SourceIndex(article.text)
        every = [*summary.notes, *notes]
        return cls(id=article.id, title=article.title, headline=summary.headline, summary=summary.summary,
                   engine=summary.engine, truncated=summary.truncated, fallback=fallback_codes(every),
                   notes=[n.to_dict() for n in every], checks=dict(summary.checks),
                   headline_candidates=list(summary.headline_candidates), summary_points=list(summary.summary_points),
                   faithfulness={task: index.check(getattr(summary, task)).to_dict() for task in FIELDS},
                   warnings=[*summary.warnings, *messages(every)], cleaned_text=article.text, **values)

    @classmethod
    def from_dict(cls, values: dict) -> "ArticleResult":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


CSV_COLUMNS = ("id", "status", "page", "url", "title", "headline", "summary", "engine", "secondary", "fallback",
               "warnings", "error", "schema_version")


def csv_row(record: dict) -> dict:
    """A flat CSV row of a record dict (lists and mappings joined as text)."""
    row = {k: record.get(k) for k in CSV_COLUMNS}
    row["warnings"] = "; ".join(record.get("warnings") or [])
    row["fallback"] = "; ".join(f"{k}: {v if isinstance(v, str) else ', '.join(v)}"  # str: a schema-2 record
                                for k, v in (record.get("fallback") or {}).items())
    return row
