"""End to end: the real server on a loopback port, Debian's Chromium driven by Playwright, a screenshot kept."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, SCRAPED_PAGE

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {**os.environ, "SUMMARIZER_ENGINE": "extractive", "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
        if proc.poll() is not None:
            pytest.fail("server exited: " + proc.stdout.read())
    else:
        proc.kill()
        pytest.fail("server did not start in 90 s")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_paste_seed_page_and_read_headline_and_summary(server):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is required (apt-get install chromium)"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        page.goto(server, wait_until="networkidle")
        page.locator("#article textarea").fill(SCRAPED_PAGE.read_text(encoding="utf-8"))
        page.locator("#summarize").click()
        page.wait_for_function("document.querySelector('#summary textarea').value.length > 0", timeout=60_000)
        headline = page.locator("#headline textarea").input_value()
        summary = page.locator("#summary textarea").input_value()
        direction = page.locator("#summary textarea").get_attribute("dir")
        others = page.locator("#others").inner_text()
        page.screenshot(path=str(ARTIFACTS / "web-demo.png"), full_page=True)
        browser.close()
    assert any("\u0600" <= ch <= "\u06ff" for ch in headline)
    assert len(summary.split()) >= 10 and any("\u0600" <= ch <= "\u06ff" for ch in summary)
    for furniture in ("المصدر", "كلمات دلالية", "إقرأ أيضاً", "مقالات مشابهة", "http", "درعا"):
        assert furniture not in summary, furniture
    assert direction == "rtl"
    assert "قتلى مدنيون بأول أيام العيد في سوريا" in others  # the second article is shown on its own
