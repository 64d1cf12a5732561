"""`summarizer batch --ray`: the same batch job on Ray Data, for a corpus or a feed list too big for one machine.

Inputs are gathered on the driver exactly as the local batch gathers them (feeds through the same safe fetcher,
JSON Lines and folders read directly), and items whose pages are already written are dropped before anything is
scheduled. The rest become a Ray Dataset; `map_batches` runs over a pool of actors, each loading its engine once,
fetching its items' pages with the same safe fetcher and summarizing them through the one pipeline. Records (the
same schema as the local batch) stream back to the driver, which appends each block in one write + fsync to the
JSON Lines output, or writes it as one part file (atomic rename) when --out is a directory.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
import uuid
from dataclasses import asdict
from pathlib import Path

from .errors import InputError
from .settings import explicit_values

PART_PREFIX = "part-"


def connect(address: str | None, *, num_cpus: int | None = None) -> None:
    """Start a local Ray (no address) or join a cluster ('auto', 'host:port', 'ray://host:port'); an address that
    does not answer is one clear InputError, before Ray spends minutes retrying it."""
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray: pip install -e '.[ray]'") from None
    if address and address != "auto":
        host, _, port = address.removeprefix("ray://").rpartition(":")
        if not host or not port.isdigit():
            raise InputError(f"--ray {address!r}: expected auto, HOST:PORT or ray://HOST:PORT")
        try:
            socket.create_connection((host, int(port)), timeout=3).close()
        except OSError as exc:
            raise InputError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None
    if ray.is_initialized():  # already connected in this process (a library caller, the tests)
        return
    try:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise InputError(f"cannot connect to Ray at {address or 'a new local instance'}: {exc}") from None


class Summarizer:
    """A Ray actor: the engine is loaded once per actor; each call fetches and summarizes one batch of items."""

    def __init__(self, engine, settings: dict, fetcher_options: dict):
        from .engines import make_engine
        from .generation import GenerationSettings
        from .settings import build

        self.engine = make_engine(engine)
        self.settings = build(GenerationSettings, settings)  # only what the caller set: see explicit_values
        self.fetcher_options = fetcher_options

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        from .batch import Fetcher, Item, fetch_pages, summarize_chunk

        items = [Item(**json.loads(raw)) for raw in batch["item"]]

        async def fetch():
            fetcher = Fetcher(**self.fetcher_options)
            try:
                await fetch_pages(items, fetcher)
            finally:
                await fetcher.close()

        asyncio.run(fetch())
        records = summarize_chunk(items, self.engine, self.settings)
        return {"record": np.array([json.dumps(r, ensure_ascii=False) for r in records], dtype=object)}


def done_ids(out: Path, *, retry_errors: bool) -> set[str]:
    from .batch import read_done_ids

    if out.is_dir():
        done: set[str] = set()
        for part in sorted(out.glob(f"{PART_PREFIX}*.jsonl")):
            done |= read_done_ids(part, retry_errors=retry_errors)
        return done
    return read_done_ids(out, retry_errors=retry_errors)


def write_block(out: Path, records: list[dict]) -> None:
    """One block of records: appended whole to the JSON Lines file, or written as one part file by atomic rename."""
    from .batch import append_records

    if not out.is_dir():
        append_records(out, records)
        return
    name = f"{PART_PREFIX}{time.time_ns()}-{uuid.uuid4().hex[:8]}.jsonl"
    tmp = out / f".{name}.tmp"
    append_records(tmp, records)
    os.replace(tmp, out / name)


def run_batch_ray(inputs: list[str], *, out: str | Path, engine, settings, address: str | None = None,
                  workers: int = 1, num_gpus: float = 0.0, fetcher_options: dict | None = None,
                  chunk_size: int = 16, progress: bool = True, retry_errors: bool = False) -> int:
    """Run the batch on Ray; returns the exit code (1 only when nothing could be done). Each actor builds its engine
    from `engine` (EngineSettings), checked here before Ray starts."""
    from .batch import Fetcher, gather_items

    engine.check()
    fetcher_options = fetcher_options or {}
    out_path = Path(out)
    if str(out).endswith(os.sep):
        out_path.mkdir(parents=True, exist_ok=True)
    else:
        out_path.parent.mkdir(parents=True, exist_ok=True)
    connect(address, num_cpus=None)
    import ray

    async def gather():
        fetcher = Fetcher(**fetcher_options)
        try:
            return await gather_items(inputs, fetcher)
        finally:
            await fetcher.close()

    started = time.perf_counter()
    items = asyncio.run(gather())
    done = done_ids(out_path, retry_errors=retry_errors)
    pending = [item for item in items if item.id not in done]  # the resume rule, before anything is scheduled
    counts = {"done": 0, "failed": 0, "skipped": len(items) - len(pending)}
    if pending:
        dataset = ray.data.from_items([{"item": json.dumps(asdict(item), ensure_ascii=False)} for item in pending],
                                      override_num_blocks=max(1, min(len(pending), workers * 4)))
        results = dataset.map_batches(Summarizer, batch_size=chunk_size, concurrency=workers, num_gpus=num_gpus,
                                      fn_constructor_kwargs={"engine": engine,
                                                             "settings": explicit_values(settings),
                                                             "fetcher_options": fetcher_options},
                                      batch_format="numpy")
        from tqdm.auto import tqdm

        bar = tqdm(total=len(pending), desc="batch (ray)", disable=not progress, unit="page")
        for block in results.iter_batches(batch_size=None, batch_format="numpy"):
            records = [json.loads(raw) for raw in block["record"]]
            write_block(out_path, records)
            for record in records:
                counts["done" if record["status"] == "ok" else "failed"] += 1
            bar.update(len({r.get("page") or r["id"] for r in records}))
            bar.set_postfix(counts)
        bar.close()
    seconds = time.perf_counter() - started
    rate = counts["done"] / seconds if seconds else 0.0
    print(f"batch (ray, {workers} worker(s)): {counts['done']} summarized, {counts['failed']} failed, "
          f"{counts['skipped']} already done in {seconds:.1f} s ({rate:.2f} articles/s) -> {out_path}",
          file=sys.stderr)
    return 1 if counts["done"] == 0 and counts["skipped"] == 0 else 0
