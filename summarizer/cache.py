"""The per-user cache of prepared models: built once, under a file lock, appearing by atomic rename only when
complete (a killed build leaves a temporary name that the next build removes, never a broken entry), and leased
while used (`prune` never removes what a running process has loaded)."""

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

from .errors import ConfigError


def cache_dir() -> Path:
    """$SUMMARIZER_CACHE, else $XDG_CACHE_HOME/summarizer, else ~/.cache/summarizer."""
    if os.environ.get("SUMMARIZER_CACHE"):
        return Path(os.environ["SUMMARIZER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "summarizer"


# Two lock files sit beside each entry X: X.lock, held exclusively while X is built or removed, and X.lease, held
# shared by every process using X and exclusively (never waiting) by `prune`. The files stay when X goes: unlinking
# one would let two processes lock different files under the same name.
def _build_lock(target: Path) -> Path:
    return target.parent / f"{target.name}.lock"


def _lease_file(target: Path) -> Path:
    return target.parent / f"{target.name}.lease"


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


@contextmanager
def _unless_locked(path: Path):
    """Lock `path` exclusively if nobody holds it; yields False (and waits for nothing) when somebody does."""
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def lease(target: Path):
    """Hold a shared lease on the entry `target` for as long as the returned file stays open (close it, or let it
    be collected with its owner): `prune` skips leased entries. Take it before `build_once`, so the entry cannot
    go between finding it and loading it. None when the cache is read-only (nothing can prune it then)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = open(_lease_file(target), "a")
    except OSError:
        return None
    fcntl.flock(handle, fcntl.LOCK_SH)  # waits only while a prune is removing this very entry
    return handle


def mark_used(target: Path) -> None:
    """Stamp an entry as used now (its directory's mtime), which `prune` reads; a read-only cache stays as it is."""
    try:
        os.utime(target)
    except OSError:
        pass


def _discard(path: Path) -> None:
    """Remove a directory so that it is whole or gone at its name: renamed to a temporary name first (one rename),
    then deleted; a kill during the deletion leaves only the temporary name, which builds and `prune` clear."""
    hidden = path.with_name(f".{path.name}-removing-{os.getpid()}-{time.monotonic_ns()}")
    os.replace(path, hidden)
    shutil.rmtree(hidden, ignore_errors=True)


def build_once(target: Path, build: Callable[[Path], None], *, what: str, marker: str = "config.json") -> Path:
    """Return `target`, first calling build(tmp_dir) to make it if `target/marker` does not exist yet."""
    if (target / marker).is_file():
        mark_used(target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(_build_lock(target), what):
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
                _discard(target)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"summarizer: {what} ready in {time.time() - started:.0f} s, cached at {target}", file=sys.stderr,
              flush=True)
    return target


@contextmanager
def replacing(final: Path):
    """Yield a temporary name beside `final` to write a file to; it is renamed onto `final` when the block
    completes and removed when it fails. Call under the build lock of the entry it belongs to: that lock is what
    makes `clear_temporaries` safe (a kill -9 skips the cleanup and leaves the temporary name)."""
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def clear_temporaries(final: Path) -> None:
    """Remove what killed `replacing` blocks left for `final` (under the same lock as `replacing`)."""
    for stale in final.parent.glob(f".{final.name}.*.tmp"):
        stale.unlink(missing_ok=True)


def prunable() -> tuple[str, ...]:
    """Kinds of entries `summarizer cache` may remove: the conversions of every registered backend that keeps them
    (`caches_conversions`, under cache_dir()/<backend name>), rebuilt from the base and an adapter in seconds; the
    dequantized base model (a minute from the GGUF) is listed but only removed when asked by name."""
    from .backends import backend_class, backend_names  # here: the backends import this module

    kinds = []
    for name in backend_names():
        try:
            if getattr(backend_class(name), "caches_conversions", False):
                kinds.append(name)
        except ConfigError:  # a registered runtime that is not installed keeps no conversions here
            continue
    return tuple(kinds)


@dataclass
class Entry:
    kind: str
    path: Path
    size: int
    last_used: float


def entries(root: Path | None = None) -> list[Entry]:
    """Every prepared model in the cache, most recently used first (left-over temporary builds included)."""
    root = root or cache_dir()
    kinds = prunable()
    found = []
    for kind_dir in sorted(p for p in root.glob("*") if p.is_dir()):
        children = [p for p in kind_dir.iterdir() if p.is_dir()] if kind_dir.name in kinds else [kind_dir]
        for path in children:
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
            found.append(Entry(kind_dir.name, path, size, path.stat().st_mtime))
    return sorted(found, key=lambda e: -e.last_used)


def _owner(temporary: Path) -> Path | None:
    """The entry a temporary directory (`.NAME-...`) is being built for: the one whose lock file names it."""
    names = [lock.name[: -len(".lock")] for lock in temporary.parent.glob("*.lock")]
    matching = [n for n in names if temporary.name.startswith(f".{n}-")]
    return temporary.parent / max(matching, key=len) if matching else None


def prune(unused_days: float, root: Path | None = None, *, now: float | None = None,
          in_use: list[Entry] | None = None) -> list[Entry]:
    """Remove converted models not used for `unused_days` days. An entry being built, or leased by a process
    that loaded it, is skipped (appended to `in_use`), never waited for. Returns what was removed."""
    now = time.time() if now is None else now
    kinds = prunable()
    removed = []
    for entry in entries(root):
        if entry.kind not in kinds or now - entry.last_used < unused_days * 86400:
            continue
        temporary = entry.path.name.startswith(".")
        owner = _owner(entry.path) if temporary else entry.path
        if owner is None:  # a temporary directory nothing can be building any more
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry)
            continue
        with _unless_locked(_build_lock(owner)) as building_free:
            if building_free and temporary:  # a killed build's left-over
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(entry)
                continue
            if building_free:
                with _unless_locked(_lease_file(owner)) as unused:
                    if unused:
                        _discard(entry.path)
                        removed.append(entry)
                        continue
        if in_use is not None:
            in_use.append(entry)
    return removed
