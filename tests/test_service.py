import asyncio
import time

import pytest
from fastapi.testclient import TestClient

from summarizer.engines import EngineSettings
from summarizer.service import BoundedQueue, Engines, QueueFull, build_api


@pytest.fixture(scope="module")
def client():
    return TestClient(build_api(Engines(EngineSettings(engine="extractive"))))


def test_summarize_one_page(client, scraped_page):
    response = client.post("/api/summarize", json={"text": scraped_page, "settings": {"summary_sentences": 2}})
    assert response.status_code == 200
    body = response.json()
    main, second = body["articles"]
    assert main["headline"] and main["summary"] and not main["secondary"] and second["secondary"]
    assert "درعا" not in main["summary"] and "المصدر" not in main["summary"]
    assert body["engine"] == "extractive" and body["seconds"] >= 0
    assert any(r["kind"] == "related" for r in body["removed"])


def test_batch_with_a_bad_item(client, scraped_page):
    response = client.post("/api/summarize", json={"texts": [scraped_page, "", "English only"], "engine": "lead"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results[0]["articles"]) == 2 and results[0]["engine"] == "lead-1"
    assert results[1] == {"error": "the input is empty"}
    assert results[2] == {"error": "the input has no Arabic text"}


@pytest.mark.parametrize("payload, status, message", [
    ({"text": ""}, 400, "empty"),
    ({"text": "no arabic here at all"}, 400, "no Arabic"),
    ({"text": "خبر " * 60_000}, 413, "over the limit"),
    ({"text": "خبر عاجل من القاهرة اليوم", "settings": {"colour": "red"}}, 422, "settings.colour: Extra inputs"),
    ({"text": "خبر عاجل من القاهرة اليوم", "settings": {"num_beams": 0}}, 422, "num_beams"),
    ({"text": "خبر عاجل من القاهرة اليوم", "engine": "gpt"}, 422, "unknown engine"),
    ({"text": "خبر عاجل من القاهرة اليوم", "engine": "lead-0"}, 422, "from 1 to 20"),
    ({"text": "خبر عاجل من القاهرة اليوم", "engine": "default"}, 422, "not served here"),

    ({"text": "a", "texts": ["b"]}, 422, "exactly one"),
    ({}, 422, "exactly one"),
])
def test_validation_errors(client, payload, status, message):
    response = client.post("/api/summarize", json=payload)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_schema_errors_and_openapi(client):
    assert client.post("/api/summarize", json={"text": 5}).status_code == 422
    assert client.post("/api/summarize", json={"text": "x", "extra": 1}).status_code == 422
    spec = client.get("/openapi.json").json()
    assert "/api/summarize" in spec["paths"]


def test_queue_is_bounded():
    async def scenario():
        queue = BoundedQueue(workers=1, max_waiting=1)
        slow = [asyncio.create_task(queue.run(time.sleep, 0.3)) for _ in range(2)]
        await asyncio.sleep(0.05)
        with pytest.raises(QueueFull):
            await queue.run(time.sleep, 0)
        await asyncio.gather(*slow)
        await queue.run(time.sleep, 0)  # room again once the queue drains

    asyncio.run(scenario())


def test_a_422_names_the_field_without_echoing_the_input(client):
    secret = "سر " * 1000
    response = client.post("/api/summarize", json={"text": secret, "settings": {"num_beams": "many"}})
    assert response.status_code == 422
    assert "settings.num_beams" in response.json()["error"] and "سر" not in response.text
    assert len(response.content) < 500


def test_oversized_bodies_are_refused_before_they_are_parsed(client):
    import json as _json

    huge = b'{"text": "' + "خبر ".encode() * 3_000_000 + b'"}'  # 24 MB
    response = client.post("/api/summarize", content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "over the limit" in response.json()["error"]

    def chunks():  # no Content-Length: the limit is applied while the body streams in
        yield b'{"texts": ["'
        for _ in range(2000):
            yield "خبر ".encode() * 1000
        yield b'"]}'

    response = client.post("/api/summarize", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert _json  # json imported for clarity of the payload format


def test_health_lists_the_engines_served(client):
    body = client.get("/api/health").json()
    assert body["default_engine"] == "extractive" and "default" not in body["engines"] and "lead" in body["engines"]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(client, value):
    body = '{"text": "خبر عاجل من القاهرة اليوم", "settings": {"length_penalty": %s}}' % value
    response = client.post("/api/summarize", content=body.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 422 and "length_penalty" in response.json()["error"]
