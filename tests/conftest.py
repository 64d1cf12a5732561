import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_PAGE = SEEDS / "000_681027fbe92e833c.txt"
SCRAPED_PAGE = SEEDS / "001_assembled_scraped_page.txt"


@pytest.fixture
def scraped_page() -> str:
    return SCRAPED_PAGE.read_text(encoding="utf-8")


@pytest.fixture
def seed_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]


@pytest.fixture(scope="session")
def tiny_seq2seq(tmp_path_factory) -> Path:
    from tests.tiny_models import build_seq2seq

    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    return build_seq2seq(tmp_path_factory.mktemp("tiny-t5"), texts)


@pytest.fixture(scope="session")
def tiny_causal(tmp_path_factory) -> Path:
    from tests.tiny_models import build_causal

    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    return build_causal(tmp_path_factory.mktemp("tiny-llama"), texts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The real server (`summarizer serve`, extractive engine) on a loopback port, for the whole session."""
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    log = open(tmp_path_factory.mktemp("server") / "server.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "summarizer.cli", "serve", "--port", str(port),
                             "--engine", "extractive"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail("server exited: " + log.read())
    else:
        proc.kill()
        pytest.fail("server did not start in 90 s")
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    log.close()
