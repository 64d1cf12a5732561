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


# --- ranges and choices: written once on the field, enforced and shown everywhere ------------------------------
def test_every_numeric_generation_setting_has_a_documented_range():
    for info in describe(GenerationSettings):
        if info.type in (int, float):
            assert info.range is not None, info.name
            assert info.range.low <= info.default <= info.range.high, info.name


def test_out_of_range_values_are_all_reported_at_once_and_huge_numbers_are_clean_errors():
    hostile = {"num_beams": 1000, "num_candidates": 1000, "batch_size": 10**12, "headline_max_new_tokens": 10**30,
               "max_new_tokens": 10**5000, "guard_novel_rate": 7.5}
    with pytest.raises(ConfigError) as info:
        build(GenerationSettings, hostile)
    message = str(info.value)
    for name in hostile:
        assert name in message, name
    assert "from 1 to 8" in message and len(message) < 1000  # 5,000 digits are described, not echoed


def test_a_directly_made_settings_object_is_checked_against_the_ranges_too():
    assert any("num_beams" in p for p in GenerationSettings(num_beams=50, num_candidates=1).problems())


def test_cli_flags_with_huge_or_out_of_range_values_give_one_clear_line(capsys):
    from summarizer.cli import main
    from tests.conftest import SCRAPED_PAGE

    assert main(["summarize", "--engine", "extractive", "--headline-max-new-tokens", str(10**30),
                 "--beams", "1000", str(SCRAPED_PAGE)]) == 2
    err = capsys.readouterr().err
    assert "headline_max_new_tokens" in err and "num_beams" in err and "Traceback" not in err


from typing import Annotated, Literal  # noqa: E402

from summarizer.settings import Range  # noqa: E402


@dataclass(kw_only=True)
class WithRangedSettings(GenerationSettings):
    num_headlines: Annotated[int, Range(1, 5)] = 1
    """Headlines offered per article."""
    summary_length: Literal["short", "medium", "long"] = "medium"
    """How long a summary to write."""


def test_a_new_ranged_or_choice_setting_gets_flag_help_api_bounds_and_ui_bounds_with_no_other_edit():
    import argparse

    import gradio as gr

    import summarizer.webapp as webapp

    parser = argparse.ArgumentParser()
    add_arguments(parser, WithRangedSettings)
    help_text = " ".join(parser.format_help().split())
    assert "Headlines offered per article. (default: 1; from 1 to 5)" in help_text
    assert "{short,medium,long}" in help_text
    assert parser.parse_args(["--summary-length", "long"]).summary_length == "long"
    with pytest.raises(SystemExit):
        parser.parse_args(["--summary-length", "huge"])

    with pytest.raises(ConfigError, match="num_headlines must be from 1 to 5"):
        build(WithRangedSettings, {"num_headlines": 9})
    with pytest.raises(ConfigError, match="summary_length must be one of short, medium, long"):
        build(WithRangedSettings, {"summary_length": "huge"})
    assert build(WithRangedSettings, {"summary_length": "short"}).summary_length == "short"

    schema = pydantic_model(WithRangedSettings, name="S").model_json_schema()["properties"]
    ranged = next(option for option in schema["num_headlines"]["anyOf"] if option.get("type") == "integer")
    assert (ranged["minimum"], ranged["maximum"]) == (1, 5)
    assert "long" in str(schema["summary_length"])
    model = pydantic_model(WithRangedSettings, name="S")
    with pytest.raises(Exception):
        model(num_headlines=6)
    with pytest.raises(Exception):
        model(summary_length="huge")

    controls = {c.elem_id: c for c in webapp.setting_controls(WithRangedSettings)}
    number = controls["setting-num_headlines"]
    assert (number.minimum, number.maximum) == (1, 5)
    beams = controls["setting-num_beams"]
    assert (beams.minimum, beams.maximum) == (1, 8)
    choice = controls["setting-summary_length"]
    assert isinstance(choice, gr.Dropdown) and choice.value == "medium"
    assert [c[0] if isinstance(c, tuple) else c for c in choice.choices] == ["short", "medium", "long"]


def test_the_real_api_schema_bounds_every_numeric_setting():
    from fastapi.testclient import TestClient

    from summarizer.engines import EngineSettings
    from summarizer.service import Engines, build_api

    spec = TestClient(build_api(Engines(EngineSettings(engine="extractive")))).get("/openapi.json").json()
    properties = spec["components"]["schemas"]["GenerationSettings"]["properties"]
    for info in describe(GenerationSettings):
        if info.type in (int, float):
            typed = next(o for o in properties[info.name]["anyOf"] if o.get("type") in ("integer", "number"))
            assert (typed["minimum"], typed["maximum"]) == (info.range.low, info.range.high), info.name
