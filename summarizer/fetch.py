"""The safe fetcher: pages and feeds from untrusted URLs (batch feeds today; any URL the tool is handed).

- Each host is resolved once, every address it gives is checked against ADDRESS_POLICY, and the connection goes to
  the checked address itself (a second lookup could answer differently: DNS rebinding). Redirects are checked hop
  by hop the same way.
- An IPv6 address that carries an IPv4 one (IPv4-mapped, NAT64-translated, 6to4, Teredo) is judged by the IPv4
  address it carries: that is the host its packets reach.
- Each page has one deadline for the whole fetch (connect, headers, every byte), a size cap and a clear
  User-Agent; timeouts, connection errors and 5xx are retried with backoff, a refusal never.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Annotated

from .errors import InputError, SummarizerError
from .settings import Range

USER_AGENT = "summarizer/0.1 (Arabic news summarization; +https://example.invalid/summarizer)"
MAX_PAGE_BYTES = 3_000_000
MAX_REDIRECTS = 5
RETRIES = 2


class FetchError(SummarizerError):
    """A page or feed that could not be fetched; `kind` is a short code for counting failures (never the text)."""

    def __init__(self, message: str, kind: str = "network"):
        super().__init__(message)
        self.kind = kind


class Refused(FetchError):
    """A fetch this tool will not make (a blocked address, a non-http URL): final, never retried."""

    def __init__(self, message: str, kind: str = "refused"):
        super().__init__(message, kind=kind)


@dataclass
class FetchSettings:
    """How a page is fetched from a URL the tool is handed (`summarize URL`, the API's `url`, batch feeds): which
    address classes are opened (ADDRESS_POLICY) and the deadline. Flags of `summarize`, `batch` and `serve`."""

    allow_private: bool = False
    """Allow fetching loopback and private addresses (not link-local, not shared: see their own flags)."""
    allow_link_local: bool = False
    """Allow fetching link-local addresses (169.254.0.0/16, fe80::/10: where cloud metadata lives)."""
    allow_shared: bool = False
    """Allow fetching the shared address space 100.64.0.0/10 (carrier-grade NAT; one cloud's metadata service)."""
    timeout: Annotated[float, Range(0.1, 600.0)] = 15.0
    """Seconds for each page fetched from a URL: the whole fetch, retries included (at most 10 minutes: a server
    worker waits that long at most)."""

    def problems(self) -> list[str]:
        return []  # the timeout's range is checked by the settings layer; subclasses add their own problems

    def fetcher_options(self) -> dict:
        """Fetcher's keyword arguments for these settings."""
        return {"allow_private": self.allow_private, "allow_link_local": self.allow_link_local,
                "allow_shared": self.allow_shared, "timeout": self.timeout}


# --- the address policy --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AddressClass:
    name: str
    networks: tuple[str, ...]
    flag: str | None
    """The fetcher option that opens this class; None: never fetched."""

    @property
    def flag_name(self) -> str | None:
        return "--" + self.flag.replace("_", "-") if self.flag else None


ADDRESS_POLICY = (
    AddressClass("loopback", ("127.0.0.0/8", "::1/128"), "allow_private"),
    AddressClass("private", ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"), "allow_private"),
    # Carrier-grade NAT space, and where one cloud serves instance metadata (100.100.100.200): not "private".
    AddressClass("shared address space", ("100.64.0.0/10",), "allow_shared"),
    AddressClass("link-local", ("169.254.0.0/16", "fe80::/10"), "allow_link_local"),  # cloud metadata, 169.254.169.254
    AddressClass("multicast", ("224.0.0.0/4", "ff00::/8"), None),
    AddressClass("unspecified", ("0.0.0.0/8", "::/128"), None),  # 0.0.0.0 reaches the local host
    AddressClass("reserved or broadcast", ("240.0.0.0/4", "fec0::/10"), None),  # 255.255.255.255 included
    AddressClass("documentation", ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32",
                                   "3fff::/20"), None),
)
"""Every class of address the fetcher refuses, and the one flag (if any) that opens it. Anything else that is not
globally routable (benchmarking, IETF protocol ranges, …) is refused too, with no flag."""
NOT_GLOBAL = AddressClass("non-global", (), None)


def _rfc6052(address: ipaddress.IPv6Address, prefix_len: int) -> ipaddress.IPv4Address:
    """The IPv4 address a NAT64 address carries after a prefix of `prefix_len` bits (RFC 6052: bits 64-71 are
    skipped)."""
    positions = [i for i in range(prefix_len // 8, 16) if i != 8][:4]
    return ipaddress.IPv4Address(bytes(address.packed[i] for i in positions))


EMBEDDED_IPV4 = (
    ("IPv4-mapped", "::ffff:0:0/96", lambda a: [a.ipv4_mapped]),
    ("IPv4-translated (NAT64)", "64:ff9b::/96", lambda a: [_rfc6052(a, 96)]),
    # A local NAT64 prefix may be any RFC 6052 length inside the /48: every position it could mean is checked.
    ("IPv4-translated (local NAT64)", "64:ff9b:1::/48", lambda a: [_rfc6052(a, n) for n in (48, 56, 64, 96)]),
    ("6to4", "2002::/16", lambda a: [a.sixtofour]),
    ("Teredo", "2001::/32", lambda a: list(a.teredo)),  # (server, client): both are reached
)
"""IPv6 forms that carry an IPv4 address: (name, prefix, the IPv4 addresses inside). Judged by those."""

_CLASSES = [(entry, [ipaddress.ip_network(n) for n in entry.networks]) for entry in ADDRESS_POLICY]
_EMBEDDINGS = [(name, ipaddress.ip_network(prefix), inside) for name, prefix, inside in EMBEDDED_IPV4]


def carried(address) -> tuple[str | None, list]:
    """(the IPv6 form's name, the IPv4 addresses it carries) for an address that carries some, else (None,
    [address]): the addresses whose class decides."""
    for name, prefix, inside in _EMBEDDINGS:
        if address.version == 6 and address in prefix:
            return name, inside(address)
    return None, [address]


def address_class(address) -> AddressClass | None:
    """The policy class of one address (None for a public one), without looking inside IPv6 forms."""
    for entry, networks in _CLASSES:
        if any(address in network for network in networks):
            return entry
    return None if address.is_global else NOT_GLOBAL


@dataclass(frozen=True)
class AddressPolicy:
    """Which classes the caller opened (each flag opens only the class that names it)."""

    allow_private: bool = False
    allow_link_local: bool = False
    allow_shared: bool = False

    def refusal(self, host: str, address) -> str | None:
        """Why `address` (which `host` resolved to) may not be fetched, or None. An address carrying IPv4 ones is
        refused when any of them is."""
        form, deciding = carried(address)
        for target in deciding:
            entry = address_class(target)
            if entry is None or (entry.flag and getattr(self, entry.flag)):
                continue
            shown = f"{target} inside the {form} address {address}" if form else str(address)
            hint = f"pass {entry.flag_name} to allow it" if entry.flag else "never fetched"
            return f"refused: {host} resolves to a {entry.name} address ({shown}); {hint}"
        return None


def resolve_checked(host: str, port: int, *, policy: AddressPolicy, resolver=socket.getaddrinfo) -> str:
    """The address to connect to: `host` is resolved once, every address it gives is checked, and the caller
    connects to the checked address itself."""
    try:
        infos = resolver(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host}: {exc.strerror}", kind="dns") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise FetchError(f"cannot resolve {host}: no addresses", kind="dns")
    for address in addresses:
        reason = policy.refusal(host, address)
        if reason:
            raise Refused(reason)
    return str(addresses[0])


class PinnedTransport:
    """An httpx transport that resolves and checks each request's host itself, then connects to that very
    address (Host header and TLS server name keep the host name). Redirects pass through here hop by hop."""

    def __init__(self, inner, *, policy: AddressPolicy, resolver=socket.getaddrinfo):
        self.inner, self.policy, self.resolver = inner, policy, resolver

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
                                          policy=self.policy, resolver=self.resolver)
        if not literal:
            request.url = url.copy_with(host=address)
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


# --- fetching ------------------------------------------------------------------------------------------------
class Fetcher:
    def __init__(self, *, timeout: float, concurrency: int, allow_private: bool = False,
                 allow_link_local: bool = False, allow_shared: bool = False, max_bytes: int = MAX_PAGE_BYTES,
                 transport=None, resolver=socket.getaddrinfo):
        import httpx

        self.max_bytes = max_bytes
        self.deadline = timeout  # for the whole page: connect, headers and every byte of the body
        self.slots = asyncio.Semaphore(concurrency)
        inner = transport or httpx.AsyncHTTPTransport(trust_env=False)
        policy = AddressPolicy(allow_private=allow_private, allow_link_local=allow_link_local,
                               allow_shared=allow_shared)
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=True,
                                        max_redirects=MAX_REDIRECTS, headers={"User-Agent": USER_AGENT},
                                        transport=PinnedTransport(inner, policy=policy, resolver=resolver),
                                        trust_env=False)

    async def get(self, url: str, *, html_only: bool) -> tuple[bytes, str]:
        """Body and content type within one deadline for the whole page, retries included (a server trickling
        bytes cannot hold a fetch past it). Timeouts, connection errors and 5xx are retried with backoff; a
        refusal (a blocked address, a 4xx) is final."""
        try:
            return await asyncio.wait_for(self._get_with_retries(url, html_only=html_only), self.deadline)
        except asyncio.TimeoutError:
            raise FetchError(f"timeout fetching {url} (over {self.deadline:g} s for the page)",
                             kind="timeout") from None

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
                        raise FetchError(f"timeout fetching {url}", kind="timeout") from None
                    kind = "http-status" if isinstance(exc, _Retryable) else "network"
                    raise FetchError(f"{exc} ({url})" if str(exc) else f"{type(exc).__name__} fetching {url}",
                                     kind=kind) from None
                await asyncio.sleep(delay)
                delay *= 2
            except httpx.TooManyRedirects:
                raise FetchError(f"more than {MAX_REDIRECTS} redirects fetching {url}", kind="redirects") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{type(exc).__name__} fetching {url}: {exc}") from None

    async def _get_once(self, url: str, *, html_only: bool) -> tuple[bytes, str]:
        async with self.client.stream("GET", url) as response:
            if response.status_code >= 500:
                raise _Retryable(f"HTTP {response.status_code}")
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code} fetching {url}", kind="http-status")
            ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if html_only and ctype and ctype not in ("text/html", "application/xhtml+xml", "text/plain"):
                raise FetchError(f"not an HTML page ({ctype}): {url}", kind="not-html")
            declared = response.headers.get("content-length") or "0"
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchError(f"page too large ({int(declared):,} bytes > {self.max_bytes:,}): {url}",
                                 kind="too-large")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise FetchError(f"page too large (over {self.max_bytes:,} bytes): {url}", kind="too-large")
            return bytes(body), ctype

    async def close(self) -> None:
        await self.client.aclose()


class _Retryable(Exception):
    pass


def extract_text(html: bytes, url: str) -> str:
    """Main text of a page; raises FetchError when nothing article-like is found."""
    from .clean import html_to_text

    try:
        return html_to_text(html, url)
    except InputError as exc:
        raise FetchError(str(exc), kind="no-article") from None


def page_text(body: bytes, content_type: str, url: str) -> str:
    """The text of a fetched page: a text/plain body as it is, else the HTML's main text."""
    return body.decode("utf-8", errors="replace") if content_type == "text/plain" else extract_text(body, url)


MAX_URL_CHARS = 2048
_URL = re.compile(r"https?://[^\s<>\"'`{}|\\^\x00-\x1f\x7f]+", re.IGNORECASE)
"""An http(s) address: no spaces, quotes or markup (a browser percent-encodes them), so that a message may name it."""


def is_url(text: str) -> bool:
    """Whether `text` is meant as a web address (http:// or https://), checked or not."""
    return text[:8].lower().startswith(("http://", "https://"))


def check_url(url) -> str:
    """`url` itself when it is an http(s) address of at most MAX_URL_CHARS with no spaces or markup; Refused, never
    quoting it, otherwise."""
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS or not _URL.fullmatch(url):
        raise Refused(f"refused: url must be an http:// or https:// address of at most {MAX_URL_CHARS:,} characters, "
                      "without spaces, quotes or markup", kind="bad-url")
    return url


async def fetch_page_async(url: str, settings: FetchSettings | None = None, **fetcher_options) -> str:
    """One page's text from `url`, by the rules of every fetch (address policy, one deadline, size cap); Refused
    or FetchError saying why not. `fetcher_options` go to Fetcher (a test's transport or resolver)."""
    check_url(url)
    fetcher = Fetcher(concurrency=1, **{**(settings or FetchSettings()).fetcher_options(), **fetcher_options})
    try:
        body, content_type = await fetcher.get(url, html_only=True)
    finally:
        await fetcher.close()
    return page_text(body, content_type, url)


def fetch_page(url: str, settings: FetchSettings | None = None) -> str:
    """fetch_page_async for synchronous callers (the CLI, the web demo's handlers), on an event loop of its own."""
    return asyncio.run(fetch_page_async(url, settings))
