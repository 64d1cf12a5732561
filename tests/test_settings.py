"""One settings layer: a field added to the dataclass shows up in --help, the web UI and the OpenAPI schema."""

from dataclasses import dataclass

import pytest

from summarizer.errors import ConfigError
from summarizer.generation import GenerationSettings
from summarizer.settings import add_arguments, build, describe, pydantic_model


@dataclass(kw_only=True)
class WithNewSetting(GenerationSettings):
    min_summary_words: int = 7
    """Shortest summary, in words, a model may write."""


def test_a_new_setting_appears_in_help_ui_and_openapi_with_no_other_edit():
    import argparse

    import summarizer.webapp as webapp
    from fastapi import FastAPI
    from pydantic import BaseModel

    parser = argparse.ArgumentParser()
    add_arguments(parser, WithNewSetting)
    help_text = parser.format_help()
    assert "--min-summary-words" in help_text and "Shortest summary, in words" in help_text
    assert parser.parse_args(["--min-summary-words", "9"]).min_summary_words == 9

    controls = webapp.setting_controls(WithNewSetting)
    assert len(controls) == len(describe(WithNewSetting))  # one control per field, whatever its type
    new = [c for c in controls if c.elem_id == "setting-min_summary_words"]
    assert len(new) == 1 and new[0].value == 7 and "Shortest summary" in new[0].label

    model = pydantic_model(WithNewSetting, name="Settings")

    class Request(BaseModel):
        settings: model

    api = FastAPI()

    @api.post("/summarize")
    def summarize(request: Request):
        return {}

    schema = api.openapi()["components"]["schemas"]["Settings"]["properties"]
    assert schema["min_summary_words"]["description"].startswith("Shortest summary")


def test_the_real_api_schema_lists_every_generation_setting():
    from fastapi.testclient import TestClient

    from summarizer.engines import EngineSettings
    from summarizer.service import Engines, build_api

    spec = TestClient(build_api(Engines(EngineSettings(engine="extractive")))).get("/openapi.json").json()
    properties = spec["components"]["schemas"]["GenerationSettings"]["properties"]
    assert {info.name for info in describe(GenerationSettings)} <= set(properties)


def test_build_lists_every_problem_at_once():
    with pytest.raises(ConfigError) as info:
        build(GenerationSettings, {"num_beams": 0, "colour": "red", "length_penalty": float("nan"), "guard": "yes"})
    message = str(info.value)
    for part in ("num_beams", "unknown setting 'colour'", "length_penalty", "guard must be bool"):
        assert part in message, part


def test_the_api_accepts_every_engine_the_cli_accepts_when_served():
    from fastapi.testclient import TestClient

    from summarizer.engines import engine_names
    from summarizer.engines import EngineSettings
    from summarizer.service import Engines, build_api

    engines = Engines(EngineSettings(engine="extractive"))
    client = TestClient(build_api(engines))
    text = "أعلنت وزارة الصحة اليوم عن حملة تطعيم وطنية جديدة تستهدف الأطفال في جميع المحافظات والقرى."
    for name in [*engines.allowed(), "lead-3"]:
        assert client.post("/api/summarize", json={"text": text, "engine": name}).status_code == 200, name
    assert set(engine_names()) - set(engines.allowed()) == {"default", "model"}  # served only when started so
