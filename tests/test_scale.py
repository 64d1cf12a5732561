"""Batch on Ray Data: the same records as the local batch, the same resume rule, clear errors."""

import json

import pytest

from summarizer.batch import run_batch
from summarizer.engines import EngineSettings, ExtractiveEngine
from summarizer.generation import GenerationSettings
from tests.conftest import SEEDS
from tests.test_batch import records, site  # noqa: F401 - the loopback site fixture

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]'")
SETTINGS = GenerationSettings(batch_size=4)
FETCH = {"allow_private": True, "timeout": 5.0, "concurrency": 4}


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def items_200(tmp_path_factory):
    texts = [p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    path = tmp_path_factory.mktemp("items") / "items.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(200):
            text = texts[i % len(texts)] if i % 50 else "English only, no Arabic"  # a few error records too
            handle.write(json.dumps({"id": f"item-{i}", "text": text}, ensure_ascii=False) + "\n")
    return path


def comparable(rows):
    """Records without what differs run to run (timings)."""
    return sorted((json.dumps({k: v for k, v in r.items() if k != "timings"}, sort_keys=True, ensure_ascii=False)
                   for r in rows))


def run_ray(inputs, out, **kwargs):
    from summarizer.scale import run_batch_ray

    options = dict(out=out, engine=EngineSettings(engine="extractive"), settings=SETTINGS, workers=2,
                   fetcher_options=FETCH, chunk_size=16, progress=False)
    options.update(kwargs)
    return run_batch_ray(inputs, **options)


def test_jsonl_and_feed_give_the_same_records_with_ray_as_without(local_ray, items_200, site, tmp_path):  # noqa: F811
    inputs = [str(items_200), f"{site}/rss.xml", f"{site}/entries.xml"]
    local, distributed = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    run_batch(inputs, out=local, engine=ExtractiveEngine(), settings=SETTINGS, progress=False, **FETCH)
    assert run_ray(inputs, distributed) == 1  # a few items fail, as in the local run
    assert comparable(records(distributed)) == comparable(records(local))
    assert len({r["page"] for r in records(local)}) >= 200


def test_a_killed_run_is_completed_by_a_rerun_without_loss_or_duplicates(local_ray, items_200, tmp_path, monkeypatch):
    import summarizer.scale as scale

    out = tmp_path / "parts/"
    real_write, written = scale.write_block, []

    def dying_write(path, rows):
        if len(written) == 2:
            raise KeyboardInterrupt  # the driver is killed after two blocks
        written.append(len(rows))
        real_write(path, rows)

    monkeypatch.setattr(scale, "write_block", dying_write)
    with pytest.raises(KeyboardInterrupt):
        run_ray([str(items_200)], str(out) + "/")
    monkeypatch.setattr(scale, "write_block", real_write)
    partial = [r for part in sorted(out.glob("part-*.jsonl")) for r in records(part)]
    assert 0 < len(partial) < 200
    assert run_ray([str(items_200)], str(out) + "/") == 1  # items 0, 50, 100, 150 have no Arabic
    rows = [r for part in sorted(out.glob("part-*.jsonl")) for r in records(part)]
    pages = [r["page"] for r in rows if not r["secondary"]]
    assert len(pages) == len(set(pages)) == 200  # nothing lost, nothing twice
    assert not list(out.glob(".*.tmp"))


def test_an_unreachable_ray_address_is_one_clear_error(tmp_path, items_200, capsys):
    from summarizer.cli import main

    code = main(["batch", str(items_200), "--out", str(tmp_path / "o.jsonl"), "--engine", "extractive",
                 "--ray", "127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach the Ray cluster at 127.0.0.1:9" in err and "Traceback" not in err
    assert main(["batch", str(items_200), "--out", str(tmp_path / "o.jsonl"), "--ray", "nonsense"]) == 2
    assert "expected auto, HOST:PORT" in capsys.readouterr().err
