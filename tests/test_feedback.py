"""Editors' feedback: saved safely by the desk and the API, read back by `summarizer train` as training targets."""

import json
import threading

import pytest
from fastapi.testclient import TestClient

from summarizer.clean import clean_page
from summarizer.errors import ConfigError
from summarizer.feedback import FORMAT, Feedback, FeedbackFull, FeedbackStore, read_feedback
from summarizer.service import Engines, build_api
from tests.conftest import ROOT, SEED_PAGE, SEEDS

ARTICLE = clean_page(SEED_PAGE.read_text("utf-8")).articles[0].text
CANDIDATES = [{"text": "لافروف يتهم لندن", "verdict": "supported", "score": 0.9,
               "evidence": [{"sentence": 0, "text": ARTICLE.splitlines()[0]}]},
              {"text": "موسكو ترد على لندن", "verdict": "unsupported", "score": 0.4, "evidence": []}]


def api(store):
    from summarizer.engines import EngineSettings

    return TestClient(build_api(Engines(EngineSettings(engine="extractive")), feedback=store))


def test_a_save_is_one_checked_line_with_what_was_chosen_and_edited(tmp_path):
    store = FeedbackStore(tmp_path / "fb")
    store.save(Feedback(article=ARTICLE, headline=CANDIDATES[1]["text"], candidates=CANDIDATES, chosen=1,
                        summary="ملخص", engine_summary="ملخص", engine="extractive"))
    store.save(Feedback(article=ARTICLE, headline="عنوان كتبه المحرر", summary="ملخص آخر", engine_summary="ملخص"))
    first, second = [json.loads(line) for line in store.path.read_text("utf-8").splitlines()]
    assert first["format"] == FORMAT and first["time"].endswith("+00:00") and first["chosen"] == 1
    assert (first["headline_edited"], first["summary_edited"]) == (False, False)
    assert (second["headline_edited"], second["summary_edited"]) == (True, True)
    assert [item.headline for item, _ in read_feedback(store.path)] == [CANDIDATES[1]["text"], "عنوان كتبه المحرر"]


@pytest.mark.parametrize("values, field", [
    ({"article": "", "headline": "عنوان"}, "article"),
    ({"article": "hello " * 50, "headline": "عنوان"}, "article"),
    ({"article": ARTICLE, "headline": ""}, "headline"),
    ({"article": ARTICLE, "headline": "ع" * 301}, "headline"),
    ({"article": ARTICLE, "headline": "عنوان", "chosen": 2, "candidates": CANDIDATES}, "chosen"),
    ({"article": ARTICLE, "headline": "عنوان", "candidates": [{"verdict": "supported"}]}, "candidates"),
    ({"article": ARTICLE, "headline": "عنوان", "candidates": [{"text": "x", "score": "high"}]}, "candidates"),
    ({"article": ARTICLE, "headline": "عنوان", "colour": "red"}, "colour"),
    ({"article": ARTICLE, "headline": 7}, "headline"),
])
def test_a_bad_save_is_refused_naming_the_field_and_nothing_is_written(tmp_path, values, field):
    store = FeedbackStore(tmp_path)
    with pytest.raises(ConfigError, match=field):
        store.save(Feedback.from_dict(values))
    assert not store.path.exists()


def test_the_file_is_bounded_and_what_was_saved_stays(tmp_path, monkeypatch):
    import summarizer.feedback as feedback

    store = FeedbackStore(tmp_path)
    item = Feedback(article=ARTICLE, headline="عنوان المحرر")
    store.save(item)
    before = store.path.read_bytes()
    monkeypatch.setattr(feedback, "MAX_FILE_BYTES", len(before) + 10)
    with pytest.raises(FeedbackFull):
        store.save(item)
    assert store.path.read_bytes() == before


def test_concurrent_saves_never_interleave(tmp_path):
    store = FeedbackStore(tmp_path)
    threads = [threading.Thread(target=store.save, args=(Feedback(article=ARTICLE, headline=f"عنوان {k}"),))
               for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    items = [item for item, problem in read_feedback(store.path) if problem is None]
    assert sorted(i.headline for i in items) == sorted(f"عنوان {k}" for k in range(16))


def test_a_link_at_the_files_name_is_not_followed(tmp_path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep")
    (tmp_path / "fb").mkdir()
    (tmp_path / "fb" / "feedback.jsonl").symlink_to(target)
    with pytest.raises(OSError):
        FeedbackStore(tmp_path / "fb").save(Feedback(article=ARTICLE, headline="عنوان"))
    assert target.read_text() == "keep"


def test_the_api_saves_feedback_only_when_the_server_has_a_folder(tmp_path):
    body = {"article": ARTICLE, "headline": "عنوان المحرر", "candidates": CANDIDATES, "chosen": 0}
    off = api(None).post("/api/feedback", json=body)
    assert off.status_code == 403 and "--feedback-dir" in off.json()["error"]
    client = api(FeedbackStore(tmp_path))
    saved = client.post("/api/feedback", json=body)
    assert saved.status_code == 200 and saved.json()["saved"] and saved.json()["headline_edited"]
    bad = client.post("/api/feedback", json={**body, "chosen": 5})
    assert bad.status_code == 422 and bad.json()["error"] == "chosen must be the index of one of the candidates"
    wrong = client.post("/api/feedback", json={**body, "chosen": "first"})
    assert wrong.status_code == 422 and "chosen" in wrong.json()["error"] and "first" not in wrong.json()["error"]
    assert len((tmp_path / "feedback.jsonl").read_text("utf-8").splitlines()) == 1


def test_bad_lines_in_a_feedback_file_cost_only_themselves(tmp_path):
    from summarizer.finetune.config import load_config
    from summarizer.finetune.data import load_feedback

    store = FeedbackStore(tmp_path)
    store.save(Feedback(article=ARTICLE, headline="عنوان المحرر"))
    with store.path.open("a", encoding="utf-8") as handle:
        handle.write('{"format": "summarizer-feedback/1", "headline": "torn\n{"no": "format"}\n')
    store.save(Feedback(article=ARTICLE, headline="عنوان ثان"))
    stats = {}
    config = load_config(None, ["--data.feedback", f"[{tmp_path}]"]).data
    assert [i.headline for i in load_feedback(config, stats)] == ["عنوان المحرر", "عنوان ثان"]
    assert stats == {"feedback: bad line": 2}


def test_feedback_examples_target_the_editors_text_for_the_whole_article(tmp_path):
    from summarizer.finetune.config import load_config
    from summarizer.finetune.data import build_feedback_examples
    from summarizer.generation import TaskFormat

    edited = "موسكو تتهم لندن"
    items = [Feedback(article=ARTICLE, headline=edited, summary=ARTICLE.splitlines()[0], candidates=CANDIDATES),
             Feedback(article=ARTICLE, headline=CANDIDATES[0]["text"], summary="• واقعة\n• أخرى",
                      summary_length="bullets")]
    config = load_config(None, ["--data.feedback_repeat", "2"]).data
    examples = build_feedback_examples(items, config, TaskFormat(input_tokens=4096), lambda t: len(t.split()))
    assert [(e.task, e.target) for e in examples] == [("headline", edited)] * 2 + \
        [("summary", ARTICLE.splitlines()[0])] * 2 + [("headline", CANDIDATES[0]["text"])] * 2  # no bullets
    assert ARTICLE.splitlines()[0] in examples[0].source  # the lead too: the editor titled the whole article


def test_feedback_round_trip_two_saves_train_one_step(tiny_causal, tmp_path, capsys):
    """Two choices saved through the desk and the API, then one training step on them alone with a tiny model."""
    from summarizer.finetune.train import main as train_main
    from summarizer.webapp import save_choice, summarize_paste
    from tests.desk_fakes import DeskEngines
    from tests.test_webapp import DEFAULTS, desk

    store = FeedbackStore(tmp_path / "feedback")
    shown = desk(summarize_paste(DeskEngines(), (SEEDS / "001_assembled_scraped_page.txt").read_text("utf-8"),
                                 "extractive", *DEFAULTS))
    second = shown["panels"][0]["candidates"]["choices"][1][1]
    assert save_choice(store, 0, shown["state"], second, second, shown["panels"][0]["summary"])
    saved = api(store).post("/api/feedback", json={"article": ARTICLE, "headline": "لافروف يتهم لندن"})
    assert saved.status_code == 200
    run = tmp_path / "run"
    args = ["--model.name", str(tiny_causal), "--data.paths", "[]", "--data.feedback", f"[{store.path}]",
            "--task.input_tokens", "48", "--data.max_target_tokens", "16", "--train.output_dir", str(run),
            "--train.batch_size", "4", "--train.steps", "1", "--train.warmup_steps", "0", "--train.log_every", "1",
            "--train.eval_every", "0", "--train.save_every", "0", "--model.lora_r", "2"]
    capsys.readouterr()
    assert train_main(["--config", str(ROOT / "configs/gemma3-270m-lora.yaml"), *args]) == 0
    assert "0 train articles and 2 feedback saves -> 3 examples" in capsys.readouterr().out
    steps = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps[0]["step"] == 1 and steps[0]["loss"] > 0
    assert (run / "best" / "adapter_config.json").is_file()


def test_a_missing_feedback_file_is_named_before_a_model_loads(tmp_path, capsys):
    from summarizer.finetune.train import main as train_main

    assert train_main(["--data.paths", "[]", "--data.feedback", f"[{tmp_path / 'none.jsonl'}]"]) == 2
    assert "data.feedback:" in capsys.readouterr().err
