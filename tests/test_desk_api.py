"""The API's finish (issue 21): /docs works offline, a malformed body answers one clear line."""

import re

import pytest
from fastapi.testclient import TestClient

from summarizer.engines import EngineSettings
from summarizer.service import Engines, build_api


@pytest.fixture(scope="module")
def client():
    return TestClient(build_api(Engines(EngineSettings(engine="extractive"))))


def test_docs_load_nothing_from_elsewhere_and_describe_every_operation(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # Nothing to fetch: no script at all, no address outside this server (Swagger UI came from a CDN: blank offline).
    assert "<script" not in page.text and not re.search(r"""(src|href)=["']?(https?:)?//""", page.text)
    for operation in ("POST /api/summarize", "POST /api/feedback", "GET /api/health"):
        assert operation in page.text
    for field in ("texts", "num_headlines", "summary_length", "headline", "chosen"):
        assert f"<code>{field}</code>" in page.text, field
    assert client.get("/redoc").status_code == 404  # the other CDN page is not offered
    assert client.get("/openapi.json").json()["paths"].keys() >= {"/api/summarize", "/api/feedback"}


@pytest.mark.parametrize("body", [b'{"text": ', b"{'text': 'x'}", b"\xff\xfe", b'{"text": "x",}'])
def test_a_malformed_body_answers_one_line_saying_the_json_is_bad(client, body):
    response = client.post("/api/summarize", content=body, headers={"content-type": "application/json"})
    message = response.json()["error"]
    assert response.status_code == 422 and len(message.splitlines()) == 1
    assert message.startswith("the request body is not valid JSON") and "character" in message


@pytest.mark.parametrize("body, message", [(b"", "the request body is empty: send a JSON object"),
                                           (b"[1, 2]", "the request body must be a JSON object")])
def test_an_empty_body_or_one_that_is_not_an_object_is_named_so(client, body, message):
    response = client.post("/api/summarize", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["error"] == message
