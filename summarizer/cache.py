"""The per-user cache of prepared models: built once, under a file lock, appearing by atomic rename only when
complete (a killed build leaves a temporary directory that the next build removes, never a broken entry)."""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path


def cache_dir() -> Path:
    """$SUMMARIZER_CACHE, else $XDG_CACHE_HOME/summarizer, else ~/.cache/summarizer."""
    if os.environ.get("SUMMARIZER_CACHE"):
        return Path(os.environ["SUMMARIZER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "summarizer"


@contextmanager
def file_lock(path: Path, what: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"summarizer: another process is preparing {what}; waiting for it...", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_once(target: Path, build: Callable[[Path], None], *, what: str, marker: str = "config.json") -> Path:
    """Return `target`, first calling build(tmp_dir) to make it if `target/marker` does not exist yet."""
    if (target / marker).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(target.parent / f"{target.name}.lock", what):
        if (target / marker).is_file():  # built by the process we waited for
            return target
        for stale in target.parent.glob(f".{target.name}-*"):  # left by a killed build
            shutil.rmtree(stale, ignore_errors=True)
        print(f"summarizer: preparing {what} (first run only)...", file=sys.stderr, flush=True)
        started = time.time()
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            build(tmp)
            if target.exists():  # an incomplete entry from an older version: replace it
                shutil.rmtree(target)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"summarizer: {what} ready in {time.time() - started:.0f} s, cached at {target}", file=sys.stderr,
              flush=True)
    return target
