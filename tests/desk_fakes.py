"""A fake engine that fills what the checker and the candidate generator will (headline candidates with verdicts
and evidence, per-field checks, bullets), so the desk is tested without a model."""

import contextlib
import html
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from summarizer.article import Summary
from summarizer.engines import EngineSettings, ExtractiveEngine
from summarizer.extractive import shorten_headline
from summarizer.generation import TASKS
from summarizer.service import Engines
from summarizer.settings import ServeSettings
from summarizer.text import split_paragraphs, split_sentences
from tests.conftest import SCRAPED_PAGE

INVENTED = "في كوكب زحل"
"""Words no article holds: the second article's summary carries them, so the desk must mark them there."""


def sentences_of(text: str) -> list[str]:
    return [s for p in split_paragraphs(text) for s in split_sentences(p)]


def evidence(sentences: list[str], *indices: int) -> list[dict]:
    return [{"sentence": i, "text": sentences[i]} for i in indices if i < len(sentences)]


class DeskEngine:
    name = "gemma-3-270m+news-lora"  # hyphens and a plus: what the engine line once showed as &#45; and &#43;

    def summarize(self, articles, *, settings, tasks=TASKS):
        out = []
        for position, article in enumerate(articles):
            base = ExtractiveEngine().summarize([article], settings=settings)[0]
            sentences = sentences_of(article.text)
            candidates = [
                {"text": base.headline, "verdict": "supported", "score": 0.91, "evidence": evidence(sentences, 0)},
                {"text": shorten_headline(sentences[-1]), "verdict": "unsupported", "score": 0.42,
                 "evidence": evidence(sentences, len(sentences) - 1)},
                {"text": f"{base.headline} {INVENTED}", "verdict": "contradicted", "score": 0.03,
                 "evidence": evidence(sentences, 0)},
            ][: settings.num_headlines]
            points = sentences[:3] if settings.summary_length == "bullets" else []
            summary = " ".join(points) if points else base.summary
            if position == 1:
                summary = f"{summary} {INVENTED}"
                points = [*points[:-1], f"{points[-1]} {INVENTED}"] if points else []
            checks = {"headline": {"verdict": "supported", "score": 0.91, "evidence": evidence(sentences, 0),
                                   "by": "checker"},
                      "summary": {"verdict": "unsupported" if position == 1 else "supported", "score": 0.8,
                                  "evidence": evidence(sentences, *range(min(3, len(sentences)))), "by": "checker"}}
            out.append(Summary(headline=candidates[0]["text"], summary=summary, engine=self.name,
                               headline_candidates=candidates, summary_points=points, checks=checks))
        return out


class BareEngine:
    """An engine that gives a headline and a summary only (no candidates, no checks): a model checkpoint without a
    checker, as the desk must still show it."""

    name = "bare"

    def summarize(self, articles, *, settings, tasks=TASKS):
        found = ExtractiveEngine().summarize(articles, settings=settings)
        return [Summary(headline=s.headline, summary=s.summary, engine=self.name) for s in found]


class DeskEngines(Engines):
    """A server's engines whose `extractive` is the fake desk engine (or another engine given)."""

    def __init__(self, engine=None):
        super().__init__(EngineSettings(engine="extractive"))
        self._engines["extractive"] = engine or DeskEngine()


@contextlib.contextmanager
def news_page_server():
    """A loopback HTTP server with one Arabic news page (the scraped seed page's long lines as HTML) at
    /news.html; yields its base URL."""
    paragraphs = [line for line in SCRAPED_PAGE.read_text("utf-8").splitlines() if len(line.split()) > 12]
    body = ("<html><head><meta charset='utf-8'><title>خبر</title></head><body><article><h1>تبادل طرد "
            "الدبلوماسيين</h1>" + "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs) +
            "</article></body></html>").encode("utf-8")

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            found = self.path == "/news.html"
            data = body if found else b"not here"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def desk_server(settings: ServeSettings):
    """The desk (build_app over DeskEngines and `settings`) served by uvicorn on a loopback port in this process;
    yields its base URL."""
    import uvicorn

    from summarizer.webapp import build_app
    from tests.conftest import free_port

    app, _ = build_app(DeskEngines(), settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started:
        assert time.time() < deadline and thread.is_alive(), "the desk server did not start"
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
