"""Page in, results out: cleaning then one batched engine call. Shared by the CLI, the web demo/API and batch jobs."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .clean import MAX_PAGE_CHARS, clean_page
from .corpora import decode_text
from .engines import Engine
from .errors import InputError
from .generation import GenerationSettings


@dataclass
class ArticleResult:
    id: str
    title: str | None
    headline: str
    summary: str
    cleaned_text: str
    engine: str
    seconds: float
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)
    secondary: bool = False
    """True for an article found after the page's main one (e.g. after "إقرأ أيضاً")."""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PageResult:
    articles: list[ArticleResult]
    removed: list[dict]


def summarize_pages(pages: list[tuple[str, str]], engine: Engine, settings: GenerationSettings) -> list[PageResult]:
    """Clean each (page_id, text) and summarize every article of every page in one engine call.

    Raises InputError for the first page that cannot be used (callers wanting per-item errors call per page).
    """
    cleaned = [clean_page(text, page_id=page_id) for page_id, text in pages]
    articles = [a for page in cleaned for a in page.articles]
    started = time.perf_counter()
    summaries = engine.summarize(articles, settings=settings)
    per_article = (time.perf_counter() - started) / max(1, len(articles))
    results, k = [], 0
    for page in cleaned:
        out = []
        for position, article in enumerate(page.articles):
            summary = summaries[k]
            k += 1
            warnings = list(summary.warnings)
            if len(page.articles) > 1 and position == 0:
                warnings.append(f"the page holds {len(page.articles)} articles; each is summarized separately")
            out.append(ArticleResult(id=article.id, title=article.title, headline=summary.headline,
                                     summary=summary.summary, cleaned_text=article.text, engine=summary.engine,
                                     seconds=round(per_article, 3), truncated=summary.truncated, warnings=warnings,
                                     secondary=position > 0))
        results.append(PageResult(articles=out, removed=[asdict(r) for r in page.removed]))
    return results


def read_page_file(path: str | Path, *, max_chars: int = MAX_PAGE_CHARS) -> str:
    """Read a UTF-8 text file, with a clear InputError for every way it can be unusable."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a text file")
    size = path.stat().st_size
    if size > max_chars * 4:  # UTF-8 Arabic is 2 bytes a letter; 4 leaves room for any script
        raise InputError(f"{path}: {size:,} bytes, over the size limit for one page ({max_chars:,} characters)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    return decode_text(data, str(path))
