"""The web demo: uploads only, page text shown as text, faithfulness marks, settings generated from the dataclass."""

import json
import uuid

import httpx
import pytest

from summarizer.engines import EngineSettings
from summarizer.generation import GenerationSettings
from summarizer.service import Engines
from summarizer.settings import describe
from tests.conftest import SEED_PAGE

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
        assert table[0][3] == "only files uploaded through this page can be summarized"  # same whether it exists
        assert all("سري" not in open(f, encoding="utf-8-sig").read() for f in files)


def test_an_uploaded_file_is_summarized(webapp):
    upload_dir = webapp.upload_folder() / uuid.uuid4().hex
    upload_dir.mkdir(parents=True)
    page = upload_dir / "page.txt"
    page.write_text(SEED_PAGE.read_text("utf-8"), encoding="utf-8")
    table, (jsonl, csv_path) = webapp.summarize_files(ENGINES, [str(page)], "extractive", *DEFAULTS)
    records = [json.loads(line) for line in open(jsonl, encoding="utf-8")]
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


def test_page_text_is_shown_as_text_never_as_markup(webapp):
    page = SEED_PAGE.read_text("utf-8").replace(
        "مرحلة جديدة من العلاقات العُمانية الجزائرية", '<img src="http://127.0.0.1:9/x.png" onerror="alert(1)">')
    page = page.replace("  • أين وصلت محاولات التطبيع بين تركيا وسورية؟", "  • ![صورة](http://127.0.0.1:9/y.png)")
    headline, summary, marks, cleaned, notes, others = webapp.summarize_paste(ENGINES, page, "extractive", *DEFAULTS)
    for shown in (notes, others):
        assert "<img" not in shown and "![" not in shown and "](" not in shown
    assert "(markup)" in notes  # cleaning removed the tag from the text, and the notes say so


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
