"""The web demo: uploads only, page text shown as text, faithfulness marks, settings generated from the dataclass."""

import json
import re
import uuid
from pathlib import Path

import httpx
import pytest

from summarizer.engines import EngineSettings
from summarizer.generation import GenerationSettings
from summarizer.service import Engines
from summarizer.settings import describe
from tests.conftest import SEED_PAGE

from summarizer.fetch import FetchSettings  # noqa: E402

DEFAULTS = [info.default for info in describe(GenerationSettings)]
ENGINES = Engines(EngineSettings(engine="extractive"))


@pytest.fixture(scope="module")
def webapp():
    import summarizer.webapp as webapp

    return webapp


def test_batch_tab_reads_only_uploaded_files(webapp, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("كلمة السر للخادم: " + "سري " * 20, encoding="utf-8")
    for path in (str(secret), str(tmp_path / "missing.txt"), "/etc/passwd"):
        table, files = webapp.summarize_files(ENGINES, [path], "extractive", *DEFAULTS)
        assert table[0][3] == "لا يُلخَّص إلا ما رُفع عبر هذه الصفحة"  # the same whether the file exists
        record = json.loads(Path(files[0]).read_text(encoding="utf-8").splitlines()[0])
        assert record["error"] == "only files uploaded through this page can be summarized"  # records: English
        assert all("سري" not in Path(f).read_text(encoding="utf-8-sig") for f in files)


def test_an_uploaded_file_is_summarized(webapp):
    upload_dir = webapp.upload_folder() / uuid.uuid4().hex
    upload_dir.mkdir(parents=True)
    page = upload_dir / "page.txt"
    page.write_text(SEED_PAGE.read_text("utf-8"), encoding="utf-8")
    table, (jsonl, csv_path) = webapp.summarize_files(ENGINES, [str(page)], "extractive", *DEFAULTS)
    records = [json.loads(line) for line in Path(jsonl).read_text(encoding="utf-8").splitlines()]
    assert [r["secondary"] for r in records] == [False, True] and all(r["headline"] for r in records)


def gradio_call(base: str, inputs_for) -> str:
    """A crafted call through Gradio's own queue protocol, as a hostile client would send it."""
    config = httpx.get(base + "/config", timeout=10).json()
    file_ids = {c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "files"}
    fn_index = next(i for i, d in enumerate(config["dependencies"]) if file_ids & set(d["inputs"]))
    dep = config["dependencies"][fn_index]
    session = uuid.uuid4().hex
    body = {"data": inputs_for(len(dep["inputs"])), "fn_index": fn_index, "session_hash": session,
            "trigger_id": None}
    joined = httpx.post(base + "/gradio_api/queue/join", json=body, timeout=10)
    assert joined.status_code == 200, joined.text
    events = []
    with httpx.stream("GET", base + "/gradio_api/queue/data", params={"session_hash": session}, timeout=30) as r:
        for line in r.iter_lines():
            events.append(line)
            if "process_completed" in line:
                break
    return "\n".join(events)


def test_crafted_gradio_request_cannot_read_server_files(server, tmp_path):
    secret = tmp_path / "server-secret.txt"
    secret.write_text("سر الخادم " * 30, encoding="utf-8")

    def inputs(n):
        return [[{"path": str(secret), "meta": {"_type": "gradio.FileData"}}], "extractive", *DEFAULTS][:n]

    stream = gradio_call(server, inputs)
    assert "process_completed" in stream
    assert "سر الخادم" not in stream
    for url in [u for u in __import__("re").findall(r'"url": ?"([^"]+)"', stream) if "results" in u]:
        assert "سر الخادم" not in httpx.get(url, timeout=10).text


def desk(out: list) -> dict:
    """summarize_paste's outputs by name: the page's, and one dict per article panel."""
    names = ["box", "title", "candidates", "headline", "summary", "checks", "marks", "save", "evidence_box",
             "evidence"]
    state, engine, notes, removed, *rest = out
    panels = [dict(zip(names, rest[k:k + len(names)])) for k in range(0, len(rest), len(names))]
    return {"state": state, "engine": engine, "notes": notes, "removed": removed, "panels": panels}


def markdown_of(shown: dict) -> list[str]:
    """Every Markdown text the desk shows (page text must never be markup there)."""
    return [shown["notes"], shown["removed"]] + [p[k] for p in shown["panels"] for k in ("title", "checks")
                                                 if isinstance(p[k], str)]


def test_page_text_is_shown_as_text_never_as_markup(webapp):
    page = SEED_PAGE.read_text("utf-8").replace(
        "مرحلة جديدة من العلاقات العُمانية الجزائرية", '<img src="http://127.0.0.1:9/x.png" onerror="alert(1)">')
    page = page.replace("  • أين وصلت محاولات التطبيع بين تركيا وسورية؟", "  • ![صورة](http://127.0.0.1:9/y.png)")
    shown = desk(webapp.summarize_paste(ENGINES, page, "extractive", *DEFAULTS))
    for text in markdown_of(shown):
        assert "<img" not in text and "![" not in text and "](" not in text
    assert "وسوم HTML" in shown["removed"]  # cleaning removed the tag from the text, and the notes say so


def test_marks_show_what_the_article_does_not_support(webapp):
    source = "أعلن سيرغي لافروف وزير الخارجية الروسي أن 6 أشخاص قتلوا في موسكو."
    marks = dict((piece, label) for piece, label in webapp.marked("لافروف: 12 قتيلا في موسكو الثلاثاء", source))
    assert marks["لافروف:"] is None and marks["موسكو"] is None
    assert marks["12"] == webapp.UNSUPPORTED and marks["الثلاثاء"] == webapp.UNSUPPORTED


def test_a_real_upload_through_gradio_is_still_summarized(server):
    uploaded = httpx.post(server + "/gradio_api/upload", files={"files": ("page.txt", SEED_PAGE.read_bytes())},
                          timeout=10)
    assert uploaded.status_code == 200, uploaded.text
    (path,) = uploaded.json()

    def inputs(n):
        return [[{"path": path, "orig_name": "page.txt", "meta": {"_type": "gradio.FileData"}}], "extractive",
                *DEFAULTS][:n]

    stream = gradio_call(server, inputs)
    assert '"success": true' in stream.replace('"success":true', '"success": true')
    assert "لافروف" in stream  # the main article's summary


def test_controls_left_at_their_default_leave_the_models_recommended_value_in_force(webapp):
    from summarizer.generation import with_recommended
    from summarizer.settings import build

    values = list(DEFAULTS)
    names = [info.name for info in describe(GenerationSettings)]
    values[names.index("num_beams")] = 3
    chosen = webapp.settings_from_ui(values)
    assert chosen == {"num_beams": 3}
    effective = with_recommended(build(GenerationSettings, chosen), {"num_beams": 2, "guard_novel_rate": 0.5})
    assert (effective.num_beams, effective.guard_novel_rate) == (3, 0.5)


# --- the app factory and `summarizer serve` ------------------------------------------------------------------
def served_app(monkeypatch, *argv):
    """`summarizer serve ARGV` up to the point where it would listen: the app it hands to uvicorn, and where."""
    import uvicorn

    from summarizer.cli import main

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **where: calls.append((app, where)))
    assert main(["serve", *argv]) == 0
    ((app, where),) = calls
    return app, where


def test_serve_model_serves_a_tiny_local_model(monkeypatch, tiny_causal):
    from fastapi.testclient import TestClient

    app, _ = served_app(monkeypatch, "--model", str(tiny_causal), "--backend", "hf", "--device", "cpu")
    client = TestClient(app)
    health = client.get("/api/health").json()
    assert health["default_engine"] == "model" and "model" in health["engines"]
    settings = {"guard": False, "max_new_tokens": 8, "headline_max_new_tokens": 6, "model_tasks": "headline,summary"}
    text = SEED_PAGE.read_text("utf-8")
    response = client.post("/api/summarize", json={"text": text, "settings": settings})
    assert response.status_code == 200, response.text
    body = response.json()
    from summarizer.engines import EngineSettings, make_engine
    from summarizer.pipeline import summarize_pages
    from summarizer.settings import build

    engine = make_engine(EngineSettings(model=str(tiny_causal), backend="hf", device="cpu"))
    (page,) = summarize_pages([("", text)], engine, build(GenerationSettings, settings))
    assert body["engine"] == engine.name != "extractive"
    assert [(a["headline"], a["summary"]) for a in body["articles"]] == [(a.headline, a.summary) for a in page.articles]


def test_serve_hands_nothing_over_through_the_environment(monkeypatch):
    import os

    from fastapi.testclient import TestClient

    for name in ("SUMMARIZER_HOST", "SUMMARIZER_PORT", "SUMMARIZER_ENGINE", "SUMMARIZER_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    before = dict(os.environ)
    try:
        app, where = served_app(monkeypatch, "--engine", "extractive", "--backend", "hf", "--port", "7871")
        assert dict(os.environ) == before
    finally:
        os.environ.clear()
        os.environ.update(before)
    assert (where["host"], where["port"]) == ("127.0.0.1", 7871)
    assert TestClient(app).get("/api/health").json()["default_engine"] == "extractive"


def test_host_and_port_default_from_the_environment_and_flags_win(monkeypatch, capsys):
    from summarizer.cli import main

    monkeypatch.setenv("SUMMARIZER_HOST", "127.0.0.2")
    monkeypatch.setenv("SUMMARIZER_PORT", "7999")
    _, where = served_app(monkeypatch, "--engine", "extractive")
    assert (where["host"], where["port"]) == ("127.0.0.2", 7999)
    _, where = served_app(monkeypatch, "--engine", "extractive", "--port", "7001")
    assert where["port"] == 7001
    monkeypatch.setenv("SUMMARIZER_PORT", "seventy")
    capsys.readouterr()
    assert main(["serve", "--engine", "extractive"]) == 2
    err = capsys.readouterr().err
    assert "$SUMMARIZER_PORT" in err and len(err.strip().splitlines()) == 1


def test_app_py_honours_its_flags(monkeypatch):
    import runpy
    import sys

    import uvicorn

    from tests.conftest import ROOT

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **where: calls.append(where))
    monkeypatch.setattr(sys, "argv", ["app.py", "--port", "7871", "--engine", "extractive"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(ROOT / "app.py"), run_name="__main__")
    assert exited.value.code == 0 and calls[0]["port"] == 7871


def test_app_py_keeps_gradios_convention_a_module_level_demo_and_app():
    import runpy

    import gradio as gr
    from fastapi.testclient import TestClient

    from tests.conftest import ROOT

    module = runpy.run_path(str(ROOT / "app.py"), run_name="app")
    assert isinstance(module["demo"], gr.Blocks) and module["demo"].has_launched  # Gradio's upload check is on
    assert TestClient(module["app"]).get("/api/health").json()["default_engine"] == "default"


def test_importing_the_webapp_builds_nothing():
    import subprocess
    import sys

    code = ("import gradio as gr, summarizer.service as service\n"
            "built = []\n"
            "blocks, engines = gr.Blocks.__init__, service.Engines.__init__\n"
            "gr.Blocks.__init__ = lambda self, *a, **k: (built.append('Blocks'), blocks(self, *a, **k))[1]\n"
            "service.Engines.__init__ = lambda self, *a, **k: (built.append('Engines'), engines(self, *a, **k))[1]\n"
            "import summarizer.webapp as webapp\n"
            "print(built, [n for n in ('demo', 'app', 'engines') if hasattr(webapp, n)])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[] []"


# --- the editor's desk (issue 21) ------------------------------------------------------------------------------
def settings_values(**chosen) -> list:
    names = [info.name for info in describe(GenerationSettings)]
    values = list(DEFAULTS)
    for name, value in chosen.items():
        values[names.index(name)] = value
    return values


@pytest.fixture(scope="module")
def two_articles(webapp):
    """The scraped two-article page through the fake engine that fills candidates, checks and evidence."""
    from tests.conftest import SCRAPED_PAGE
    from tests.desk_fakes import DeskEngines

    return desk(webapp.summarize_paste(DeskEngines(), SCRAPED_PAGE.read_text("utf-8"), "extractive", *DEFAULTS))


def test_the_engine_line_is_plain_text_never_entities_in_a_code_span(two_articles):
    assert two_articles["engine"].startswith("gemma-3-270m+news-lora — ")
    for text in markdown_of(two_articles):
        # Markdown shows an entity inside a code span as typed: `gemma&#45;3` is what the desk once printed.
        assert not re.search(r"`[^`]*&#\d+;[^`]*`", text), text


def test_every_article_gets_its_candidates_marks_and_evidence(webapp, two_articles):
    from tests.desk_fakes import INVENTED

    first, second = two_articles["panels"][:2]
    assert [p["box"]["visible"] for p in two_articles["panels"]] == [True, True, False, False, False]
    for panel in (first, second):
        labels = [label for label, _ in panel["candidates"]["choices"]]
        assert len(labels) == 3 and panel["candidates"]["visible"]
        assert "مدعوم · 91%" in labels[0] and "غير مدعوم · 42%" in labels[1] and "يناقض المقال · 3%" in labels[2]
        assert panel["headline"] == panel["candidates"]["value"] == panel["candidates"]["choices"][0][1]
        assert {label for _, label in panel["evidence"]} >= {webapp.SUPPORTS_BOTH}
    # The second article's invented words are marked in its own panel (the desk once marked only the first).
    unsupported = " ".join(piece for piece, label in second["marks"] if label == webapp.UNSUPPORTED)
    assert all(word in unsupported for word in INVENTED.split()[1:])
    assert "الملخص:** غير مدعوم" in second["checks"]
    assert "قتلى مدنيون بأول أيام العيد في سوريا" in second["title"]
    assert two_articles["notes"].startswith("في الصفحة مقالان")


def test_choosing_a_candidate_fills_the_headline_box_and_highlights_its_evidence(webapp, two_articles):
    state = two_articles["state"]
    second_choice = two_articles["panels"][0]["candidates"]["choices"][1][1]
    headline, evidence = webapp.choose_candidate(0, state, second_choice)
    assert headline == second_choice
    last_sentence = state["articles"][0]["headline_candidates"][1]["evidence"][0]["text"]
    labels = {piece: label for piece, label in evidence}
    assert labels[last_sentence] in (webapp.SUPPORTS_HEADLINE, webapp.SUPPORTS_BOTH)
    first = state["articles"][0]["headline_candidates"][0]["evidence"][0]["text"]
    assert labels[first] == webapp.SUPPORTS_SUMMARY  # the summary's evidence stays; the old headline's is gone


def test_bullets_are_one_key_fact_a_line_and_the_count_of_candidates_is_a_setting(webapp):
    from tests.desk_fakes import DeskEngines

    values = settings_values(summary_length="bullets", num_headlines=2)
    shown = desk(webapp.summarize_paste(DeskEngines(), SEED_PAGE.read_text("utf-8"), "extractive", *values))
    panel = shown["panels"][0]
    lines = panel["summary"].splitlines()
    assert len(lines) == 3 and all(line.startswith("• ") for line in lines)
    assert len(panel["candidates"]["choices"]) == 2
    assert shown["state"]["summary_length"] == "bullets"


def test_without_candidates_or_checks_the_headline_stands_alone_with_its_lexical_marks(webapp):
    from tests.desk_fakes import BareEngine, DeskEngines

    shown = desk(webapp.summarize_paste(DeskEngines(BareEngine()), SEED_PAGE.read_text("utf-8"), "extractive", *DEFAULTS))
    panel = shown["panels"][0]
    assert panel["candidates"]["visible"] is False and panel["headline"]
    assert "لم يُفحص بالمدقق" in panel["checks"]
    assert panel["marks"] and {label for _, label in panel["evidence"]} == {None}  # no evidence to highlight


def test_removed_items_are_named_in_arabic(webapp, scraped_page):
    shown = desk(webapp.summarize_paste(ENGINES, scraped_page, "extractive", *DEFAULTS))
    for kind in ("المصدر", "الوسوم", "اقرأ أيضا", "مواد ذات صلة"):
        assert f"**{kind}:**" in shown["removed"], kind
    assert not re.search(r"\((source|tags|read_also|related|markup)\)", shown["removed"])


@pytest.mark.parametrize("text", ["", "hello world, no Arabic here", "\x00" * 10 + "خبر" * 10, "خبر " * 60_000])
def test_the_desk_says_what_went_wrong_in_arabic(webapp, text):
    with pytest.warns(UserWarning) as warned:  # gr.Warning outside a request is a Python warning
        shown = desk(webapp.summarize_paste(ENGINES, text, "extractive", *DEFAULTS))
    # The desk's own warnings (gr.Warning outside a request is a UserWarning); a ResourceWarning that garbage
    # collection happens to emit inside the block is not one of them.
    (message,) = [str(w.message) for w in warned if issubclass(w.category, UserWarning)
                  and "shadows an attribute" not in str(w.message)]
    assert message and not re.search(r"[A-Za-z]", message), message
    assert message in shown["notes"] and not any(p["box"]["visible"] for p in shown["panels"])


def test_bad_settings_are_named_by_their_arabic_labels(webapp):
    values = settings_values(num_beams=1, num_candidates=3)
    with pytest.warns(UserWarning):
        shown = desk(webapp.summarize_paste(ENGINES, SEED_PAGE.read_text("utf-8"), "extractive", *values))
    assert webapp.LABELS["num_candidates"] in shown["notes"] and not re.search(r"[A-Za-z]", shown["notes"])


def test_every_setting_has_an_arabic_label_and_the_common_ones_sit_at_the_top(webapp):
    assert {info.name for info in describe(GenerationSettings)} <= set(webapp.LABELS)
    demo = webapp.build_demo(ENGINES)
    ids = demo.config
    by_id = {c["id"]: c for c in ids["components"]}

    def elem_ids_under(node, inside=False, out=None):
        out = {} if out is None else out
        component = by_id.get(node["id"], {})
        inside = inside or component.get("type") == "accordion"
        if component.get("props", {}).get("elem_id"):
            out[component["props"]["elem_id"]] = inside
        for child in node.get("children", []):
            elem_ids_under(child, inside, out)
        return out

    placed = elem_ids_under(ids["layout"])
    assert all(placed[f"setting-{name}"] is False for name in webapp.COMMON)
    assert placed["setting-num_beams"] is True and placed["engine"] is False
    length = by_id[next(c["id"] for c in ids["components"] if c["props"].get("elem_id") == "setting-summary_length")]
    assert [label for label, _ in length["props"]["choices"]] == ["جملة واحدة", "فقرة قصيرة (2–3 جمل)",
                                                                  "نقاط (3–5 وقائع)"]
    copyable = [c["props"]["elem_id"] for c in ids["components"] if "copy" in (c["props"].get("buttons") or [])]
    assert {"headline-0", "summary-0", "headline-4", "summary-4"} <= set(copyable)


# --- the link box ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def page_server():
    from tests.desk_fakes import news_page_server

    with news_page_server() as url:
        yield url


def test_a_link_is_fetched_and_summarized_when_the_server_allows_private_addresses(webapp, page_server):
    from tests.desk_fakes import DeskEngines

    text, *out = webapp.summarize_url(DeskEngines(), FetchSettings(allow_private=True, timeout=5.0),
                                      page_server + "/news.html", "extractive", *DEFAULTS)
    shown = desk(out)
    assert "طرد 23 دبلوماسياً" in text and shown["panels"][0]["box"]["visible"]
    assert "طرد 23 دبلوماسياً" in shown["panels"][0]["summary"]


@pytest.mark.parametrize("link, words", [("/news.html", "عنوان داخلي"), ("", "الصق رابط"),
                                         ("ftp://example.com/x", "http"), ("www.example.com/news", "http")])
def test_a_link_the_server_will_not_fetch_is_refused_in_arabic(webapp, page_server, link, words):
    url = page_server + link if link.startswith("/") else link
    with pytest.warns(UserWarning):
        text_update, *out = webapp.summarize_url(ENGINES, FetchSettings(timeout=5.0), url, "extractive", *DEFAULTS)
    notes = desk(out)["notes"]
    assert words in notes.replace("&#58;", ":").replace("&#47;", "/") and text_update == {"__type__": "update"}


# --- saving the editor's choice ----------------------------------------------------------------------------------
def test_the_editors_choice_is_saved_only_with_a_feedback_folder(webapp, two_articles, tmp_path):
    from summarizer.feedback import FeedbackStore, read_feedback

    state = two_articles["state"]
    picked = two_articles["panels"][1]["candidates"]["choices"][1][1]
    with pytest.warns(UserWarning, match="--feedback-dir"):
        assert webapp.save_choice(None, 1, state, picked, picked, "ملخص") == ""
    store = FeedbackStore(tmp_path / "feedback")
    assert webapp.save_choice(store, 1, state, picked, picked + " معدّل", "ملخص المحرر") == "حُفظ اختيار المقال 2"
    ((item, problem),) = list(read_feedback(store.path))
    assert problem is None and item.chosen == 1 and item.headline == picked + " معدّل"
    assert item.article == state["articles"][1]["cleaned_text"] and item.engine == "gemma-3-270m+news-lora"
    assert len(item.candidates) == 3 and item.summary == "ملخص المحرر"
    with pytest.warns(UserWarning, match="العنوان فارغ"):
        assert webapp.save_choice(store, 1, state, picked, "   ", "ملخص") == ""
    assert len(store.path.read_text("utf-8").splitlines()) == 1


def test_serve_flags_turn_on_feedback_and_private_links(monkeypatch, tmp_path, capsys):
    from fastapi.testclient import TestClient

    from summarizer.cli import main

    app, _ = served_app(monkeypatch, "--engine", "extractive", "--feedback-dir", str(tmp_path / "fb"),
                        "--allow-private")
    body = {"article": SEED_PAGE.read_text("utf-8"), "headline": "عنوان المحرر"}
    assert TestClient(app).post("/api/feedback", json=body).status_code == 200
    assert (tmp_path / "fb" / "feedback.jsonl").is_file()
    (tmp_path / "file").write_text("x")
    capsys.readouterr()
    assert main(["serve", "--engine", "extractive", "--feedback-dir", str(tmp_path / "file" / "fb")]) == 2
    err = capsys.readouterr().err
    assert "feedback folder" in err and len(err.strip().splitlines()) == 1
