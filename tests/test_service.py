import asyncio
import time

import pytest
from fastapi.testclient import TestClient

from summarizer.engines import EngineSettings
from summarizer.fetch import FetchSettings
from summarizer.service import BoundedQueue, Engines, QueueFull, build_api
from tests.test_batch import site  # noqa: F401  (the loopback site: article pages and failures)


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
    assert results[1] == {"error": "النص فارغ"}  # users read these: Arabic
    assert results[2] == {"error": "لا نص عربي في المدخل"}


@pytest.mark.parametrize("payload, status, message", [
    ({"text": ""}, 400, "النص فارغ"),
    ({"text": "no arabic here at all"}, 400, "لا نص عربي"),
    ({"text": "خبر " * 60_000}, 413, "أطول من الحد"),
    ({"text": "خبر عاجل من القاهرة اليوم", "settings": {"colour": "red"}}, 422, "settings.colour: Extra inputs"),
    ({"text": "خبر عاجل من القاهرة اليوم", "settings": {"num_beams": 0}}, 422, "num_beams"),
    ({"text": "خبر عاجل من القاهرة اليوم", "engine": "gpt"}, 422, "unknown engine"),
    ({"text": "خبر عاجل من القاهرة اليوم", "engine": "lead-0"}, 422, "from 1 to 20"),
    ({"text": "خبر عاجل من القاهرة اليوم", "engine": "default"}, 422, "not served here"),

    ({"text": "a", "texts": ["b"]}, 422, "exactly one"),
    ({"text": "a", "url": "https://example.com/"}, 422, "exactly one"),
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


# --- hardening, round two --------------------------------------------------------------------------------------
TEXT = "أعلنت وزارة الصحة اليوم عن حملة تطعيم وطنية جديدة تستهدف الأطفال في جميع المحافظات والقرى."


@pytest.mark.parametrize("settings, name", [
    ({"num_beams": 1000, "num_candidates": 1000}, "settings.num_beams"),
    ({"batch_size": 10**12}, "settings.batch_size"),
    ({"headline_max_new_tokens": 10**30}, "settings.headline_max_new_tokens"),
    ({"max_input_tokens": 10**6}, "settings.max_input_tokens"),
])
def test_hostile_settings_are_a_422_naming_the_setting(client, settings, name):
    response = client.post("/api/summarize", json={"text": TEXT, "settings": settings})
    assert response.status_code == 422 and name in response.json()["error"]


def test_a_number_too_long_to_parse_is_a_client_error(client):
    body = '{"text": "%s", "settings": {"num_beams": %s}}' % (TEXT, "9" * 5000)
    response = client.post("/api/summarize", content=body.encode(), headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500 and len(response.content) < 500


@pytest.mark.parametrize("engine", ["lead-" + "9" * 5000, "x" * 1_000_000, "<script>alert(1)</script>"])
def test_bad_engine_names_are_a_short_422_that_never_echoes_them(client, engine):
    response = client.post("/api/summarize", json={"text": TEXT, "engine": engine})
    assert response.status_code == 422
    error = response.json()["error"]
    assert "engine" in error and "extractive" in error  # names the field and what is allowed
    assert len(response.content) < 500 and "<script>" not in response.text and "999999" not in response.text


@pytest.mark.parametrize("value", ["<script>alert(1)</script>", "y" * 1_000_000])
def test_bad_model_tasks_are_named_but_never_echoed(client, value):
    response = client.post("/api/summarize", json={"text": TEXT, "settings": {"model_tasks": value}})
    assert response.status_code == 422
    error = response.json()["error"]
    assert "model_tasks" in error and "headline" in error and "summary" in error
    assert len(response.content) < 500 and "<script>" not in response.text


def test_status_codes_follow_the_error_type_not_its_wording(client, monkeypatch):
    import summarizer.service as service
    from summarizer.errors import InputError, InputTooLarge

    monkeypatch.setattr(service, "summarize_pages", lambda *a, **k: (_ for _ in ()).throw(InputTooLarge("ما")))
    assert client.post("/api/summarize", json={"text": TEXT}).status_code == 413
    reworded = InputError("the input is over the limit, reworded")
    monkeypatch.setattr(service, "summarize_pages", lambda *a, **k: (_ for _ in ()).throw(reworded))
    assert client.post("/api/summarize", json={"text": TEXT}).status_code == 400


def test_an_oversized_page_is_a_typed_error_in_every_path(client):
    from summarizer.clean import check_page
    from summarizer.errors import InputTooLarge

    with pytest.raises(InputTooLarge):
        check_page("خبر " * 60_000)
    assert client.post("/api/summarize", json={"text": "خبر " * 60_000}).status_code == 413


def test_a_busy_server_says_when_to_retry(monkeypatch):
    async def full(self, fn, *args):
        raise QueueFull("busy")

    monkeypatch.setattr(BoundedQueue, "run", full)
    response = TestClient(build_api(Engines(EngineSettings(engine="extractive")))).post("/api/summarize", json={"text": TEXT})
    assert response.status_code == 503 and int(response.headers["retry-after"]) >= 1


def test_a_body_shorter_than_its_content_length_is_answered_and_closed_within_the_deadline():
    from summarizer.service import BodyLimit

    async def never_called(scope, receive, send):
        raise AssertionError("the application must not run on a body that never arrived")

    sent = []

    async def receive():
        if not sent:
            sent.append("first")
            return {"type": "http.request", "body": b'{"text": "', "more_body": True}
        await asyncio.sleep(3600)  # the rest of the declared body never comes

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "headers": [(b"content-length", b"100000")]}
    asyncio.run(asyncio.wait_for(BodyLimit(never_called, deadline=0.3)(scope, receive, send), timeout=5))
    start = next(m for m in sent if isinstance(m, dict) and m["type"] == "http.response.start")
    assert start["status"] in (400, 408) and (b"connection", b"close") in start["headers"]


def tiny_model_client(model_dir) -> TestClient:
    return TestClient(build_api(Engines(EngineSettings(engine="model", model=str(model_dir), backend="hf"))))


def test_work_per_request_is_bounded_with_a_422_naming_the_settings(tiny_causal, scraped_page):
    client = tiny_model_client(tiny_causal)
    fine = {"num_beams": 2, "num_candidates": 2, "max_new_tokens": 4, "headline_max_new_tokens": 4, "guard": False}
    assert client.post("/api/summarize", json={"text": scraped_page, "settings": fine}).status_code == 200
    # Each value is in its range; together, one forward pass would hold too many token positions.
    wide = {"num_beams": 8, "num_candidates": 8, "batch_size": 64, "max_input_tokens": 2048}
    response = client.post("/api/summarize", json={"texts": [scraped_page] * 32, "settings": wide})
    assert response.status_code == 422
    error = response.json()["error"]
    assert all(name in error for name in ("num_beams", "batch_size", "max_input_tokens"))
    # Within the per-pass bound, but 32 pages of long beams are too many decoder steps for one request.
    long = {"num_beams": 8, "num_candidates": 8, "batch_size": 1, "max_new_tokens": 256,
            "headline_max_new_tokens": 64, "max_input_tokens": 64}
    response = client.post("/api/summarize", json={"texts": [scraped_page] * 32, "settings": long})
    assert response.status_code == 422 and "articles" in response.json()["error"]
    assert "max_new_tokens" in response.json()["error"]


def test_weightless_engines_are_not_held_to_the_model_work_budget(client, scraped_page):
    long = {"num_beams": 8, "num_candidates": 8, "max_new_tokens": 256, "headline_max_new_tokens": 64}
    response = client.post("/api/summarize", json={"texts": [scraped_page] * 32, "settings": long})
    assert response.status_code == 200 and len(response.json()["results"]) == 32


def test_the_api_schema_has_no_field_that_shadows_pydantic():
    """A settings field named after a BaseModel attribute (model_fields did) makes pydantic warn at every start."""
    import warnings

    from summarizer.generation import GenerationSettings
    from summarizer.settings import pydantic_model

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pydantic_model(GenerationSettings, name="GenerationSettings")
    assert not [str(w.message) for w in caught]


# --- a page given by its url -----------------------------------------------------------------------------------
def test_a_url_is_fetched_by_the_batch_fetchers_rules_and_summarized(site):
    """The server's own loopback is refused unless it was started with --allow-private (a test site lives there)."""
    opened = TestClient(build_api(Engines(EngineSettings(engine="extractive")),
                                  fetch=FetchSettings(allow_private=True, timeout=1.0)))
    url = f"{site}/article/4"
    response = opened.post("/api/summarize", json={"url": url, "settings": {"summary_length": "bullets"}})
    assert response.status_code == 200, response.text
    (record, *_) = response.json()["articles"]
    assert record["url"] == url and record["id"] == url and record["headline"]
    assert 3 <= len(record["summary_points"]) <= 5 and "الرئيسية" not in record["summary"]
    missing = opened.post("/api/summarize", json={"url": f"{site}/missing"})
    assert missing.status_code == 502 and "HTTP 404" in missing.json()["error"]
    slow = opened.post("/api/summarize", json={"url": f"{site}/slow"})
    assert slow.status_code == 502 and "timeout" in slow.json()["error"]


@pytest.mark.parametrize("url, named", [("{site}/article/1", "loopback"), ("http://10.0.0.1/", "private"),
                                        ("http://169.254.169.254/latest/meta-data", "link-local"),
                                        ("file:///etc/passwd", "http:// or https://"),
                                        ("http://<script>alert(1)</script>/", "http:// or https://"),
                                        ("https://example.com/" + "a" * 3000, "url")])
def test_a_url_the_fetcher_will_not_fetch_is_a_clear_refusal(client, site, url, named):
    response = client.post("/api/summarize", json={"url": url.format(site=site)})
    assert response.status_code in (400, 422)
    error = response.json()["error"]
    assert named in error and "<script>" not in response.text and len(response.content) < 600
