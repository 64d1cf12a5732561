"""A --ray run that fails stops the Ray it started (its own module: no Ray may be running before it)."""

import errno
import json
import os
import time

import pytest

from tests.conftest import SEEDS

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]'")
psutil = pytest.importorskip("psutil")
RAY_PROCESSES = ("raylet", "gcs_server", "plasma_store", "default_worker", "ray::")


def ray_children() -> list[str]:
    names = []
    for child in psutil.Process().children(recursive=True):
        try:
            line = " ".join(child.cmdline()) or child.name()
        except psutil.Error:  # gone while we looked
            continue
        if any(tag in line for tag in RAY_PROCESSES):
            names.append(line[:120])
    return names


def test_a_failed_ray_run_stops_the_local_ray_it_started(tmp_path, monkeypatch, capsys):
    import summarizer.scale as scale
    from summarizer.cli import main

    if ray.is_initialized():
        ray.shutdown()
    zero = tmp_path / "zero.jsonl"  # read on the driver, through the capped line reader
    zero.symlink_to("/dev/zero")
    text = (SEEDS / "005_skynews.txt").read_text("utf-8")
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps({"id": f"i{k}", "text": text}, ensure_ascii=False) + "\n" for k in range(3)),
                     encoding="utf-8")
    handed = []

    def full_disk(path, rows):
        handed.extend(rows)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(scale, "write_block", full_disk)
    code = main(["batch", str(zero), str(items), "--out", str(tmp_path / "o.jsonl"), "--engine", "extractive",
                 "--ray", "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and handed  # got past /dev/zero, then the disk was full
    (line,) = [line for line in err.splitlines() if line.startswith("summarizer:")]
    assert os.strerror(errno.ENOSPC) in line
    assert not ray.is_initialized()  # before: the failed run left its local Ray up
    deadline = time.time() + 20
    while ray_children() and time.time() < deadline:
        time.sleep(0.5)
    assert ray_children() == []
