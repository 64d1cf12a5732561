"""Page in, results out: cleaning then one batched engine call. Shared by the CLI, the web demo/API and batch jobs."""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

from .clean import MAX_PAGE_CHARS, CleanedPage, clean_page
from .corpora import decode_text
from .engines import Engine
from .errors import InputError, InputTooLarge
from .generation import GenerationSettings
from .reasons import CHARACTER, Note, Reason, counted
from .record import ArticleResult


@dataclass
class PageResult:
    """One page: its article records (one error record when the page could not be used) and what was removed."""

    page: str
    articles: list[ArticleResult]
    removed: list[dict] = field(default_factory=list)
    error: str | None = None
    problem: InputError | None = field(default=None, repr=False, compare=False)
    """The error itself, for callers that act on its type (the API's status codes); `error` is its message."""


def summarize_pages(pages: list[tuple[str, str]], engine: Engine, settings: GenerationSettings,
                    *, urls: dict[str, str] | None = None,
                    admit: Callable[[int], None] | None = None) -> list[PageResult]:
    """Clean each (page_id, text) and summarize every article of every page in one batched engine call.

    A page that cannot be used gives a PageResult with `error` set (and one error record), never an exception, so
    one bad page does not cost the others; callers decide whether that is fatal. `admit(article_count)` runs
    after cleaning and before any summarizing: a server's work budget raises there, for the whole call.
    """
    cleaned: list[CleanedPage | InputError] = []
    for page_id, text in pages:
        try:
            cleaned.append(clean_page(text, page_id=page_id or None))
        except InputError as exc:
            cleaned.append(exc)
    articles = [a for page in cleaned if isinstance(page, CleanedPage) for a in page.articles]
    if admit is not None:
        admit(len(articles))
    started = time.perf_counter()
    summaries = engine.summarize(articles, settings=settings) if articles else []
    per_article = round((time.perf_counter() - started) / max(1, len(articles)), 3)
    results, k = [], 0
    for (page_id, _), page in zip(pages, cleaned):
        url = (urls or {}).get(page_id)
        if isinstance(page, InputError):
            results.append(PageResult(page=page_id, articles=[ArticleResult.failed(page_id, str(page), page=page_id,
                                                                                      url=url)], error=str(page),
                                      problem=page))
            continue
        out = []
        for position, article in enumerate(page.articles):
            summary = summaries[k]
            k += 1
            notes = [Note(Reason.SEVERAL_ARTICLES, params={"count": len(page.articles)})] \
                if len(page.articles) > 1 and position == 0 else []
            # An "ok" record with an empty field and no word of why would pass for a result.
            notes += [Note(Reason.EMPTY_FIELD, task) for task in ("headline", "summary")
                      if not getattr(summary, task).strip()]
            out.append(ArticleResult.from_summary(article, summary, notes=notes, page=page_id, url=url,
                                                  secondary=position > 0, timings={"summarize": per_article}))
        results.append(PageResult(page=page_id, articles=out, removed=[asdict(r) for r in page.removed]))
    return results


def max_page_bytes(max_chars: int = MAX_PAGE_CHARS) -> int:
    return max_chars * 4  # UTF-8 Arabic is 2 bytes a letter; 4 leaves room for any script


def read_limited(handle: BinaryIO, name: str, *, max_chars: int = MAX_PAGE_CHARS) -> str:
    """Read at most the page limit + 1 byte from any stream (a FIFO, /dev/zero or endless stdin cannot exhaust
    memory), then decode it with a clear InputError naming `name`."""
    limit = max_page_bytes(max_chars)
    chunks, size = [], 0
    while size <= limit:
        chunk = handle.read(min(1 << 20, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise InputTooLarge(f"{name}: أكبر من حد الصفحة الواحدة ({counted(max_chars, CHARACTER)})")
    return decode_text(b"".join(chunks), name)


def read_page_file(path: str | Path, *, max_chars: int = MAX_PAGE_CHARS) -> str:
    """Read a UTF-8 text file, with a clear InputError (in Arabic, naming the file) for every way it can be
    unusable."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: لا يوجد ملف بهذا الاسم" + _url_hint(str(path)))
    if path.is_dir():
        raise InputError(f"{path}: مجلد، لا ملف نصي")
    try:
        with open(path, "rb") as handle:
            return read_limited(handle, str(path), max_chars=max_chars)
    except OSError as exc:
        raise InputError(f"{path}: تعذرت قراءته ({exc.strerror})") from None


# A web address typed as a file name, or one whose "//" a shell or a path join squeezed to "/" ("https:/www.…"),
# or one without its scheme ("www.…").
_MANGLED_URL = re.compile(r"^(?:(https?):/?(?!/)|(?=www\.))", re.IGNORECASE)


def _url_hint(name: str) -> str:
    """For a missing file whose name is a web address missing a slash or its scheme: how to write it."""
    match = _MANGLED_URL.match(name)
    if not match:
        return ""
    fixed = f"{(match.group(1) or 'https').lower()}://{name[match.end():]}"
    return f"؛ يبدو رابطا ناقصا، فاكتبه كاملا: {fixed}"
