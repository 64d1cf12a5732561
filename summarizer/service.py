"""What the web demo and the JSON API share: engines loaded once (lazily), request validation, a bounded queue."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import threading
import time
from pydantic import BaseModel, ConfigDict, Field

from .engines import make_engine
from .errors import InputError, ModelLoadError
from .generation import GenerationSettings
from .pipeline import summarize_pages

ENGINE_CHOICES = ("default", "extractive", "lead")


class Engines:
    """Engines by name, each built on first use and then reused (a model is never loaded per request)."""

    def __init__(self, default: str | None = None, model: str | None = None, adapter: str | None = None):
        self.default = default or os.environ.get("SUMMARIZER_ENGINE", "default")
        self.model, self.adapter = model, adapter
        self._engines: dict[str, object] = {}
        self._lock = threading.Lock()

    def get(self, name: str | None = None):
        name = name or self.default
        if name not in ENGINE_CHOICES and name != "model":
            raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_CHOICES)}")
        with self._lock:
            if name not in self._engines:
                model = self.model if name in ("default", "model") and self.model else None
                self._engines[name] = make_engine(name, model=model, adapter=self.adapter)
            return self._engines[name]


def parse_settings(values: dict | None) -> tuple[str | None, GenerationSettings]:
    """Split the engine name from generation settings; unknown names raise ValueError naming them."""
    values = dict(values or {})
    engine = values.pop("engine", None)
    if engine is not None and not isinstance(engine, str):
        raise ValueError("setting 'engine' must be a string")
    return engine, GenerationSettings.from_dict(values)


def summarize_text(engines: Engines, text: str, settings: dict | None = None, page_id: str | None = None) -> dict:
    """One page -> {"articles": [...], "removed": [...], "engine", "seconds"}; raises InputError/ValueError."""
    if not isinstance(text, str):
        raise InputError("'text' must be a string")
    engine_name, generation = parse_settings(settings)
    engine = engines.get(engine_name)
    started = time.perf_counter()
    (page,) = summarize_pages([(page_id or "", text)], engine, generation)
    return {"articles": [a.to_dict() for a in page.articles], "removed": page.removed, "engine": engine.name,
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


class SummarizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, description="One article page (Arabic text, may hold page furniture)")
    texts: list[str] | None = Field(None, description="Several pages for one batch call", max_length=64)
    settings: dict = Field(default_factory=dict, description="engine (default|extractive|lead) and any "
                           "GenerationSettings field: max_new_tokens, num_beams, summary_sentences, ...")


def build_api(engines: Engines, *, workers: int = 1, max_waiting: int = 16):
    """A FastAPI app with POST /api/summarize (one text or a list), documented by its OpenAPI schema."""
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    api = FastAPI(title="Arabic news summarizer API", version="1")
    queue = BoundedQueue(workers, max_waiting)

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse(status_code=status, content={"error": message})

    def one(text: str, settings: dict) -> dict:
        return summarize_text(engines, text, settings)

    def many(texts: list[str], settings: dict) -> dict:
        results = []
        for text in texts:  # per-item errors: one bad page does not fail the batch
            try:
                results.append(summarize_text(engines, text, settings))
            except InputError as exc:
                results.append({"error": str(exc)})
        return {"results": results}

    @api.post("/api/summarize", summary="Headline and summary for each article on an Arabic news page")
    async def summarize(request: SummarizeRequest):
        if (request.text is None) == (request.texts is None):
            return error(422, "send exactly one of 'text' (one page) or 'texts' (a list of pages)")
        try:
            parse_settings(request.settings)
            if request.texts is not None:
                return await queue.run(many, request.texts, request.settings)
            return await queue.run(one, request.text, request.settings)
        except QueueFull as exc:
            return error(503, str(exc))
        except InputError as exc:
            return error(413 if "over the limit" in str(exc) else 400, str(exc))
        except ValueError as exc:
            return error(422, str(exc))
        except ModelLoadError as exc:
            return error(503, str(exc))

    @api.get("/api/health")
    async def health():
        return {"status": "ok", "default_engine": engines.default}

    return api


def results_to_files(records: list[dict], directory: str) -> tuple[str, str]:
    """Write JSON Lines and CSV versions of batch results; returns their paths."""
    jsonl = os.path.join(directory, "results.jsonl")
    with open(jsonl, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    csv_path = os.path.join(directory, "results.csv")
    columns = ["file", "id", "title", "headline", "summary", "engine", "seconds", "warnings", "error"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow({**record, "warnings": "; ".join(record.get("warnings", []))})
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as handle:  # BOM: Excel reads Arabic right
        handle.write(buffer.getvalue())
    return jsonl, csv_path

