"""Hostile load on a live server, loopback only: does one burst of bad requests take it down?

    python benchmarks/load_hostile.py [--engine default|extractive] [--requests 50] [--budget 120]

Starts `summarizer serve` on a free 127.0.0.1 port, waits for /api/health, sends one warm-up request (the model
loads), then sends --requests requests at once: hostile settings (num_beams 1000, num_candidates 1000, batch_size
10**12, headline_max_new_tokens 10**30, values each in range whose product is not) mixed with valid ones. Prints
the status counts, any 5xx that is not a 503 with Retry-After, the server's peak RSS and the wall time, stops the
server, and exits 1 when a bar is broken: such a 5xx, a request with no answer, peak RSS >= 2.5 GB, or the run
over its --budget seconds (default 120; the server is stopped then whatever is in flight).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RSS_LIMIT_BYTES = 2_500_000_000  # 2.5 GB
HOSTILE_SETTINGS = (
    {"num_beams": 1000, "num_candidates": 1000},
    {"batch_size": 10**12},
    {"headline_max_new_tokens": 10**30},
    {"num_beams": 8, "num_candidates": 8, "batch_size": 64, "max_input_tokens": 2048, "max_new_tokens": 256},
)
VALID_SETTINGS = ({}, {"num_beams": 2, "num_candidates": 2})


def payloads(count: int, pages: list[str]) -> list[tuple[str, dict]]:
    """(kind, request body) for `count` requests: every other one hostile, the others valid, over `pages`."""
    out = []
    for i in range(count):
        if i % 2 == 0:
            settings = HOSTILE_SETTINGS[(i // 2) % len(HOSTILE_SETTINGS)]
            out.append(("hostile", {"texts": pages, "settings": settings}))
        else:
            settings = VALID_SETTINGS[(i // 2) % len(VALID_SETTINGS)]
            out.append(("valid", {"text": pages[(i // 2) % len(pages)], "settings": settings}))
    return out


def vm_hwm_bytes(status_text: str) -> int | None:
    """The peak resident set size in a /proc/PID/status text (its VmHWM line), or None."""
    match = re.search(r"^VmHWM:\s+(\d+)\s+kB", status_text, re.M)
    return int(match.group(1)) * 1024 if match else None


def judge(results: list[dict], peak_rss: int | None, *, over_budget: bool = False) -> list[str]:
    """The bars a run broke, one line each (empty: all held). A result is {"kind", "status", "retry_after"}, with
    status None for a request that got no answer."""
    broken = []
    bad = [r for r in results if r["status"] is not None and r["status"] >= 500
           and not (r["status"] == 503 and r.get("retry_after"))]
    if bad:
        broken.append(f"{len(bad)} answer(s) 5xx other than 503 with Retry-After: "
                      f"{dict(Counter(r['status'] for r in bad))}")
    unanswered = [r for r in results if r["status"] is None]
    if unanswered:
        broken.append(f"{len(unanswered)} request(s) got no answer")
    if peak_rss is not None and peak_rss >= RSS_LIMIT_BYTES:
        broken.append(f"peak server RSS {peak_rss / 1e6:,.0f} MB >= {RSS_LIMIT_BYTES / 1e6:,.0f} MB")
    if over_budget:
        broken.append("the run went over its time budget")
    return broken


class PeakRss:
    """The peak RSS of a process and its children, sampled every `interval` s (psutil) and read from VmHWM."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.sample()
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        try:
            import psutil

            process = psutil.Process(self.pid)
            total = process.memory_info().rss + sum(c.memory_info().rss for c in process.children(recursive=True))
            self.peak = max(self.peak, total)
        except ImportError:
            pass
        except Exception:  # the process ended between listing and reading
            pass
        try:
            self.peak = max(self.peak, vm_hwm_bytes(Path(f"/proc/{self.pid}/status").read_text()) or 0)
        except OSError:
            pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port: int, body: dict, timeout: float) -> dict:
    """One POST /api/summarize: {"status", "retry_after", "seconds"}; status None when no answer came."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=max(1.0, timeout))
    try:
        connection.request("POST", "/api/summarize", body=json.dumps(body, ensure_ascii=False).encode(),
                           headers={"content-type": "application/json"})
        response = connection.getresponse()
        response.read()
        return {"status": response.status, "retry_after": response.getheader("retry-after"),
                "seconds": time.perf_counter() - started}
    except (OSError, http.client.HTTPException) as exc:
        return {"status": None, "retry_after": None, "seconds": time.perf_counter() - started, "error": repr(exc)}
    finally:
        connection.close()


def wait_for_health(port: int, proc: subprocess.Popen, deadline: float) -> bool:
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/health")
            if connection.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def start_server(engine: str, port: int, log) -> subprocess.Popen:
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "summarizer.cli", "serve", "--engine", engine,
                             "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def run(engine: str, count: int, budget: float) -> int:
    from summarizer.samples import sample_pages

    pages = [p.read_text(encoding="utf-8") for p in sample_pages()][:4]
    deadline = time.monotonic() + budget
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        proc = start_server(engine, port, log)
        try:
            with PeakRss(proc.pid) as rss:
                started = time.monotonic()
                if not wait_for_health(port, proc, deadline):
                    log.seek(0)
                    print("the server did not start in time:\n" + log.read()[-2000:], file=sys.stderr)
                    return 1
                ready = time.monotonic() - started
                warm = post(port, {"text": pages[0]}, deadline - time.monotonic())
                burst_started = time.monotonic()
                work = payloads(count, pages)
                with ThreadPoolExecutor(count) as pool:
                    answers = list(pool.map(lambda item: post(port, item[1], deadline - time.monotonic()), work))
                burst = time.monotonic() - burst_started
            results = [{"kind": kind, **answer} for (kind, _), answer in zip(work, answers)]
            over = time.monotonic() > deadline
        finally:
            stop(proc)
        report(engine, results, warm, ready, burst, rss.peak)
        broken = judge(results + [{"kind": "warm-up", **warm}], rss.peak or None, over_budget=over)
        for line in broken:
            print("BAR BROKEN: " + line)
        if broken:
            log.seek(0)
            print("server log (tail):\n" + log.read()[-2000:], file=sys.stderr)
        return 1 if broken else 0


def report(engine, results, warm, ready, burst, peak) -> None:
    print(f"engine {engine}: server ready in {ready:.1f} s; warm-up request {warm['status']} in "
          f"{warm['seconds']:.1f} s; {len(results)} concurrent requests in {burst:.1f} s")
    counts = Counter((r["kind"], r["status"], bool(r.get("retry_after"))) for r in results)
    print(f"{'kind':<8} {'status':>6} {'Retry-After':>11} {'count':>5}")
    for (kind, status, retry), n in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        print(f"{kind:<8} {status if status is not None else 'none':>6} {'yes' if retry else '':>11} {n:>5}")
    print(f"peak server RSS: {peak / 1e6:,.0f} MB (bar: < {RSS_LIMIT_BYTES / 1e6:,.0f} MB)" if peak
          else "peak server RSS: not measured (no psutil, no /proc)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="default", choices=("default", "extractive"))
    parser.add_argument("--requests", type=int, default=50, help="concurrent requests (1-200)")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds for the whole run (10-120)")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 200 or not 10 <= args.budget <= 120:
        parser.error("--requests must be from 1 to 200 and --budget from 10 to 120")
    return run(args.engine, args.requests, args.budget)


if __name__ == "__main__":
    sys.exit(main())
