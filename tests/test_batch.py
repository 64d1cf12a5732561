"""Batch over a loopback HTTP server serving fixture feeds and pages."""

import errno
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from summarizer.batch import append_records, read_written, run_batch
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


HITS: dict[str, int] = {}
FLAKY = {"up": False}
ENTRY_TEXT = (SEEDS / "005_skynews.txt").read_text("utf-8")


def entries_feed(base: str) -> bytes:
    """Real feeds: text in content:encoded or description, sometimes no link, sometimes a link that fails."""
    body = "".join(f"<p>{p}</p>" for p in ENTRY_TEXT.splitlines() if p.strip())
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>أخبار</title>'
            f'<item><title>بلا رابط</title><guid isPermaLink="false">entry-1</guid>'
            f'<content:encoded><![CDATA[{body}]]></content:encoded></item>'
            f'<item><title>رابط معطل</title><link>{base}/missing</link>'
            f'<description><![CDATA[{body}]]></description></item>'
            '</channel></rss>').encode()


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
        elif path == "/trickle":  # one byte every 0.2 s, for ever (as far as any client can tell)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.2)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path.startswith("/redirect-to/"):
            HITS[path] = HITS.get(path, 0) + 1
            self.send_response(302)
            self.send_header("Location", "http://" + path.split("/", 2)[2])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/entries.xml":
            self.send(200, entries_feed(base), "application/rss+xml")
        elif path == "/sometimes":
            if FLAKY["up"]:
                self.send(200, article_html(2))
            else:
                self.send(404, b"not yet")
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
    assert run(site, out, [f"{site}/rss.xml", f"{site}/atom.xml", f"{site}/bad.xml"]) == 1  # some items failed
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
                     settings=SETTINGS, progress=False) == 1  # the empty page and the missing input failed
    rows = records(out)
    ok = [r for r in rows if r["status"] == "ok"]
    assert len({r["page"] for r in ok}) == 4  # three pages and one JSON Lines item
    # every article of a page is kept: the two seed pages with a second article give a secondary record each
    assert sum(r["secondary"] for r in ok) == 2 and len(ok) == 6
    assert all(r["schema_version"] == ok[0]["schema_version"] for r in rows)
    errors = [r["error"] for r in rows if r["status"] == "error"]
    assert any("فارغ" in e for e in errors) and any("no such file" in e for e in errors)


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
    assert set(read_written([out])) == {"a", "b"}
    assert read_written([tmp_path / "none.jsonl"]) == {}


def test_a_trickling_page_gets_one_deadline_for_the_whole_fetch(site, tmp_path):
    out = tmp_path / "r.jsonl"
    started = time.perf_counter()
    run(site, out, [str(write_feed(tmp_path, [f"{site}/trickle"]))], timeout=1.0)
    elapsed = time.perf_counter() - started
    (record,) = records(out)
    assert record["status"] == "error" and "timeout" in record["error"]
    assert elapsed < 4  # before: each read reset the timer, and the fetch lasted as long as the server trickled


def write_feed(tmp_path, links):
    path = tmp_path / "feed.xml"
    path.write_bytes(rss("", links))
    return path


@pytest.mark.parametrize("target, flag", [("169.254.169.254/latest/meta-data", "--allow-link-local"),
                                          ("10.1.2.3/admin", "--allow-private")])
def test_a_redirect_to_a_blocked_address_is_refused_once_not_retried(site, tmp_path, target, flag):
    from summarizer.fetch import Fetcher

    path = f"/redirect-to/{target}"
    HITS.pop(path, None)
    # allow_private opens loopback (the test server) but still not link-local; 10.x is checked without it.
    allow_private = flag == "--allow-link-local"
    out = tmp_path / "r.jsonl"
    feed = write_feed(tmp_path, [f"{site}{path}"])
    run(site, out, [str(feed)], allow_private=allow_private)
    (record,) = records(out)
    assert record["status"] == "error" and "refused" in record["error"] and flag in record["error"]
    if allow_private:
        assert HITS[path] == 1  # before: the refusal was retried, three requests in all
    assert Fetcher  # the same fetcher serves feeds and pages


def test_dns_rebinding_connects_to_the_address_that_was_checked():
    import asyncio

    import httpx

    from summarizer.fetch import Fetcher

    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])  # public for the check, then loopback
    lookups, seen = [], []

    def resolver(host, port, proto=0):
        lookups.append(host)
        return [(2, 1, 6, "", (next(answers), port))]

    def handler(request):
        seen.append((request.url.host, request.headers["host"], request.extensions.get("sni_hostname")))
        return httpx.Response(200, text="<html><body><p>نص</p></body></html>", headers={"content-type": "text/html"})

    async def scenario():
        fetcher = Fetcher(allow_private=False, timeout=5, concurrency=1, transport=httpx.MockTransport(handler),
                          resolver=resolver)
        try:
            await fetcher.get("https://rebind.example/news", html_only=True)
        finally:
            await fetcher.close()

    asyncio.run(scenario())
    assert lookups == ["rebind.example"]  # resolved once
    assert seen == [("93.184.216.34", "rebind.example", "rebind.example")]  # connected where it was checked


def test_feed_entries_without_links_or_with_failing_pages_use_their_own_text(site, tmp_path):
    out = tmp_path / "r.jsonl"
    assert run(site, out, [f"{site}/entries.xml"]) == 0
    rows = [r for r in records(out) if not r["secondary"]]
    by_title = {r["title"]: r for r in rows}
    assert set(by_title) == {"بلا رابط", "رابط معطل"}
    assert all(r["status"] == "ok" and r["text_source"] == "feed" and r["summary"] for r in rows)
    assert any("feed entry's own text" in w for w in by_title["رابط معطل"]["warnings"])
    assert "<p>" not in by_title["بلا رابط"]["summary"]


def test_retry_errors_redoes_failed_pages_only(site, tmp_path):
    out = tmp_path / "r.jsonl"
    feed = write_feed(tmp_path, [f"{site}/sometimes", f"{site}/article/1"])
    FLAKY["up"] = False
    run(site, out, [str(feed)])
    assert {r["page"]: r["status"] for r in records(out)} == {f"{site}/sometimes": "error", f"{site}/article/1": "ok"}
    FLAKY["up"] = True
    run(site, out, [str(feed)])  # a plain rerun: the error counts as done
    assert len(records(out)) == 2
    run(site, out, [str(feed)], retry_errors=True)
    rows = records(out)
    assert len(rows) == 3 and rows[-1]["page"] == f"{site}/sometimes" and rows[-1]["status"] == "ok"


def test_a_bad_json_lines_line_costs_only_itself(tmp_path):
    path = tmp_path / "items.jsonl"
    text = (SEEDS / "005_skynews.txt").read_text("utf-8")
    path.write_text("\n".join([json.dumps({"id": "good", "text": text}, ensure_ascii=False), "{broken",
                               json.dumps({"id": "n", "text": 5}), json.dumps({"id": "p", "paragraphs": "نص"}, ensure_ascii=False),
                               json.dumps({"id": "good2", "text": text}, ensure_ascii=False)]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run_batch([str(path)], out=out, engine=ExtractiveEngine(), settings=SETTINGS, progress=False) == 1
    rows = records(out)
    assert [r["status"] for r in rows if r["status"] == "ok"] == ["ok", "ok"]
    errors = sorted(r["error"] for r in rows if r["status"] == "error")
    assert len(errors) == 3
    assert any(":2: invalid JSON" in e for e in errors)
    assert any(":3: `text` must be a string" in e for e in errors)
    assert any(":4: `paragraphs` must be a list of strings" in e for e in errors)


# --- records are never silently lost --------------------------------------------------------------------------
def seed_items(path, n=12):
    """n JSON Lines items cycling through the seed pages (two of them hold a second article), every fifth unusable."""
    texts = [p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    lines = [json.dumps({"id": f"item-{i:02d}", "text": texts[i % len(texts)] if i % 5 != 4 else "English only"},
                        ensure_ascii=False) for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_items(items, out, **kwargs):
    return run_batch([str(items)], out=out, engine=ExtractiveEngine(), settings=SETTINGS, progress=False,
                     chunk_size=4, **kwargs)


def ids(path):
    return sorted(r["id"] for r in records(path))


def test_a_page_cut_off_between_its_records_is_completed_record_by_record(tmp_path):
    items = seed_items(tmp_path / "items.jsonl")
    reference = tmp_path / "reference.jsonl"
    run_items(items, reference)
    lines = reference.read_bytes().splitlines(keepends=True)
    first = [json.loads(line)["id"] for line in lines].index("item-07")  # a page with a second article
    assert json.loads(lines[first + 1])["id"] == "item-07#2"
    out = tmp_path / "out.jsonl"  # killed (-9) after the page's first record, mid-way through its second
    out.write_bytes(b"".join(lines[: first + 1]) + lines[first + 1][:40])
    run_items(items, out)
    assert ids(out) == ids(reference)  # before: item-07 counted as done, item-07#2 never written
    run_items(items, out)
    assert ids(out) == ids(reference)


class FullDisk:
    """A file on a disk that fills up during the n-th write: half of that write lands, then ENOSPC."""

    def __init__(self, handle, writes: list, fail_on: int):
        self.handle, self.writes, self.fail_on = handle, writes, fail_on

    def write(self, data):
        self.writes.append(len(data))
        if len(self.writes) == self.fail_on:
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.handle.write(data)

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self.handle.__exit__(*exc)


def test_disk_full_mid_batch_stops_with_one_line_and_the_rerun_completes_exactly(tmp_path, monkeypatch, capsys):
    import builtins

    import summarizer.batch as batch
    from summarizer.cli import main

    items = seed_items(tmp_path / "items.jsonl", n=20)
    reference, out = tmp_path / "reference.jsonl", tmp_path / "out.jsonl"
    run_items(items, reference)
    real_open, writes = builtins.open, []

    def filling_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        return FullDisk(handle, writes, fail_on=2) if "a" in mode and Path(file) == out else handle

    monkeypatch.setattr(batch, "open", filling_open, raising=False)
    command = ["batch", str(items), "--out", str(out), "--engine", "extractive", "--batch-size", "2"]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.startswith("summarizer:")]
    assert str(out) in line and os.strerror(errno.ENOSPC) in line
    assert len(writes) == 2 and 0 < len(records(out)) < len(records(reference))  # whole lines only, no half line
    monkeypatch.undo()
    assert main(command) == 1  # the unusable items failed, as in the reference run
    assert ids(out) == ids(reference)


@pytest.mark.parametrize("target", ["folder", "/dev/zero", "/proc/x", "/proc/version", "/sys/x"])
def test_an_unwritable_out_is_one_line_before_anything_is_summarized(tmp_path, monkeypatch, capsys, target):
    from summarizer.cli import main

    calls = []
    monkeypatch.setattr(ExtractiveEngine, "summarize", lambda self, *a, **k: calls.append(1) or [])
    out = tmp_path if target == "folder" else target
    code = main(["batch", str(seed_items(tmp_path / "items.jsonl")), "--out", str(out), "--engine", "extractive"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and calls == []
    (line,) = err.strip().splitlines()
    assert line.startswith("summarizer: error:") and str(out) in line


def test_items_sharing_an_id_or_a_url_are_kept_apart_and_said(tmp_path, capsys):
    texts = [p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt"))[2:7]]  # one article each
    lines = [{"id": "a", "url": "http://x/same", "text": texts[0]}, {"id": "b", "url": "http://x/same", "text": texts[1]},
             {"id": "c", "text": texts[2]}, {"id": "c", "text": texts[3]},  # one id, two articles
             {"id": "d", "text": texts[4]}, {"id": "d", "text": texts[4]}]  # the very same item twice
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run_items(items, out) == 0
    assert ids(out) == ["a", "b", "c", "c~2", "d"]  # the item's own id wins over its url
    err = capsys.readouterr().err
    assert "5 summarized" in err and "1 repeated id kept apart (c~2)" in err and "1 repeated item skipped" in err
    assert run_items(items, out) == 0 and len(records(out)) == 5
    assert "0 summarized" in capsys.readouterr().err


def test_retry_errors_appends_a_permanent_error_once_and_the_newest_record_wins(site, tmp_path):
    out = tmp_path / "r.jsonl"
    feed = write_feed(tmp_path, [f"{site}/missing", f"{site}/sometimes", f"{site}/article/1"])
    FLAKY["up"] = False
    run(site, out, [str(feed)])
    assert len(records(out)) == 3
    for _ in range(2):
        run(site, out, [str(feed)], retry_errors=True)
        assert len(records(out)) == 3  # before: 3 -> 5 -> 7, each retry appended the same errors again
    FLAKY["up"] = True
    run(site, out, [str(feed)], retry_errors=True)
    from summarizer.batch import read_results

    latest = {r["page"]: r["status"] for r in read_results(out)}
    assert len(records(out)) == 4 and len(read_results(out)) == 3
    assert latest == {f"{site}/missing": "error", f"{site}/sometimes": "ok", f"{site}/article/1": "ok"}


def test_batch_exits_1_and_counts_failures_by_kind_with_one_example_each(site, tmp_path, capsys):
    from summarizer.cli import main

    text = (SEEDS / "005_skynews.txt").read_text("utf-8")
    items = tmp_path / "items.jsonl"
    items.write_text("\n".join([json.dumps({"id": "ok", "text": text}, ensure_ascii=False), "{broken", "[1]",
                                json.dumps({"id": "en1", "text": "English only"}),
                                json.dumps({"id": "en2", "text": "English too"})]) + "\n", encoding="utf-8")
    feed = write_feed(tmp_path, [f"{site}/missing", f"{site}/image.png", f"{site}/article/1"])
    code = main(["batch", str(items), str(feed), str(tmp_path / "absent.jsonl"), "--out", str(tmp_path / "o.jsonl"),
                 "--engine", "extractive", "--allow-private"])
    err = capsys.readouterr().err
    assert code == 1  # before: 0, and only "6 failed"
    kinds = dict(re.findall(r"^  ([a-z-]+): (\d+) ", err, re.M))
    assert kinds == {"bad-line": "2", "unusable-text": "2", "http-status": "1", "not-html": "1",
                     "unreadable-input": "1"}
    assert len(re.findall(r"\(e\.g\. ", err)) == 5  # one example per kind
    assert re.search(r"bad-line: 2 \(e\.g\. .*items\.jsonl:2: invalid JSON", err)
