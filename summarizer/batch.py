"""`summarizer batch`: feeds, JSON Lines, text files and folders -> one JSON record per article, resumable.

- Feed entries: the linked page is fetched by the safe fetcher (`summarizer.fetch`: address policy, one deadline
  per page, size cap), its main text extracted (trafilatura), cleaned, summarized.
- An entry with no link, or whose page fails, is summarized from its own text (description / content:encoded);
  the record's `text_source` says which was used.
- One record per article on the page (the pipeline's record, secondary articles marked), or an error record saying
  what failed, with a short `error_kind`; one bad item never stops the batch.
- Items keep their own ids (a JSON Lines item's `id` wins over its url); the very same item twice is read once, a
  different item under a used id becomes `ID~2`, `ID~3`, ...; the summary line says how many of each.
- Bookkeeping is by record: each record carries `page_records`, and a page counts as done only when all its
  records are in the output, so a rerun after a kill or a full disk writes exactly the missing ones. Reading back,
  the newest record per (page, id) wins (`read_results`): `--retry-errors` appends new records for failed pages,
  and an error that is the same as the one already written is not appended again.
- Records are appended a chunk at a time with one unbuffered write + fsync; a failed write is cut back off, so the
  output holds whole lines only; a torn last line (a kill mid-write) is cut off on the next run. An output that
  cannot take appends is refused before anything is read or summarized; a write that fails mid-run stops the run
  with one line.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .article import content_id
from .corpora import FEED_SUFFIXES, LineError, detect_format, read_corpus, read_jsonl, read_lines
from .engines import Engine
from .errors import InputError, SummarizerError
from .fetch import MAX_PAGE_BYTES, Fetcher, FetchError, FetchSettings, is_url, page_text
from .generation import GenerationSettings
from .pipeline import read_page_file


@dataclass
class BatchSettings(FetchSettings):
    """How a batch job fetches and resumes (flags of `summarizer batch`, generated from these fields and those of
    FetchSettings)."""

    concurrency: int = 4
    """Concurrent page fetches."""
    retry_errors: bool = False
    """Redo pages whose newest records are errors; reading back, the newest record per id wins (a plain rerun counts
    errors as done)."""
    workers: int = 1
    """Ray actors (with --ray), each with its own engine."""
    num_gpus: float = 0.0
    """GPUs per Ray actor (with --ray)."""

    def problems(self) -> list[str]:
        errors = super().problems()
        for name in ("concurrency", "workers"):
            if getattr(self, name) < 1:
                errors.append(f"{name} must be >= 1")
        if self.num_gpus < 0:
            errors.append("num_gpus must be >= 0")
        return errors

    def fetcher_options(self) -> dict:
        return {**super().fetcher_options(), "concurrency": self.concurrency}


@dataclass
class Item:
    """One thing to summarize: text we already have, or a URL still to fetch."""

    id: str
    source: str
    url: str | None = None
    title: str | None = None
    text: str | None = None
    error: str | None = None
    error_kind: str | None = None
    timings: dict = field(default_factory=dict)
    feed_text: str | None = None
    """The feed entry's own text (description / content:encoded), used when there is no page to fetch."""
    text_source: str | None = None
    warnings: list[str] = field(default_factory=list)


class OutputError(SummarizerError):
    """The results file cannot take records: the run stops with this one line (nothing half-written is left)."""


# --- inputs --------------------------------------------------------------------------------------------------
def _entry_text(entry) -> str | None:
    """The entry's own text (content:encoded, else description/summary), markup removed, when it has any."""
    from .clean import html_to_text, looks_like_html

    parts = [c.get("value", "") for c in entry.get("content") or [] if isinstance(c, dict)]
    raw = max(parts, key=len) if parts else entry.get("summary") or entry.get("description") or ""
    if not isinstance(raw, str) or not raw.strip():
        return None
    if looks_like_html(raw) or "<" in raw:
        try:
            raw = html_to_text(f"<html><body>{raw}</body></html>")
        except InputError:
            return None
    return raw.strip() or None


def items_from_feed(data: bytes, source: str) -> list[Item]:
    """One item per entry: its link to fetch, and its own text to use when there is no link or the page fails."""
    import feedparser

    feed = feedparser.parse(data)
    items = []
    for entry in feed.entries:
        link, text = entry.get("link"), _entry_text(entry)
        if not link and not text:
            continue
        entry_id = link or entry.get("id") or f"{source}#{content_id(text)}"
        fetchable = bool(link and is_url(link))
        items.append(Item(id=entry_id, source=source, url=link if fetchable else None, title=entry.get("title"),
                          text=None if fetchable else text, feed_text=text,
                          text_source=None if fetchable else "feed"))
    if not items:
        reason = getattr(feed, "bozo_exception", None) or "no entries with a link or text"
        raise InputError(f"not a readable RSS/Atom feed ({reason}): {source}")
    return items


def items_from_path(path: Path) -> list[Item]:
    """Items from a file or folder, whatever its input type (corpora.detect_format decides, as everywhere)."""
    kind = detect_format(path)
    if path.is_dir() and kind == "text":
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".txt", ".jsonl", ".tsv",
                                                                                          *FEED_SUFFIXES))
        return [item for f in files for item in items_from_path(f)]
    if kind == "jsonl":
        items = []
        for article, problem in read_jsonl(path, errors="collect"):
            if problem is not None:  # one bad line costs only itself
                items.append(Item(id=f"{path}:{problem.line}", source=str(path), error=str(problem),
                                  error_kind="bad-line"))
            else:
                items.append(_item(article, path))
        return items
    if kind == "feed":
        with open(path, "rb") as handle:
            return items_from_feed(handle.read(MAX_PAGE_BYTES + 1)[:MAX_PAGE_BYTES], str(path))
    if kind == "text":
        text = read_page_file(path)
        return [Item(id=f"{path.stem}-{content_id(text)}", source=str(path), text=text)]
    return [_item(article, path) for article in read_corpus(path, fmt=kind)]  # tsv, ant, saudinewsnet


def _item(article, path: Path) -> Item:
    """An article read from a file: its own id (which wins over its url: see corpora.article_from_json)."""
    return Item(id=article.id, source=str(path), url=article.url, title=article.title, text=article.text)


@dataclass
class Gathered:
    items: list[Item]
    renamed: list[str] = field(default_factory=list)
    """Ids given to items that arrived under an id already used (`ID~2`, ...)."""
    repeats: int = 0
    """Items read twice (same id, same content): summarized once."""


def keep_apart(items: list[Item]) -> Gathered:
    """One id per item: the very same item again (same id, same page to fetch or same text) is dropped and
    counted; a different item under a used id gets the next free `ID~N` (the same on every rerun of the inputs)."""
    out = Gathered([])
    used: set[str] = set()
    seen: set[tuple] = set()
    for item in items:
        identity = (item.id, item.url if item.text is None else None, item.text, item.error)
        if identity in seen:
            out.repeats += 1
            continue
        seen.add(identity)
        if item.id in used:
            n = 2
            while f"{item.id}~{n}" in used:
                n += 1
            item.id = f"{item.id}~{n}"
            out.renamed.append(item.id)
        used.add(item.id)
        out.items.append(item)
    return out


async def gather_items(inputs: list[str], fetcher: Fetcher) -> Gathered:
    """Items from every input, kept apart by id; unusable inputs become error items."""
    items: list[Item] = []
    for name in inputs:
        try:
            if is_url(name):
                data, _ = await fetcher.get(name, html_only=False)
                items += items_from_feed(data, name)
            else:
                path = Path(name)
                if not path.exists():
                    raise InputError(f"{name}: no such file or directory")
                items += items_from_path(path)
        except FetchError as exc:
            items.append(Item(id=name, source=name, url=name, error=str(exc), error_kind=exc.kind))
        except (InputError, OSError) as exc:
            error = str(exc) if isinstance(exc, InputError) else f"{name}: cannot be read ({exc.strerror or exc})"
            items.append(Item(id=name, source=name, url=name if is_url(name) else None, error=error,
                              error_kind="unreadable-input"))
    return keep_apart(items)


async def fetch_pages(items: list[Item], fetcher: Fetcher) -> None:
    """Fetch each linked page; when it fails and the feed entry has text of its own, use that and say so."""
    async def one(item: Item) -> None:
        started = time.perf_counter()
        try:
            body, content_type = await fetcher.get(item.url, html_only=True)
            item.text = page_text(body, content_type, item.url)
            item.text_source = "page"
        except FetchError as exc:
            if item.feed_text:
                item.text, item.text_source = item.feed_text, "feed"
                item.warnings.append(f"تعذّر استخدام الصفحة ({exc})؛ لُخّص نص المدخل في الخلاصة نفسه (feed entry's own text)")
            else:
                item.error, item.error_kind = str(exc), exc.kind
        item.timings["fetch"] = round(time.perf_counter() - started, 3)

    await asyncio.gather(*(one(item) for item in items if item.text is None and item.error is None and item.url))


def summarize_chunk(items: list[Item], engine: Engine, settings: GenerationSettings) -> list[dict]:
    """Records for a chunk of items: every article of every page, through the one pipeline; an item that could
    not be fetched or cleaned is one error record. Each record says how many records its page gave."""
    from .pipeline import summarize_pages
    from .record import ArticleResult

    records = []
    ready = [item for item in items if item.error is None and item.text is not None]
    for item in items:
        if item not in ready:
            records.append(ArticleResult.failed(item.id, item.error or "no text", page=item.id, url=item.url,
                                                title=item.title, timings=item.timings, page_records=1,
                                                error_kind=item.error_kind or "no-text").to_dict())
    pages = summarize_pages([(item.id, item.text) for item in ready], engine, settings)
    for item, page in zip(ready, pages):
        for record in page.articles:
            record.page, record.url = item.id, item.url
            record.title = record.title or (item.title if not record.secondary else None)
            record.text_source = item.text_source
            record.timings = {**item.timings, **record.timings}
            record.warnings = item.warnings + record.warnings
            record.page_records = len(page.articles)
            if record.status == "error":
                record.error_kind = "unusable-text"  # the page was fetched or read, but cleaning refused it
            records.append(record.to_dict())
    return records


# --- output --------------------------------------------------------------------------------------------------
@dataclass
class PageState:
    """One page as the output holds it: the newest outcome of each of its records, and how many it should have."""

    expected: int | None = None
    """None for records written before `page_records` existed: such a page counts as complete."""
    outcomes: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)
    """Record id -> (status, error_kind, error) of its newest record."""

    def complete(self) -> bool:
        return self.expected is None or len(self.outcomes) >= self.expected

    def failures(self) -> list[tuple[str, str | None, str | None]]:
        """(record id, error kind, error) of each record whose newest outcome is an error."""
        return [(rid, kind, error) for rid, (status, kind, error) in self.outcomes.items() if status != "ok"]


def check_output(out: Path, *, folder: bool = False) -> None:
    """Refuse up front, in one line, an output that cannot take appends (a folder where a file is wanted, a device,
    /proc, a read-only filesystem), before any input is read or any page summarized."""
    try:
        if folder:
            out.mkdir(parents=True, exist_ok=True)
            probe = out / f".write-probe-{os.getpid()}"
            probe.touch()
            probe.unlink()
            return
        if out.is_dir():
            raise OutputError(f"--out {out} is a folder; give a .jsonl file (or use --ray with a folder/)")
        if out.exists() and not stat.S_ISREG(out.stat().st_mode):
            raise OutputError(f"--out {out} is not a regular file (a device, pipe or socket cannot hold results)")
        out.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.lseek(descriptor, 0, os.SEEK_END)  # what every append does; /proc files refuse it
        finally:
            os.close(descriptor)
    except OSError as exc:
        raise OutputError(f"cannot write results to {out}: {exc.strerror or exc}") from None


def _cut_torn_tail(out: Path) -> None:
    """Cut a last line without its newline (a kill mid-write), reading backwards from the end in bounded memory."""
    with open(out, "r+b") as handle:
        end = position = handle.seek(0, os.SEEK_END)
        good_end = 0
        while position > 0:
            step = min(1 << 16, position)
            position -= step
            handle.seek(position)
            newline = handle.read(step).rfind(b"\n")
            if newline >= 0:
                good_end = position + newline + 1
                break
        if good_end < end:
            handle.truncate(good_end)


def _output_records(out: Path):
    """Each well-formed record of an output file, oldest first, read a line at a time (lines over the cap and
    anything not a record are passed over)."""
    with open(out, "rb") as handle:
        try:
            for _, raw in read_lines(handle, out):
                try:
                    record = json.loads(raw) if raw else None
                except (json.JSONDecodeError, UnicodeDecodeError):
                    continue
                if isinstance(record, dict) and isinstance(record.get("id"), str):
                    yield record
        except LineError:  # binary junk (a crash can leave NUL blocks): no records past it
            return


def read_written(outs: list[Path]) -> dict[str, PageState]:
    """Page id -> what the outputs (files in write order) hold for it; a torn last line is cut off first."""
    pages: dict[str, PageState] = {}
    for out in outs:
        if not out.exists():
            continue
        try:
            _cut_torn_tail(out)
            for record in _output_records(out):
                state = pages.setdefault(record.get("page") or record["id"], PageState())
                expected = record.get("page_records")
                state.expected = expected if isinstance(expected, int) else state.expected
                state.outcomes[record["id"]] = (record.get("status"), record.get("error_kind"), record.get("error"))
        except OSError as exc:
            raise OutputError(f"cannot read back results in {out}: {exc.strerror or exc}") from None
    return pages


def read_results(out: str | Path) -> list[dict]:
    """The records of a results file as they stand: the newest record per (page, id) wins (after --retry-errors
    an ok record replaces the error it retried), in the order each id was first written."""
    newest: dict[tuple[str, str], dict] = {}
    for record in _output_records(Path(out)):
        newest[(record.get("page") or record["id"], record["id"])] = record
    return list(newest.values())


def is_new(record: dict, written: dict[str, PageState]) -> bool:
    """Whether a record adds anything to the output: its id has no record yet, or only an error that this record
    changes (an ok record, or another error). The same error again is not appended."""
    state = written.get(record.get("page") or record["id"])
    before = state.outcomes.get(record["id"]) if state else None
    if before is None:
        return True
    return before[0] != "ok" and before != (record.get("status"), record.get("error_kind"), record.get("error"))


def append_records(out: Path, records: list[dict]) -> None:
    """All records of a chunk in one unbuffered write, fsynced: whole lines or nothing. A write that fails (a full
    disk) is cut back off the file, and the run stops with an OutputError."""
    if not records:
        return
    payload = memoryview("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8"))
    with open(out, "ab", buffering=0) as handle:
        start = handle.seek(0, os.SEEK_END)
        try:
            while payload:
                payload = payload[handle.write(payload):]
            os.fsync(handle.fileno())
        except OSError as exc:
            try:
                os.ftruncate(handle.fileno(), start)
            except OSError:
                pass  # the next run cuts the torn line off
            raise OutputError(f"cannot write results to {out}: {exc.strerror or exc}") from None


# --- the run -------------------------------------------------------------------------------------------------
EXAMPLE_CHARS = 200


@dataclass
class Tally:
    """What a run did: its summary line, the failures by kind (one example each) and its exit status."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    earlier_failures: int = 0
    renamed: list[str] = field(default_factory=list)
    repeats: int = 0
    kinds: dict[str, list] = field(default_factory=dict)
    """error kind -> [count, first example]"""

    def failure(self, record_id: str, kind: str | None, error: str | None) -> None:
        error = error or ""
        example = error if record_id in error else f"{record_id}: {error}"
        self.kinds.setdefault(kind or "error", [0, example])[0] += 1

    def add(self, record: dict) -> None:
        if record.get("status") == "ok":
            self.done += 1
        else:
            self.failed += 1
            self.failure(record["id"], record.get("error_kind"), record.get("error"))

    def skip(self, state: PageState) -> None:
        self.skipped += 1
        for record_id, kind, error in state.failures():
            self.earlier_failures += 1
            self.failure(record_id, kind, error)

    def report(self, label: str, seconds: float, out) -> str:
        rate = self.done / seconds if seconds else 0.0
        parts = [f"{self.done} summarized", f"{self.failed} failed", f"{self.skipped} already done"
                 + (f" ({self.earlier_failures} failed earlier: --retry-errors redoes them)"
                    if self.earlier_failures else "")]
        if self.renamed:
            shown = ", ".join(self.renamed[:3]) + (", ..." if len(self.renamed) > 3 else "")
            parts.append(f"{len(self.renamed)} repeated id{'s' if len(self.renamed) > 1 else ''} kept apart ({shown})")
        if self.repeats:
            parts.append(f"{self.repeats} repeated item{'s' if self.repeats > 1 else ''} skipped")
        lines = [f"{label}: {', '.join(parts)} in {seconds:.1f} s ({rate:.2f} articles/s) -> {out}"]
        if self.kinds:
            lines.append(f"{label}: failures by kind:")
            for kind, (count, example) in sorted(self.kinds.items(), key=lambda kv: -kv[1][0]):
                example = example if len(example) <= EXAMPLE_CHARS else example[: EXAMPLE_CHARS - 1] + "…"
                lines.append(f"  {kind}: {count} (e.g. {example})")
        return "\n".join(lines)

    def exit_code(self) -> int:
        """1 when any item's newest record is an error, or when there was nothing at all to do; else 0."""
        nothing = self.done == 0 and self.failed == 0 and self.skipped == 0
        return 1 if self.failed or self.earlier_failures or nothing else 0


def plan(gathered: Gathered, written: dict[str, PageState], *, retry_errors: bool) -> tuple[list[Item], Tally]:
    """The items still to do (pages not complete; with retry_errors, also those with an error) and the tally of
    the rest."""
    tally = Tally(renamed=gathered.renamed, repeats=gathered.repeats)
    pending = []
    for item in gathered.items:
        state = written.get(item.id)
        if state and state.complete() and not (retry_errors and state.failures()):
            tally.skip(state)
        else:
            pending.append(item)
    return pending, tally


def write_new(records: list[dict], written: dict[str, PageState], tally: Tally, write) -> None:
    """Append what the output lacks (see is_new) with `write`; every record counts in the tally."""
    write([record for record in records if is_new(record, written)])
    for record in records:
        tally.add(record)


def stopped(out: Path, exc: Exception) -> OutputError:
    """The one line for a write that failed mid-run (OutputError, or an OSError from a writer)."""
    what = str(exc) if isinstance(exc, OutputError) else f"cannot write results to {out}: {exc.strerror or exc}"
    return OutputError(f"{what} (stopped; the records written before are kept whole: rerun the same command to "
                       "complete)")


def run_batch(inputs: list[str], *, out: str | Path, engine: Engine, settings: GenerationSettings,
              chunk_size: int | None = None, progress: bool = True, retry_errors: bool = False,
              **fetcher_options) -> int:
    """Run the batch; returns the exit status (Tally.exit_code). `fetcher_options` go to fetch.Fetcher (defaults:
    BatchSettings). OutputError when the output cannot be written (up front, or mid-run with what was written
    kept whole)."""
    out = Path(out)
    check_output(out)
    options = {**BatchSettings().fetcher_options(), **fetcher_options}
    return asyncio.run(_run(inputs, out, engine, settings, options, chunk_size or max(8, settings.batch_size * 2),
                            progress, retry_errors))


async def _run(inputs, out, engine, settings, fetcher_options, chunk_size, progress, retry_errors):
    from tqdm.auto import tqdm

    started = time.perf_counter()
    written = read_written([out])
    fetcher = Fetcher(**fetcher_options)
    try:
        pending, tally = plan(await gather_items(inputs, fetcher), written, retry_errors=retry_errors)
        bar = tqdm(total=len(pending), desc="batch", disable=not progress, unit="page")
        for start in range(0, len(pending), chunk_size):
            chunk = pending[start : start + chunk_size]
            await fetch_pages(chunk, fetcher)
            records = await asyncio.to_thread(summarize_chunk, chunk, engine, settings)
            try:
                write_new(records, written, tally, lambda rows: append_records(out, rows))
            except OutputError as exc:
                bar.close()
                raise stopped(out, exc) from None
            bar.update(len(chunk))
            bar.set_postfix(done=tally.done, failed=tally.failed, skipped=tally.skipped)
        bar.close()
    finally:
        await fetcher.close()
    print(tally.report("batch", time.perf_counter() - started, out), file=sys.stderr)
    return tally.exit_code()
