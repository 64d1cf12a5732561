"""`summarizer batch --ray`: the same batch job on Ray Data, for a corpus or a feed list too big for one machine.

Inputs are gathered on the driver exactly as the local batch gathers them (feeds through the same safe fetcher,
JSON Lines and folders through the same capped line reader), and items whose pages are already complete are
dropped before anything is scheduled. The rest become a Ray Dataset; `map_batches` runs over a pool of actors, each
loading its engine once, fetching its items' pages with the same safe fetcher and summarizing them through the one pipeline. Records (the
same schema as the local batch) stream back to the driver, which appends each block in one write + fsync to the
JSON Lines output, or writes it as one part file (atomic rename) when --out is a directory, keeping only records the
output lacks (the local batch's bookkeeping). The output is checked before Ray starts, and a Ray the run started is
shut down however the run ends.
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

from .batch import (BatchSettings, OutputError, append_records, check_output, gather_items, plan, read_written,
                    stopped, write_new)
from .errors import InputError
from .fetch import Fetcher
from .settings import explicit_values

PART_PREFIX = "part-"


def connect(address: str | None, *, num_cpus: int | None = None) -> bool:
    """Start a local Ray (no address) or join a cluster ('auto', 'host:port', 'ray://host:port'); an address that
    does not answer is one clear InputError, before Ray spends minutes retrying it. True when this call started or
    joined Ray, so that the caller shuts it down when done (a local Ray's processes go with it)."""
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
    if ray.is_initialized():  # already connected in this process (a library caller, the tests): theirs to stop
        return False
    try:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        ray.shutdown()  # whatever a failed start left running
        raise InputError(f"cannot connect to Ray at {address or 'a new local instance'}: {exc}") from None
    return True


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

        from .batch import Item, fetch_pages, summarize_chunk

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


def outputs(out: Path) -> list[Path]:
    """The files that hold a job's records, oldest first (part files are named by the time they were written)."""
    return sorted(out.glob(f"{PART_PREFIX}*.jsonl")) if out.is_dir() else [out]


def write_block(out: Path, records: list[dict]) -> None:
    """One block of records: appended whole to the JSON Lines file, or written as one part file by atomic rename."""
    if not records:
        return
    if not out.is_dir():
        append_records(out, records)
        return
    name = f"{PART_PREFIX}{time.time_ns()}-{uuid.uuid4().hex[:8]}.jsonl"
    tmp = out / f".{name}.tmp"
    try:
        append_records(tmp, records)
        os.replace(tmp, out / name)
    except (OSError, OutputError) as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write results to {out}: {getattr(exc, 'strerror', None) or exc}") from None


def run_batch_ray(inputs: list[str], *, out: str | Path, engine, settings, address: str | None = None,
                  workers: int = 1, num_gpus: float = 0.0, fetcher_options: dict | None = None,
                  chunk_size: int = 16, progress: bool = True, retry_errors: bool = False) -> int:
    """Run the batch on Ray; returns the exit status (batch.Tally.exit_code). Each actor builds its engine from
    `engine` (EngineSettings), checked here, like the output, before Ray starts; a Ray this call started is shut down
    however the run ends."""
    engine.check()
    out_path = Path(out)
    check_output(out_path, folder=str(out).endswith(os.sep) or out_path.is_dir())
    fetcher_options = {**BatchSettings().fetcher_options(), **(fetcher_options or {})}
    started = connect(address, num_cpus=None)
    try:
        return _run(inputs, out_path, engine, settings, workers, num_gpus, fetcher_options, chunk_size,
                    progress, retry_errors)
    finally:
        if started:
            import ray

            ray.shutdown()


def _run(inputs, out, engine, settings, workers, num_gpus, fetcher_options, chunk_size, progress,
         retry_errors) -> int:
    import ray
    from tqdm.auto import tqdm

    async def gather():
        fetcher = Fetcher(**fetcher_options)
        try:
            return await gather_items(inputs, fetcher)
        finally:
            await fetcher.close()

    started = time.perf_counter()
    written = read_written(outputs(out))
    pending, tally = plan(asyncio.run(gather()), written, retry_errors=retry_errors)  # before anything is scheduled
    if pending:
        dataset = ray.data.from_items([{"item": json.dumps(asdict(item), ensure_ascii=False)} for item in pending],
                                      override_num_blocks=max(1, min(len(pending), workers * 4)))
        results = dataset.map_batches(Summarizer, batch_size=chunk_size, concurrency=workers, num_gpus=num_gpus,
                                      fn_constructor_kwargs={"engine": engine,
                                                             "settings": explicit_values(settings),
                                                             "fetcher_options": fetcher_options},
                                      batch_format="numpy")
        bar = tqdm(total=len(pending), desc="batch (ray)", disable=not progress, unit="page")
        try:
            for block in results.iter_batches(batch_size=None, batch_format="numpy"):
                records = [json.loads(raw) for raw in block["record"]]
                try:
                    write_new(records, written, tally, lambda rows: write_block(out, rows))
                except (OSError, OutputError) as exc:
                    raise stopped(out, exc) from None
                bar.update(len({r.get("page") or r["id"] for r in records}))
                bar.set_postfix(done=tally.done, failed=tally.failed, skipped=tally.skipped)
        finally:
            bar.close()
    print(tally.report(f"batch (ray, {workers} worker(s))", time.perf_counter() - started, out), file=sys.stderr)
    return tally.exit_code()
