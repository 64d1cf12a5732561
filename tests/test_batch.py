"""Batch over a loopback HTTP server serving fixture feeds and pages."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from summarizer.batch import append_records, read_done_ids, run_batch
from summarizer.clean import clean_page
from summarizer.engines import ExtractiveEngine
from summarizer.generation import GenerationSettings
from tests.conftest import SEEDS

SETTINGS = GenerationSettings(batch_size=2)


def article_html(n: int) -> bytes:
    texts = sorted(SEEDS.glob("*.txt"))
    article = clean_page(texts[n % len(texts)].read_text("utf-8")).articles[0]
    paragraphs = "".join(f"<p>{p}</p>" for p in article.paragraphs)
    return (f"<html><head><title>{article.title or 'خبر'}</title></head><body><nav>الرئيسية | رياضة | اقتصاد</nav>"
            f"<article><h1>{article.title or 'خبر'}</h1>{paragraphs}</article><footer>جميع الحقوق محفوظة</footer>"
            "</body></html>").encode("utf-8")


def rss(base: str, links: list[str]) -> bytes:
    items = "".join(f"<item><title>خبر {i}</title><link>{base}{link}</link></item>" for i, link in enumerate(links))
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>أخبار</title>{items}</channel></rss>'.encode()


def atom(base: str, links: list[str]) -> bytes:
    entries = "".join(f'<entry><title>خبر {i}</title><id>{base}{link}</id><link href="{base}{link}"/></entry>'
                      for i, link in enumerate(links))
    return f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>أخبار</title>{entries}</feed>'.encode()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        base = f"http://127.0.0.1:{self.server.server_port}"
        path = self.path
        if path == "/rss.xml":
            self.send(200, rss(base, ["/article/1", "/article/2", "/missing", "/slow", "/big", "/image.png"]),
                      "application/rss+xml")
        elif path == "/atom.xml":
            self.send(200, atom(base, ["/article/3", "/article/1"]), "application/atom+xml")
        elif path == "/bad.xml":
            self.send(200, b"<rss><channel><item><title>broken", "application/rss+xml")
        elif path.startswith("/many/"):
            self.send(200, rss(base, [f"/article/{i}" for i in range(int(path.split("/")[2]))]), "application/rss+xml")
        elif path.startswith("/article/"):
            self.send(200, article_html(int(path.rsplit("/", 1)[1])))
        elif path == "/slow":
            time.sleep(2.5)
            self.send(200, article_html(0))
        elif path == "/big":
            self.send(200, b"<html><body>" + "كلمة ".encode() * 40_000 + b"</body></html>")
        elif path == "/image.png":
            self.send(200, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png")
        else:
            self.send(404, b"not found")


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def records(path):
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def run(site, out, inputs, **kwargs):
    options = dict(out=out, engine=ExtractiveEngine(), settings=SETTINGS, allow_private=True, timeout=1.0,
                   max_bytes=50_000, progress=False)
    options.update(kwargs)
    return run_batch(inputs, **options)


def test_feeds_pages_and_errors(site, tmp_path):
    out = tmp_path / "results.jsonl"
    assert run(site, out, [f"{site}/rss.xml", f"{site}/atom.xml", f"{site}/bad.xml"]) == 0
    by_id = {r["id"]: r for r in records(out)}
    assert len(by_id) == len(records(out))  # /article/1 is in both feeds: summarized once
    for n in (1, 2, 3):
        record = by_id[f"{site}/article/{n}"]
        assert record["status"] == "ok" and record["headline"] and record["summary"]
        assert record["engine"] == "extractive" and "fetch" in record["timings"]
        assert "الرئيسية" not in record["summary"] and "جميع الحقوق" not in record["summary"]
    assert "HTTP 404" in by_id[f"{site}/missing"]["error"]
    assert "timeout" in by_id[f"{site}/slow"]["error"]
    assert "too large" in by_id[f"{site}/big"]["error"]
    assert "not an HTML page (image/png)" in by_id[f"{site}/image.png"]["error"]
    assert "not a readable RSS/Atom feed" in by_id[f"{site}/bad.xml"]["error"]


def test_private_addresses_refused_without_flag(site, tmp_path):
    out = tmp_path / "results.jsonl"
    assert run(site, out, [f"{site}/atom.xml"], allow_private=False) == 1  # nothing could be done
    (record,) = records(out)
    assert record["status"] == "error" and "refused" in record["error"] and "--allow-private" in record["error"]


def test_files_folders_and_jsonl(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    for p in sorted(SEEDS.glob("*.txt"))[:3]:
        (folder / p.name).write_text(p.read_text("utf-8"), encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    jsonl = tmp_path / "items.jsonl"
    jsonl.write_text(json.dumps({"id": "j1", "url": "http://x/1", "text": (SEEDS / "005_skynews.txt").read_text("utf-8")},
                                ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run_batch([str(folder), str(jsonl), str(tmp_path / "missing")], out=out, engine=ExtractiveEngine(),
                     settings=SETTINGS, progress=False) == 0
    rows = records(out)
    assert sum(r["status"] == "ok" for r in rows) == 4
    errors = [r["error"] for r in rows if r["status"] == "error"]
    assert any("empty" in e for e in errors) and any("no such file" in e for e in errors)


class CrashingEngine(ExtractiveEngine):
    """Dies on its n-th call, as a killed process would stop mid-run."""

    def __init__(self, crash_on: int):
        self.calls, self.crash_on = 0, crash_on

    def summarize(self, articles, *, settings):
        self.calls += 1
        if self.calls == self.crash_on:
            raise KeyboardInterrupt
        return super().summarize(articles, settings=settings)


def test_resume_after_kill_loses_and_duplicates_nothing(site, tmp_path):
    out = tmp_path / "results.jsonl"
    feed = f"{site}/many/20"
    with pytest.raises(KeyboardInterrupt):
        run(site, out, [feed], engine=CrashingEngine(crash_on=3), chunk_size=5)
    assert len(records(out)) == 10  # two whole chunks written before the "kill"
    with open(out, "ab") as handle:
        handle.write(b'{"id": "torn-line", "status": "o')  # a write cut off mid-line
    assert run(site, out, [feed], chunk_size=5) == 0
    rows = records(out)  # every line parses: the torn line was cut off
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == 20 and "torn-line" not in ids
    assert all(r["status"] == "ok" for r in rows)
    assert run(site, out, [feed], chunk_size=5) == 0  # all done already: skipped, not an error
    assert len(records(out)) == 20


def test_done_ids_and_atomic_append(tmp_path):
    out = tmp_path / "r.jsonl"
    append_records(out, [{"id": "a"}, {"id": "b"}])
    assert read_done_ids(out) == {"a", "b"}
    assert read_done_ids(tmp_path / "none.jsonl") == set()
