"""What the web demo and the JSON API share: engines loaded once (lazily), request validation, a bounded queue.

Requests are hostile until checked: bodies over the size limit are refused before they are read whole, validation
errors name the field without echoing the input back, and a client can only use the engines this server was
started to serve (weightless engines always; a model engine only when it is the server's own).
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
from .errors import ConfigError, InputError, ModelLoadError
from .generation import GenerationSettings
from .pipeline import summarize_pages
from .record import CSV_COLUMNS, csv_row
from .settings import MAX_WAITING, build, pydantic_model

MAX_PAGES_PER_REQUEST = 32
# A page is at most MAX_PAGE_CHARS characters; JSON may escape each as \uXXXX (6 bytes). Room for a batch of a few
# full pages; larger batches belong to `summarizer batch`.
MAX_BODY_BYTES = 8 * 1024 * 1024


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


def summarize_text(engines: Engines, text: str, settings: dict | GenerationSettings | None = None,
                   page_id: str | None = None, engine: str | None = None) -> dict:
    """One page -> {"articles": [...], "removed": [...], "engine", "seconds"}; raises InputError/ConfigError."""
    if not isinstance(text, str):
        raise InputError("'text' must be a string")
    generation = settings if isinstance(settings, GenerationSettings) else build(GenerationSettings, settings)
    chosen = engines.get(engine)
    started = time.perf_counter()
    (page,) = summarize_pages([(page_id or "", text)], chosen, generation)
    if page.error:
        raise InputError(page.error)
    return {"articles": [a.to_dict() for a in page.articles], "removed": page.removed, "engine": chosen.name,
            "seconds": round(time.perf_counter() - started, 3)}


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


class QueueFull(Exception):
    pass


SettingsModel = pydantic_model(GenerationSettings, name="GenerationSettings")


class SummarizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, description="One article page (Arabic text, may hold page furniture; at most "
                             f"{MAX_PAGE_CHARS:,} characters)")
    texts: list[str] | None = Field(None, description="Several pages for one batch call",
                                    max_length=MAX_PAGES_PER_REQUEST)
    engine: str | None = Field(None, description="An engine this server serves (GET /api/health lists them); "
                               "absent: the server's default")
    settings: SettingsModel = Field(default_factory=SettingsModel, description="Generation settings; absent "
                                    "fields keep their defaults")


class BodyLimit:
    """ASGI middleware: 413 for a body over `limit` bytes, from Content-Length or while it streams in, before the
    application parses any of it."""

    def __init__(self, app, limit: int = MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._refuse(send)
        # Read the body here, at most `limit` bytes of it, then hand it on: a body streamed without a length
        # is cut off at the limit instead of being read whole.
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit:
                return await self._refuse(send)
            if not message.get("more_body"):
                break
        body, delivered = b"".join(chunks), False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send):
        body = json.dumps({"error": f"the request body is over the limit of {self.limit:,} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def describe_validation(errors: list[dict]) -> str:
    """Pydantic's errors as one line naming each field and problem, without the input it received."""
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def build_api(engines: Engines, *, workers: int = 1, max_waiting: int = MAX_WAITING):
    """A FastAPI app with POST /api/summarize (one text or a list), documented by its OpenAPI schema."""
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    api = FastAPI(title="Arabic news summarizer API", version="2")
    api.add_middleware(BodyLimit)
    queue = BoundedQueue(workers, max_waiting)

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse(status_code=status, content={"error": message})

    @api.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        return error(422, describe_validation(exc.errors()))

    def one(text: str, engine: str | None, settings: GenerationSettings) -> dict:
        return summarize_text(engines, text, settings, engine=engine)

    def many(texts: list[str], engine: str | None, settings: GenerationSettings) -> dict:
        results = []
        for text in texts:  # per-item errors: one bad page does not fail the batch
            try:
                results.append(summarize_text(engines, text, settings, engine=engine))
            except InputError as exc:
                results.append({"error": str(exc)})
        return {"results": results}

    @api.post("/api/summarize", summary="Headline and summary for each article on an Arabic news page")
    async def summarize(request: SummarizeRequest):
        if (request.text is None) == (request.texts is None):
            return error(422, "send exactly one of 'text' (one page) or 'texts' (a list of pages)")
        try:
            settings = build(GenerationSettings, request.settings.model_dump(exclude_none=True))
            engines.get(request.engine)  # refuse an engine this server does not serve before queueing
            if request.texts is not None:
                return await queue.run(many, request.texts, request.engine, settings)
            return await queue.run(one, request.text, request.engine, settings)
        except QueueFull as exc:
            return error(503, str(exc))
        except InputError as exc:
            return error(413 if "over the limit" in str(exc) else 400, str(exc))
        except ConfigError as exc:
            return error(422, str(exc))
        except ModelLoadError as exc:
            return error(503, str(exc))

    @api.get("/api/health")
    async def health():
        return {"status": "ok", "default_engine": engines.default, "engines": engines.allowed()}

    return api


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
