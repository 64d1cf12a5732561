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
from dataclasses import dataclass
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


def mark_used(target: Path) -> None:
    """Stamp an entry as used now (its directory's mtime), which `prune` reads; a read-only cache stays as it is."""
    try:
        os.utime(target)
    except OSError:
        pass


def build_once(target: Path, build: Callable[[Path], None], *, what: str, marker: str = "config.json") -> Path:
    """Return `target`, first calling build(tmp_dir) to make it if `target/marker` does not exist yet."""
    if (target / marker).is_file():
        mark_used(target)
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


# Kinds of entries `summarizer cache` may remove: converted models are rebuilt from the base and an adapter in
# seconds; the dequantized base model (a minute from the GGUF) is listed but only removed when asked by name.
PRUNABLE = ("ct2",)


@dataclass
class Entry:
    kind: str
    path: Path
    size: int
    last_used: float


def entries(root: Path | None = None) -> list[Entry]:
    """Every prepared model in the cache, most recently used first (left-over temporary builds included)."""
    root = root or cache_dir()
    found = []
    for kind_dir in sorted(p for p in root.glob("*") if p.is_dir()):
        children = [p for p in kind_dir.iterdir() if p.is_dir()] if kind_dir.name in PRUNABLE else [kind_dir]
        for path in children:
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
            found.append(Entry(kind_dir.name, path, size, path.stat().st_mtime))
    return sorted(found, key=lambda e: -e.last_used)


def prune(unused_days: float, root: Path | None = None, *, now: float | None = None) -> list[Entry]:
    """Remove converted models not used for `unused_days` days, each under its build lock (an entry being built
    or loaded right now is never half-removed). Returns what was removed."""
    now = time.time() if now is None else now
    removed = []
    for entry in entries(root):
        if entry.kind not in PRUNABLE or now - entry.last_used < unused_days * 86400:
            continue
        name = entry.path.name
        if name.startswith("."):  # a killed build's temporary directory
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry)
            continue
        # The lock file stays: unlinking it would let a waiting builder and a new one lock different files.
        with file_lock(entry.path.parent / f"{name}.lock", name):
            shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry)
    return removed
