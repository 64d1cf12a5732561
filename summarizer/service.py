"""What the web demo and the JSON API share: engines loaded once (lazily), request validation, a bounded queue.

Requests are hostile until checked: bodies over the size limit are refused before they are read whole (and a body
that stops arriving is answered within a deadline), validation errors name the field without echoing the input
back, every setting is held to its range, a request's total work on a model engine is capped (check_work), and a
client can only use the engines this server was started to serve (weightless engines always; a model engine only
when it is the server's own). Errors become HTTP statuses by their type (STATUS), never by their wording.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import threading
import time

from pydantic import BaseModel, ConfigDict, Field

from .clean import MAX_PAGE_CHARS
from .engines import MODEL_ENGINES, EngineSettings, check_engine_name, engine_names, make_engine
from .errors import ConfigError, InputError, InputTooLarge, ModelLoadError, SummarizerError, WorkTooLarge
from .fetch import MAX_URL_CHARS, FetchError, FetchSettings, Refused, fetch_page
from .feedback import Feedback, FeedbackFull, FeedbackOff, FeedbackStore
from .generation import GenerationSettings, with_recommended
from .pipeline import summarize_pages
from .record import CSV_COLUMNS, csv_row
from .settings import MAX_WAITING, build, pydantic_model

MAX_PAGES_PER_REQUEST = 32
# A page is at most MAX_PAGE_CHARS characters; JSON may escape each as \uXXXX (6 bytes). Room for a batch of a few
# full pages; larger batches belong to `summarizer batch`.
MAX_BODY_BYTES = 8 * 1024 * 1024
BODY_READ_SECONDS = 30.0
"""The whole body must arrive within this (8 MB at 270 KB/s): a Content-Length larger than what is sent, or a
trickle, does not hold a connection open until the client gives up."""
MAX_PASS_TOKENS = 16_384
"""Token positions one forward pass of a model engine may hold for a request (check_work). Generation memory grows
with them: gemma-3-270m's float32 KV cache is 36 KB a position (18 layers × 1 KV head × 256 × K and V), so about
600 MB here; at the default settings the shipped model's pass of 8 articles holds 1,792."""
MAX_DECODE_STEPS = 32_768
"""Sequence-steps of decoding one request may take on a model engine (check_work), which its time grows with:
256 articles at the default settings, or 12 at 8 beams and the longest summary and headline."""
RETRY_AFTER_SECONDS = 5
"""What a 503 from a full queue tells a client to wait (a default-model request takes about a second or two)."""
FETCH_WORKERS = 4
"""Pages fetched at once for requests that name a `url` (each holds a thread for up to the fetch timeout); they
wait in a line of their own, beside the engine's, so that a slow site never holds the engine."""


class Engines:
    """Engines by name, each built on first use and then reused (a model is never loaded per request): the server's
    own engine, as its EngineSettings say, and every engine that needs no weights."""

    def __init__(self, settings: EngineSettings | None = None):
        self.settings = (settings or EngineSettings()).check()
        self.default = "model" if self.settings.model else self.settings.engine
        self._engines: dict[str, object] = {}
        self._lock = threading.Lock()

    def allowed(self) -> list[str]:
        """What clients may ask for: the server's own engine, and every engine that needs no weights."""
        names = [n for n in engine_names() if n not in MODEL_ENGINES]
        return ([self.default] if self.default in MODEL_ENGINES else []) + names

    def get(self, name: str | None = None):
        name = check_engine_name(name or self.default)
        if name not in self.allowed() and not name.startswith("lead-"):
            raise ConfigError(f"engine {name!r} is not served here (this server serves: {', '.join(self.allowed())})")
        with self._lock:
            if name not in self._engines:
                own = self.settings if name == self.default else EngineSettings(engine=name)
                self._engines[name] = make_engine(own)
            return self._engines[name]


def check_work(engine, settings: GenerationSettings, articles: int) -> None:
    """WorkTooLarge, naming the settings, when summarizing `articles` articles with `settings` on a model engine
    would hold more than MAX_PASS_TOKENS in one forward pass or take more than MAX_DECODE_STEPS. Weightless engines
    do no decoding: their cost is linear in the text, which the page and body limits bound."""
    backend = getattr(engine, "backend", None)
    if backend is None:
        return
    fmt = backend.task_format
    effective = with_recommended(settings, fmt.generation)  # what the engine will run with
    problems = []
    tokens = effective.pass_tokens(articles, fmt.input_tokens)
    if tokens > MAX_PASS_TOKENS:
        problems.append(f"one forward pass would hold {tokens:,} token positions (batch_size × num_beams × "
                        f"(max_input_tokens + max_new_tokens)), over this server's {MAX_PASS_TOKENS:,}; lower "
                        "batch_size, num_beams or max_input_tokens")
    steps = effective.decode_steps(articles)
    if steps > MAX_DECODE_STEPS:
        problems.append(f"{articles:,} articles × num_beams × (max_new_tokens + headline_max_new_tokens) is "
                        f"{steps:,} decoding steps, over this server's {MAX_DECODE_STEPS:,} a request; lower "
                        "num_beams, max_new_tokens or headline_max_new_tokens, or send fewer pages")
    if problems:
        raise WorkTooLarge("this request asks for too much work: " + "; ".join(problems))


def summarize_many(engines: Engines, texts: list[str], settings: dict | GenerationSettings | None = None, *,
                   page_ids: list[str | None] | None = None, engine: str | None = None,
                   urls: dict[str, str] | None = None) -> list[dict | InputError]:
    """Pages -> for each, {"articles", "removed", "engine", "seconds" (its share)} or the InputError it gave.

    All pages are summarized in one batched call, after check_work on the request's articles (WorkTooLarge for
    the whole request). `urls` maps a page id to the address its text was fetched from (the records' `url`).
    Raises ConfigError for bad settings or an engine not served here."""
    generation = settings if isinstance(settings, GenerationSettings) else build(GenerationSettings, settings)
    chosen = engines.get(engine)
    pages = [(page_id or "", text) for page_id, text in zip(page_ids or [None] * len(texts), texts, strict=True)]
    started = time.perf_counter()
    results = summarize_pages(pages, chosen, generation, urls=urls, admit=lambda n: check_work(chosen, generation, n))
    elapsed = time.perf_counter() - started
    total = sum(len(page.articles) for page in results if not page.error) or 1
    return [(page.problem or InputError(page.error)) if page.error else
            {"articles": [a.to_dict() for a in page.articles], "removed": page.removed, "engine": chosen.name,
             "seconds": round(elapsed * len(page.articles) / total if len(results) > 1 else elapsed, 3)}
            for page in results]


def summarize_text(engines: Engines, text: str, settings: dict | GenerationSettings | None = None,
                   page_id: str | None = None, engine: str | None = None, url: str | None = None) -> dict:
    """One page -> {"articles": [...], "removed": [...], "engine", "seconds"}; raises InputError/ConfigError. A
    page fetched from `url` is named by it (its records' id and url)."""
    if not isinstance(text, str):
        raise InputError("'text' must be a string")
    page_id = page_id or url
    (result,) = summarize_many(engines, [text], settings, page_ids=[page_id], engine=engine,
                               urls={page_id: url} if url else None)
    if isinstance(result, InputError):
        raise result
    return result


class BoundedQueue:
    """At most `workers` requests run at once and at most `max_waiting` wait; beyond that the caller is told."""

    def __init__(self, workers: int = 1, max_waiting: int = 16):
        self.capacity = workers + max_waiting
        self.slots = asyncio.Semaphore(workers)
        self.pending = 0  # running + waiting

    async def run(self, fn, *args):
        from starlette.concurrency import run_in_threadpool

        if self.pending >= self.capacity:
            raise QueueFull(f"the server is busy ({self.pending} requests in flight); try again shortly")
        self.pending += 1
        try:
            async with self.slots:
                return await run_in_threadpool(fn, *args)
        finally:
            self.pending -= 1


class QueueFull(SummarizerError):
    """Every worker is busy and the waiting line is full: the client should retry (503 with Retry-After)."""


# The HTTP status of each error type; an error takes that of its nearest listed class (type(exc).__mro__).
# A refused address is the request's fault (400); a page that could not be fetched is the site's (502).
STATUS = {QueueFull: 503, ModelLoadError: 503, InputTooLarge: 413, InputError: 400, WorkTooLarge: 422,
          ConfigError: 422, Refused: 400, FetchError: 502, FeedbackOff: 403, FeedbackFull: 507, SummarizerError: 400}


def status_for(exc: SummarizerError) -> int:
    return next(STATUS[kind] for kind in type(exc).__mro__ if kind in STATUS)


SettingsModel = pydantic_model(GenerationSettings, name="GenerationSettings")


class SummarizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, description="One article page (Arabic text, may hold page furniture; at most "
                             f"{MAX_PAGE_CHARS:,} characters)")
    texts: list[str] | None = Field(None, description="Several pages for one batch call",
                                    max_length=MAX_PAGES_PER_REQUEST)
    url: str | None = Field(None, description="One page to fetch and summarize (http or https), by the batch "
                            "fetcher's rules: every address the host resolves to is checked (loopback, private, "
                            "link-local and other non-public addresses are refused unless the server was started "
                            "with the flag that opens them), one deadline for the whole fetch, a size cap",
                            max_length=MAX_URL_CHARS)
    engine: str | None = Field(None, description="An engine this server serves (GET /api/health lists them); "
                               "absent: the server's default")
    settings: SettingsModel = Field(default_factory=SettingsModel, description="Generation settings; absent "
                                    "fields keep their defaults")


class BodyLimit:
    """ASGI middleware: 413 for a body over `limit` bytes, from Content-Length or while it streams in, before the
    application parses any of it; 408 when the body has not all arrived within `deadline` seconds. Both close the
    connection (the unread rest of a body cannot be skipped)."""

    def __init__(self, app, limit: int = MAX_BODY_BYTES, deadline: float = BODY_READ_SECONDS):
        self.app, self.limit, self.deadline = app, limit, deadline

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or len(declared) > 12 or int(declared) > self.limit):
            return await self._refuse(send)
        try:
            async with asyncio.timeout(self.deadline):
                body = await self._read(receive)
        except TimeoutError:
            return await self._refuse(send, 408, f"the request body did not all arrive within {self.deadline:g} "
                                      "seconds (is Content-Length larger than the body sent?)")
        if body is None:
            return  # the client went away
        if len(body) > self.limit:
            return await self._refuse(send)
        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, receive) -> bytes | None:
        """The body, read here and at most `limit` + 1 chunk of it (a body streamed without a length is cut off at
        the limit instead of being read whole); None when the client went away."""
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit or not message.get("more_body"):
                return b"".join(chunks)

    async def _refuse(self, send, status: int = 413, message: str | None = None):
        message = message or f"the request body is over the limit of {self.limit:,} bytes"
        body = json.dumps({"error": message}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def describe_validation(errors: list[dict]) -> str:
    """Pydantic's errors as one line naming each field and problem, without the input it received."""
    parts = []
    for error in errors:
        if error.get("type") == "json_invalid":  # its loc is (body, character offset): say what that is
            where = error.get("loc", ())[-1]
            detail = (error.get("ctx") or {}).get("error") or "unreadable"
            return f"the request body is not valid JSON: {detail} at character {where}"
        if tuple(error.get("loc", ())) == ("body",):
            return "the request body is empty: send a JSON object" if error.get("type") == "missing" else \
                "the request body must be a JSON object"
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def build_api(engines: Engines, *, workers: int = 1, max_waiting: int = MAX_WAITING,
              fetch: FetchSettings | None = None, feedback: FeedbackStore | None = None):
    """A FastAPI app with POST /api/summarize (one text, a list, or a url to fetch by `fetch`'s rules: default
    FetchSettings, which refuse the server's own loopback and private network) and POST /api/feedback (saved into
    `feedback`; refused without it), documented by its OpenAPI schema and an offline page at /docs."""
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse
    from starlette.concurrency import run_in_threadpool

    # FastAPI's own /docs and /redoc load their scripts from a CDN: a blank page offline. Ours is made here.
    api = FastAPI(title="Arabic news summarizer API", version="2", docs_url=None, redoc_url=None)
    api.add_middleware(BodyLimit)
    queue = BoundedQueue(workers, max_waiting)
    fetches = BoundedQueue(FETCH_WORKERS, max_waiting)
    fetch = fetch or FetchSettings()

    def error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
        return JSONResponse(status_code=status, content={"error": message}, headers=headers)

    def failure(exc: SummarizerError) -> JSONResponse:
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)} if isinstance(exc, QueueFull) else None
        return error(status_for(exc), str(exc), retry)

    @api.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        return error(422, describe_validation(exc.errors()))

    def one(text: str, engine: str | None, settings: GenerationSettings, url: str | None = None) -> dict:
        return summarize_text(engines, text, settings, engine=engine, url=url)

    def many(texts: list[str], engine: str | None, settings: GenerationSettings) -> dict:
        # per-item errors: one bad page does not fail the batch
        return {"results": [{"error": str(result)} if isinstance(result, InputError) else result
                            for result in summarize_many(engines, texts, settings, engine=engine)]}

    @api.post("/api/summarize", summary="Headline and summary for each article on an Arabic news page")
    async def summarize(request: SummarizeRequest):
        if [request.text, request.texts, request.url].count(None) != 2:
            return error(422, "send exactly one of 'text' (one page), 'texts' (a list of pages) or 'url' (one page "
                         "to fetch)")
        try:
            settings = build(GenerationSettings, request.settings.model_dump(exclude_none=True))
            # Before queueing: an engine this server does not serve, and settings too costly for even one article.
            check_work(engines.get(request.engine), settings, 1)
            if request.texts is not None:
                return await queue.run(many, request.texts, request.engine, settings)
            if request.url is not None:
                text = await fetches.run(fetch_page, request.url, fetch)
                return await queue.run(one, text, request.engine, settings, request.url)
            return await queue.run(one, request.text, request.engine, settings)
        except SummarizerError as exc:
            return failure(exc)

    @api.post("/api/feedback", summary="Save an editor's chosen or edited headline and summary (training data)",
              description="One JSON Lines line in the server's feedback folder (`summarizer serve --feedback-dir`), "
              "read by `summarizer train` (data.feedback). 403 when the server was started without a folder.")
    async def save_feedback(request: FeedbackRequest):
        try:
            if feedback is None:
                raise FeedbackOff("this server saves no feedback (start it with --feedback-dir DIR)")
            item = Feedback.from_dict(request.model_dump(exclude_none=True))
            record = await run_in_threadpool(feedback.save, item)
        except SummarizerError as exc:
            return failure(exc)
        return {"saved": True, "time": record["time"], "headline_edited": record["headline_edited"]}

    @api.get("/api/health")
    async def health():
        return {"status": "ok", "default_engine": engines.default, "engines": engines.allowed()}

    @api.get("/docs", include_in_schema=False)
    async def docs():
        return HTMLResponse(openapi_page(api.openapi()))

    return api


FeedbackRequest = pydantic_model(Feedback, name="Feedback")


def openapi_page(schema: dict) -> str:
    """The API's documentation as one self-contained HTML page (no script, nothing fetched: it works offline),
    made from its OpenAPI schema: each operation with its request fields and responses, then every schema."""
    from html import escape

    def kind(spec: dict) -> str:
        if "$ref" in spec:
            name = spec["$ref"].rsplit("/", 1)[-1]
            return f'<a href="#{escape(name)}">{escape(name)}</a>'
        if "anyOf" in spec:
            return " | ".join(kind(s) for s in spec["anyOf"])
        if spec.get("type") == "array":
            return f"list of {kind(spec.get('items', {}))}"
        if "enum" in spec:
            return "one of " + ", ".join(escape(str(v)) for v in spec["enum"])
        return escape(str(spec.get("type", "any")))

    def table(spec: dict) -> str:
        rows = "".join(
            f"<tr><td><code>{escape(name)}</code>{' (required)' if name in spec.get('required', ()) else ''}</td>"
            f"<td>{kind(field)}</td><td>{escape(field.get('description', ''))}"
            + "".join(f" {escape(k)}: {escape(str(field[k]))}." for k in ("minimum", "maximum", "maxLength")
                      if k in field) + "</td></tr>"
            for name, field in spec.get("properties", {}).items())
        return f"<table><tr><th>field</th><th>type</th><th>meaning</th></tr>{rows}</table>" if rows else ""

    parts = [f"<h1>{escape(schema['info']['title'])} <small>{escape(schema['info']['version'])}</small></h1>",
             '<p>Every operation takes and returns JSON. The machine-readable schema is at '
             '<a href="openapi.json">openapi.json</a>.</p>']
    for path, operations in schema.get("paths", {}).items():
        for method, op in operations.items():
            parts.append(f"<h2><code>{method.upper()} {escape(path)}</code></h2><p>{escape(op.get('summary', ''))}"
                         f"</p><p>{escape(op.get('description', ''))}</p>")
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                parts.append(f"<p>Body: {kind(body)}</p>")
            responses = ", ".join(f"{escape(code)} {escape(r.get('description', ''))}"
                                  for code, r in op.get("responses", {}).items())
            parts.append(f"<p>Responses: {responses}; errors are <code>{{\"error\": \"…\"}}</code>.</p>")
    parts.append("<h2>Schemas</h2>")
    for name, spec in schema.get("components", {}).get("schemas", {}).items():
        parts.append(f'<h3 id="{escape(name)}">{escape(name)}</h3>{table(spec)}')
    style = ("body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:"
             "collapse}td,th{border:1px solid #ccc;padding:.3rem;vertical-align:top;text-align:left}")
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
            f"{escape(schema['info']['title'])}</title><style>{style}</style></head><body>{''.join(parts)}"
            "</body></html>")


def results_to_files(records: list[dict], directory: str) -> tuple[str, str]:
    """Write JSON Lines and CSV versions of batch results (the one record schema); returns their paths."""
    jsonl = os.path.join(directory, "results.jsonl")
    with open(jsonl, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    csv_path = os.path.join(directory, "results.csv")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(CSV_COLUMNS))
    writer.writeheader()
    for record in records:
        writer.writerow(csv_row(record))
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as handle:  # BOM: Excel reads Arabic right
        handle.write(buffer.getvalue())
    return jsonl, csv_path
