"""`summarizer batch`: feeds, JSON Lines, text files and folders -> one JSON record per article, resumable.

- Feed entries: the linked page is fetched (httpx: timeouts, redirect and size limits, retries with backoff,
  bounded concurrency, a clear User-Agent), its main text extracted (trafilatura), cleaned, summarized.
- One record per article, or an error record saying what failed; one bad item never stops the batch.
- Records are appended a chunk at a time with one write + flush + fsync, so a kill loses at most the chunk in
  flight; a rerun with the same --out skips ids already written and repairs a torn last line.
- Feeds are untrusted: loopback, private and link-local addresses are refused unless allow_private is set.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from .article import content_id
from .clean import clean_page
from .corpora import read_jsonl
from .engines import Engine
from .errors import InputError
from .generation import GenerationSettings
from .pipeline import read_page_file

USER_AGENT = "summarizer/0.1 (Arabic news summarization; +https://example.invalid/summarizer)"
MAX_PAGE_BYTES = 3_000_000
MAX_REDIRECTS = 5
RETRIES = 2
FEED_SUFFIXES = (".xml", ".rss", ".atom")


@dataclass
class Item:
    """One thing to summarize: text we already have, or a URL still to fetch."""

    id: str
    source: str
    url: str | None = None
    title: str | None = None
    text: str | None = None
    error: str | None = None
    timings: dict = field(default_factory=dict)


class FetchError(Exception):
    pass


# --- safety --------------------------------------------------------------------------------------------------
def check_public(url: str) -> None:
    """Raise FetchError unless every address the host resolves to is public (feeds are untrusted input)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise FetchError(f"refused: not an http(s) URL: {url}")
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or 80, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {parsed.hostname}: {exc.strerror}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (address.is_private or address.is_loopback or address.is_link_local or address.is_reserved
                or address.is_multicast or address.is_unspecified):
            raise FetchError(f"refused: {parsed.hostname} resolves to a non-public address ({address}); "
                             "pass --allow-private to allow it")


# --- fetching ------------------------------------------------------------------------------------------------
class Fetcher:
    def __init__(self, *, allow_private: bool, timeout: float, concurrency: int, max_bytes: int = MAX_PAGE_BYTES):
        import httpx

        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self.slots = asyncio.Semaphore(concurrency)
        hooks = {"request": [self._check_request]}
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=True,
                                        max_redirects=MAX_REDIRECTS, headers={"User-Agent": USER_AGENT},
                                        event_hooks=hooks)

    async def _check_request(self, request) -> None:
        # Runs for every request, redirects included: a public feed cannot bounce us to a private address.
        if not self.allow_private:
            await asyncio.to_thread(check_public, str(request.url))

    async def get(self, url: str, *, html_only: bool) -> tuple[bytes, str]:
        """Body and content type, with retries and backoff on timeouts, connection errors and 5xx."""
        import httpx

        delay = 0.5
        for attempt in range(RETRIES + 1):
            try:
                async with self.slots:
                    return await self._get_once(url, html_only=html_only)
            except (httpx.TimeoutException, httpx.TransportError, _Retryable) as exc:
                if attempt == RETRIES:
                    if isinstance(exc, httpx.TimeoutException):
                        raise FetchError(f"timeout fetching {url}") from None
                    raise FetchError(f"{exc} ({url})" if str(exc) else f"{type(exc).__name__} fetching {url}") from None
                await asyncio.sleep(delay)
                delay *= 2
            except httpx.TooManyRedirects:
                raise FetchError(f"more than {MAX_REDIRECTS} redirects fetching {url}") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{type(exc).__name__} fetching {url}: {exc}") from None

    async def _get_once(self, url: str, *, html_only: bool) -> tuple[bytes, str]:
        async with self.client.stream("GET", url) as response:
            if response.status_code >= 500:
                raise _Retryable(f"HTTP {response.status_code}")
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code} fetching {url}")
            ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if html_only and ctype and ctype not in ("text/html", "application/xhtml+xml", "text/plain"):
                raise FetchError(f"not an HTML page ({ctype}): {url}")
            declared = int(response.headers.get("content-length") or 0)
            if declared > self.max_bytes:
                raise FetchError(f"page too large ({declared:,} bytes > {self.max_bytes:,}): {url}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise FetchError(f"page too large (over {self.max_bytes:,} bytes): {url}")
            return bytes(body), ctype

    async def close(self) -> None:
        await self.client.aclose()


class _Retryable(Exception):
    pass


def extract_text(html: bytes, url: str) -> str:
    """Main text of a page (trafilatura); raises FetchError when nothing article-like is found."""
    import trafilatura

    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False, favor_recall=True)
    if not text or not text.strip():
        raise FetchError(f"extraction failed: no article text found in {url}")
    return text


# --- inputs --------------------------------------------------------------------------------------------------
def _is_url(name: str) -> bool:
    return name.startswith(("http://", "https://"))


def items_from_feed(data: bytes, source: str) -> list[Item]:
    import feedparser

    feed = feedparser.parse(data)
    items = [Item(id=entry["link"], source=source, url=entry["link"], title=entry.get("title"))
             for entry in feed.entries if entry.get("link")]
    if not items:
        reason = getattr(feed, "bozo_exception", None) or "no entries with links"
        raise InputError(f"not a readable RSS/Atom feed ({reason}): {source}")
    return items


def items_from_path(path: Path) -> list[Item]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".txt", ".jsonl", *FEED_SUFFIXES))
        return [item for f in files for item in items_from_path(f)]
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return [Item(id=a.url or a.id, source=str(path), url=a.url, title=a.title, text=a.text) for a in read_jsonl(path)]
    if suffix in FEED_SUFFIXES:
        return items_from_feed(path.read_bytes(), str(path))
    text = read_page_file(path)
    return [Item(id=f"{path.stem}-{content_id(text)}", source=str(path), text=text)]


async def gather_items(inputs: list[str], fetcher: Fetcher) -> list[Item]:
    """Items from every input, duplicates (same id across feeds) kept once; unusable inputs become error items."""
    items: list[Item] = []
    for name in inputs:
        try:
            if _is_url(name):
                data, _ = await fetcher.get(name, html_only=False)
                items += items_from_feed(data, name)
            else:
                path = Path(name)
                if not path.exists():
                    raise InputError(f"{name}: no such file or directory")
                items += items_from_path(path)
        except (InputError, FetchError) as exc:
            items.append(Item(id=name, source=name, url=name if _is_url(name) else None, error=str(exc)))
    unique: dict[str, Item] = {}
    for item in items:
        unique.setdefault(item.id, item)
    return list(unique.values())


async def fetch_pages(items: list[Item], fetcher: Fetcher) -> None:
    async def one(item: Item) -> None:
        started = time.perf_counter()
        try:
            html, ctype = await fetcher.get(item.url, html_only=True)
            item.text = html.decode("utf-8", errors="replace") if ctype == "text/plain" else extract_text(html, item.url)
        except FetchError as exc:
            item.error = str(exc)
        item.timings["fetch"] = round(time.perf_counter() - started, 3)

    await asyncio.gather(*(one(item) for item in items if item.text is None and item.error is None))


# --- output --------------------------------------------------------------------------------------------------
def read_done_ids(out: Path) -> set[str]:
    """Ids already written; a torn last line (a kill mid-write) is cut off so appends stay well-formed."""
    if not out.exists():
        return set()
    data = out.read_bytes()
    good_end = data.rfind(b"\n") + 1
    if good_end < len(data):
        with open(out, "r+b") as handle:
            handle.truncate(good_end)
    done = set()
    for line in data[:good_end].splitlines():
        try:
            done.add(json.loads(line)["id"])
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return done


def append_records(out: Path, records: list[dict]) -> None:
    """All records of a chunk in one write, flushed and fsynced: whole lines or nothing."""
    if not records:
        return
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    with open(out, "ab") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


def summarize_chunk(items: list[Item], engine: Engine, settings: GenerationSettings) -> list[dict]:
    records, ready = [], []
    for item in items:
        if item.error is None:
            try:
                page = clean_page(item.text or "", page_id=item.id)
                ready.append((item, page.articles[0]))  # a fetched page is about its feed entry: the main article
                continue
            except InputError as exc:
                item.error = str(exc)
        records.append({"id": item.id, "status": "error", "source": item.source, "url": item.url,
                        "title": item.title, "error": item.error, "timings": item.timings})
    ready.sort(key=lambda pair: len(pair[1].text))  # length-sorted batches pad least
    started = time.perf_counter()
    summaries = engine.summarize([a for _, a in ready], settings=settings) if ready else []
    per_item = (time.perf_counter() - started) / max(1, len(ready))
    for (item, article), summary in zip(ready, summaries):
        records.append({"id": item.id, "status": "ok", "source": item.source, "url": item.url,
                        "title": item.title or article.title, "headline": summary.headline, "summary": summary.summary,
                        "engine": summary.engine, "timings": {**item.timings, "summarize": round(per_item, 3)},
                        "warnings": summary.warnings})
    return records


def run_batch(inputs: list[str], *, out: str | Path, engine: Engine, settings: GenerationSettings,
              allow_private: bool = False, concurrency: int = 4, timeout: float = 15.0,
              max_bytes: int = MAX_PAGE_BYTES, chunk_size: int | None = None, progress: bool = True) -> int:
    """Run the batch; returns the exit code (1 only when nothing could be done)."""
    return asyncio.run(_run(inputs, Path(out), engine, settings, allow_private, concurrency, timeout, max_bytes,
                            chunk_size or max(8, settings.batch_size * 2), progress))


async def _run(inputs, out, engine, settings, allow_private, concurrency, timeout, max_bytes, chunk_size, progress):
    from tqdm.auto import tqdm

    out.parent.mkdir(parents=True, exist_ok=True)
    done_ids = read_done_ids(out)
    fetcher = Fetcher(allow_private=allow_private, timeout=timeout, concurrency=concurrency, max_bytes=max_bytes)
    counts = {"done": 0, "failed": 0, "skipped": 0}
    started = time.perf_counter()
    try:
        items = await gather_items(inputs, fetcher)
        pending = [item for item in items if item.id not in done_ids]
        counts["skipped"] = len(items) - len(pending)
        bar = tqdm(total=len(pending), desc="batch", disable=not progress, unit="article")
        for start in range(0, len(pending), chunk_size):
            chunk = pending[start : start + chunk_size]
            await fetch_pages(chunk, fetcher)
            records = await asyncio.to_thread(summarize_chunk, chunk, engine, settings)
            append_records(out, records)
            for record in records:
                counts["done" if record["status"] == "ok" else "failed"] += 1
            bar.update(len(chunk))
            bar.set_postfix(counts)
        bar.close()
    finally:
        await fetcher.close()
    seconds = time.perf_counter() - started
    rate = counts["done"] / seconds if seconds else 0.0
    print(f"batch: {counts['done']} summarized, {counts['failed']} failed, {counts['skipped']} already done "
          f"in {seconds:.1f} s ({rate:.2f} articles/s) -> {out}", file=sys.stderr)
    nothing_done = counts["done"] == 0 and counts["skipped"] == 0
    return 1 if nothing_done else 0

