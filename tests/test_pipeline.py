"""One pipeline: a page with two articles gives the same two records through the CLI, the API, the UI and batch."""

import json
import subprocess
import sys

from fastapi.testclient import TestClient

from summarizer.batch import run_batch
from summarizer.engines import EngineSettings, ExtractiveEngine
from summarizer.generation import GenerationSettings
from summarizer.record import SCHEMA_VERSION
from summarizer.service import Engines, build_api
from tests.conftest import SEED_PAGE

FIELDS = ("id", "headline", "summary", "secondary", "title")


def key(records):
    return [tuple(r[f] for f in FIELDS) for r in records]


def test_two_articles_two_records_on_every_path(tmp_path):
    text = SEED_PAGE.read_text("utf-8")
    page = tmp_path / "seed.txt"
    page.write_text(text, encoding="utf-8")

    cli = subprocess.run([sys.executable, "-m", "summarizer.cli", "summarize", "--engine", "extractive", "--json",
                          str(page)], capture_output=True, text=True, timeout=60)
    cli_records = [json.loads(line) for line in cli.stdout.splitlines()]

    engines = Engines(EngineSettings(engine="extractive"))
    api = TestClient(build_api(engines)).post("/api/summarize", json={"text": text}).json()["articles"]
    # the API has no file name: its ids follow the content, so they are compared without the id

    import summarizer.webapp as webapp

    upload = webapp.upload_folder() / "pipeline-test"
    upload.mkdir(parents=True, exist_ok=True)
    (upload / "seed.txt").write_text(text, encoding="utf-8")
    _, (jsonl, _) = webapp.summarize_files(engines, [str(upload / "seed.txt")], "extractive",
                                           *[i.default for i in webapp.describe(GenerationSettings)])
    ui_records = [json.loads(line) for line in open(jsonl, encoding="utf-8")]
    for record in ui_records:
        record["id"] = record["id"].replace("seed.txt", "seed", 1)

    out = tmp_path / "batch.jsonl"
    run_batch([str(page)], out=out, engine=ExtractiveEngine(), settings=GenerationSettings(), progress=False)
    batch_records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    for record in batch_records:
        record["id"] = "seed" + record["id"][len(record["page"]):]

    assert len(cli_records) == 2 and [r["secondary"] for r in cli_records] == [False, True]
    expected = key(cli_records)
    assert [(h, s, sec, t) for _, h, s, sec, t in key(api)] == [(h, s, sec, t) for _, h, s, sec, t in expected]
    assert key(ui_records) == expected
    assert key(batch_records) == expected
    for records in (cli_records, api, ui_records, batch_records):
        assert all(r["schema_version"] == SCHEMA_VERSION and r["status"] == "ok" for r in records)
        assert set(records[0]) == set(cli_records[0])  # the same record shape everywhere
