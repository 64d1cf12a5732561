"""Real corpora from ../shared/data (not in CI's default run: pytest -m slow)."""

from pathlib import Path

import pytest

from summarizer.corpora import deduplicate, read_corpus
from summarizer.engines import ExtractiveEngine, LeadEngine
from summarizer.evaluation import evaluate, load_eval_articles
from summarizer.generation import GenerationSettings

pytestmark = pytest.mark.slow
DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def data(name: str) -> Path:
    path = DATA / name
    assert path.exists(), f"{path} is missing: the slow tests read the project's shared data folder"
    return path


def test_ant_multisource_reads_and_dedups():
    articles = list(read_corpus(data("ant-multisource-v2.1.tar.gz")))
    assert len(articles) > 30_000
    assert {a.source.lower() for a in articles} >= {"bbc", "cnn", "alarabia", "skynews", "france24"}
    unique = list(deduplicate(articles))
    assert len(articles) - len(unique) > 1_000  # the known France24/CNN duplicates
    assert all(a.paragraphs and a.title for a in unique[:1000])


def test_jawharafm_and_saudinewsnet_read():
    assert sum(1 for _ in read_corpus(data("ant-jawharafm-v1.1.tar.gz"))) > 9_000
    snn = list(read_corpus(data("saudinewsnet")))
    assert 29_000 < len(snn) <= 31_030 and all(a.url for a in snn[:100])


def test_lead_protocol_on_a_dev_sample():
    articles = load_eval_articles(str(data("ant-multisource-v2.1.tar.gz")), split="dev")
    report = evaluate([LeadEngine(1), ExtractiveEngine()], articles, "lead", GenerationSettings(), limit=200,
                      progress=False)
    assert report["n"] == 200
    for row in report["rows"]:
        assert 0.05 < row["rouge1"]["mean"] < 0.6
