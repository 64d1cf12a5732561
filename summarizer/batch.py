"""`summarizer batch`: feeds, JSON Lines, text files and folders -> one JSON record per article, resumable.

- Feed entries: the linked page is fetched (httpx: timeouts, redirect and size limits, retries with backoff,
  bounded concurrency, a clear User-Agent), its main text extracted (trafilatura), cleaned, summarized.
- An entry with no link, or whose page fails, is summarized from its own text (description / content:encoded);
  the record's `text_source` says which was used.
- One record per article on the page (the pipeline's record, secondary articles marked), or an error record saying
  what failed; one bad item never stops the batch.
- Records are appended a chunk at a time with one write + flush + fsync, so a kill loses at most the chunk in
  flight; a rerun with the same --out skips pages already written (`retry_errors`: except failed ones) and
  repairs a torn last line.
- Feeds are untrusted: each host is resolved once, checked, and connected to at the checked address; loopback and
  private addresses are refused unless allow_private is set, link-local unless allow_link_local is. Each page has
  one deadline for the whole fetch.
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

from .article import content_id
from .corpora import FEED_SUFFIXES, detect_format, read_corpus, read_jsonl
from .engines import Engine
from .errors import InputError
from .generation import GenerationSettings
from .pipeline import read_page_file

USER_AGENT = "summarizer/0.1 (Arabic news summarization; +https://example.invalid/summarizer)"
MAX_PAGE_BYTES = 3_000_000
MAX_REDIRECTS = 5
RETRIES = 2


@dataclass
class BatchSettings:
    """How a batch job fetches and resumes (flags of `summarizer batch`, generated from these fields)."""

    allow_private: bool = False
    """Allow fetching loopback and private addresses."""
    allow_link_local: bool = False
    """Allow fetching link-local addresses (169.254.0.0/16, where cloud metadata lives)."""
    concurrency: int = 4
    """Concurrent page fetches."""
    timeout: float = 15.0
    """Seconds for each page: the whole fetch, retries included."""
    retry_errors: bool = False
    """Redo pages whose earlier records are errors (a plain rerun counts them as done)."""
    workers: int = 1
    """Ray actors (with --ray), each with its own engine."""
    num_gpus: float = 0.0
    """GPUs per Ray actor (with --ray)."""

    def problems(self) -> list[str]:
        errors = []
        for name in ("concurrency", "workers"):
            if getattr(self, name) < 1:
                errors.append(f"{name} must be >= 1")
        if self.timeout <= 0:
            errors.append("timeout must be > 0")
        if self.num_gpus < 0:
            errors.append("num_gpus must be >= 0")
        return errors

    def fetcher_options(self) -> dict:
        return {"allow_private": self.allow_private, "allow_link_local": self.allow_link_local,
                "timeout": self.timeout, "concurrency": self.concurrency}


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
    feed_text: str | None = None
    """The feed entry's own text (description / content:encoded), used when there is no page to fetch."""
    text_source: str | None = None
    warnings: list[str] = field(default_factory=list)


class FetchError(Exception):
    pass


# --- safety --------------------------------------------------------------------------------------------------
def _blocked(address, *, allow_private: bool, allow_link_local: bool) -> str | None:
    """Why an address may not be fetched, or None. Link-local (169.254.0.0/16: cloud metadata) stays blocked even
    with allow_private unless asked for by name (allow_link_local)."""
    if address.is_link_local:
        return None if allow_link_local else "link-local"
    if allow_private:
        return None
    if (address.is_private or address.is_loopback or address.is_reserved or address.is_multicast
            or address.is_unspecified):
        return "non-public"
    return None


def resolve_checked(host: str, port: int, *, allow_private: bool, allow_link_local: bool = False,
                    resolver=socket.getaddrinfo) -> str:
    """The address to connect to: `host` is resolved once, every address it gives is checked, and the caller
    connects to the checked address itself (a second lookup could answer differently: DNS rebinding)."""
    try:
        infos = resolver(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host}: {exc.strerror}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise FetchError(f"cannot resolve {host}: no addresses")
    for address in addresses:
        reason = _blocked(address, allow_private=allow_private, allow_link_local=allow_link_local)
        if reason:
            hint = "--allow-link-local" if reason == "link-local" else "--allow-private"
            raise Refused(f"refused: {host} resolves to a {reason} address ({address}); pass {hint} to allow it")
    return str(addresses[0])


class PinnedTransport:
    """An httpx transport that resolves and checks each request's host itself, then connects to that very
    address (Host header and TLS server name keep the host name). Redirects pass through here hop by hop."""

    def __init__(self, inner, *, allow_private: bool, allow_link_local: bool, resolver=socket.getaddrinfo):
        self.inner = inner
        self.allow_private, self.allow_link_local = allow_private, allow_link_local
        self.resolver = resolver

    async def handle_async_request(self, request):
        url = request.url
        if url.scheme not in ("http", "https") or not url.host:
            raise Refused(f"refused: not an http(s) URL: {url}")
        host = url.host
        try:
            ipaddress.ip_address(host)
            literal = True
        except ValueError:
            literal = False
        address = await asyncio.to_thread(resolve_checked, host, url.port or (443 if url.scheme == "https" else 80),
                                          allow_private=self.allow_private, allow_link_local=self.allow_link_local,
                                          resolver=self.resolver)
        if not literal:
            request.url = url.copy_with(host=address)
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


# --- fetching ------------------------------------------------------------------------------------------------
class Fetcher:
    def __init__(self, *, allow_private: bool, timeout: float, concurrency: int, max_bytes: int = MAX_PAGE_BYTES,
                 allow_link_local: bool = False, transport=None, resolver=socket.getaddrinfo):
        import httpx

        self.max_bytes = max_bytes
        self.deadline = timeout  # for the whole page: connect, headers and every byte of the body
        self.slots = asyncio.Semaphore(concurrency)
        inner = transport or httpx.AsyncHTTPTransport(trust_env=False)
        pinned = PinnedTransport(inner, allow_private=allow_private, allow_link_local=allow_link_local,
                                 resolver=resolver)
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=True,
                                        max_redirects=MAX_REDIRECTS, headers={"User-Agent": USER_AGENT},
                                        transport=pinned, trust_env=False)

    async def get(self, url: str, *, html_only: bool) -> tuple[bytes, str]:
        """Body and content type within one deadline for the whole page, retries included (a server trickling
        bytes cannot hold a fetch past it). Timeouts, connection errors and 5xx are retried with backoff; a
        refusal (a blocked address, a 4xx) is final."""
        try:
            return await asyncio.wait_for(self._get_with_retries(url, html_only=html_only), self.deadline)
        except asyncio.TimeoutError:
            raise FetchError(f"timeout fetching {url} (over {self.deadline:g} s for the page)") from None

    async def _get_with_retries(self, url: str, *, html_only: bool) -> tuple[bytes, str]:
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
            declared = response.headers.get("content-length") or "0"
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchError(f"page too large ({int(declared):,} bytes > {self.max_bytes:,}): {url}")
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


class Refused(FetchError):
    """A fetch this tool will not make (a blocked address, a non-http URL): final, never retried."""


def extract_text(html: bytes, url: str) -> str:
    """Main text of a page; raises FetchError when nothing article-like is found."""
    from .clean import html_to_text

    try:
        return html_to_text(html, url)
    except InputError as exc:
        raise FetchError(f"extraction failed: {exc}") from None


# --- inputs --------------------------------------------------------------------------------------------------
def _is_url(name: str) -> bool:
    return name.startswith(("http://", "https://"))


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
        fetchable = bool(link and _is_url(link))
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
                items.append(Item(id=f"{path}:{problem.line}", source=str(path), error=str(problem)))
            else:
                items.append(Item(id=article.url or article.id, source=str(path), url=article.url,
                                  title=article.title, text=article.text))
        return items
    if kind == "feed":
        with open(path, "rb") as handle:
            return items_from_feed(handle.read(MAX_PAGE_BYTES + 1)[:MAX_PAGE_BYTES], str(path))
    if kind == "text":
        text = read_page_file(path)
        return [Item(id=f"{path.stem}-{content_id(text)}", source=str(path), text=text)]
    return [Item(id=a.url or a.id, source=str(path), url=a.url, title=a.title, text=a.text)  # tsv, ant, saudinewsnet
            for a in read_corpus(path, fmt=kind)]


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
    """Fetch each linked page; when it fails and the feed entry has text of its own, use that and say so."""
    async def one(item: Item) -> None:
        started = time.perf_counter()
        try:
            html, ctype = await fetcher.get(item.url, html_only=True)
            item.text = html.decode("utf-8", errors="replace") if ctype == "text/plain" else extract_text(html, item.url)
            item.text_source = "page"
        except FetchError as exc:
            if item.feed_text:
                item.text, item.text_source = item.feed_text, "feed"
                item.warnings.append(f"تعذّر استخدام الصفحة ({exc})؛ لُخّص نص المدخل في الخلاصة نفسه (feed entry's own text)")
            else:
                item.error = str(exc)
        item.timings["fetch"] = round(time.perf_counter() - started, 3)

    await asyncio.gather(*(one(item) for item in items if item.text is None and item.error is None and item.url))


# --- output --------------------------------------------------------------------------------------------------
def read_done_ids(out: Path, *, retry_errors: bool = False) -> set[str]:
    """Ids already written (with retry_errors: only those with an ok record). A torn last line (a kill
    mid-write) is cut off so appends stay well-formed."""
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
            record = json.loads(line)
            if retry_errors and record.get("status") == "error":
                continue
            done.add(record.get("page") or record["id"])
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
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
    """Records for a chunk of items: every article of every page, through the one pipeline; an item that could
    not be fetched or cleaned is one error record."""
    from .pipeline import summarize_pages
    from .record import ArticleResult

    records = []
    ready = [item for item in items if item.error is None and item.text is not None]
    for item in items:
        if item not in ready:
            records.append(ArticleResult.failed(item.id, item.error or "no text", page=item.id, url=item.url,
                                                title=item.title, timings=item.timings).to_dict())
    pages = summarize_pages([(item.id, item.text) for item in ready], engine, settings)
    for item, page in zip(ready, pages):
        for record in page.articles:
            record.page, record.url = item.id, item.url
            record.title = record.title or (item.title if not record.secondary else None)
            record.text_source = item.text_source
            record.timings = {**item.timings, **record.timings}
            record.warnings = item.warnings + record.warnings
            records.append(record.to_dict())
    return records


def run_batch(inputs: list[str], *, out: str | Path, engine: Engine, settings: GenerationSettings,
              allow_private: bool = False, allow_link_local: bool = False, concurrency: int = 4,
              timeout: float = 15.0, max_bytes: int = MAX_PAGE_BYTES, chunk_size: int | None = None,
              progress: bool = True, retry_errors: bool = False) -> int:
    """Run the batch; returns the exit code (1 only when nothing could be done)."""
    fetcher_options = dict(allow_private=allow_private, allow_link_local=allow_link_local, timeout=timeout,
                           concurrency=concurrency, max_bytes=max_bytes)
    return asyncio.run(_run(inputs, Path(out), engine, settings, fetcher_options,
                            chunk_size or max(8, settings.batch_size * 2), progress, retry_errors))


async def _run(inputs, out, engine, settings, fetcher_options, chunk_size, progress, retry_errors):
    from tqdm.auto import tqdm

    out.parent.mkdir(parents=True, exist_ok=True)
    done_ids = read_done_ids(out, retry_errors=retry_errors)
    fetcher = Fetcher(**fetcher_options)
    counts = {"done": 0, "failed": 0, "skipped": 0}
    started = time.perf_counter()
    try:
        items = await gather_items(inputs, fetcher)
        pending = [item for item in items if item.id not in done_ids]
        counts["skipped"] = len(items) - len(pending)
        bar = tqdm(total=len(pending), desc="batch", disable=not progress, unit="page")
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
