import pytest

from summarizer.clean import clean_page
from summarizer.engines import EngineSettings, ModelEngine, make_engine
from summarizer.errors import ModelLoadError
from summarizer.generation import TASK_FORMAT_FILE, GenerationSettings, TaskFormat, clean_output, fit_to_budget
from summarizer.backends import Candidate
from summarizer.backends.hf import HFBackend, load_model, position_limit
from summarizer.reasons import Reason

# guard off: a random tiny model writes unsupported words, and these tests compare what the model itself wrote.
SETTINGS = GenerationSettings(max_new_tokens=12, headline_max_new_tokens=6, batch_size=2, max_input_tokens=64,
                              guard=False, num_headlines=1)


def articles(seed_texts):
    return [clean_page(t).articles[0] for t in seed_texts]


@pytest.mark.parametrize("fixture, kind", [("tiny_seq2seq", "seq2seq"), ("tiny_causal", "causal")])
def test_load_generate_save_reload(request, tmp_path, seed_texts, fixture, kind):
    loaded = load_model(request.getfixturevalue(fixture), device="cpu")
    assert loaded.task_format.kind == kind
    engine = ModelEngine(HFBackend(loaded))
    first = engine.summarize(articles(seed_texts), settings=SETTINGS)
    assert len(first) == len(seed_texts)
    assert all(isinstance(s.summary, str) and isinstance(s.headline, str) for s in first)
    # save -> reload gives the same deterministic output
    loaded.model.save_pretrained(tmp_path)
    loaded.tokenizer.save_pretrained(tmp_path)
    loaded.task_format.save(tmp_path)
    again = ModelEngine(HFBackend(load_model(tmp_path, device="cpu"))).summarize(articles(seed_texts), settings=SETTINGS)
    assert [(s.summary, s.headline) for s in again] == [(s.summary, s.headline) for s in first]


def test_batch_order_preserved(tiny_causal, seed_texts):
    engine = ModelEngine(HFBackend(load_model(tiny_causal, device="cpu")))
    items = articles(seed_texts)
    one_by_one = [engine.generate([a], "summary", SETTINGS)[0] for a in items]
    batched = engine.generate(items, "summary", SETTINGS)  # length-sorted internally
    assert batched == one_by_one


def test_truncation_is_reported(tiny_seq2seq, seed_texts):
    engine = ModelEngine(HFBackend(load_model(tiny_seq2seq, device="cpu")))
    long_article = max(articles(seed_texts), key=lambda a: len(a.text))
    short_settings = GenerationSettings(max_new_tokens=4, headline_max_new_tokens=4, max_input_tokens=32, guard=False)
    (result,) = engine.summarize([long_article], settings=short_settings)
    assert result.truncated and [n.code for n in result.notes] == [Reason.TRUNCATED_INPUT]
    assert any("قُطع" in line for line in result.messages())
    big_settings = GenerationSettings(max_new_tokens=4, headline_max_new_tokens=4, max_input_tokens=100_000)
    (result,) = engine.summarize([long_article], settings=big_settings)
    assert not result.truncated


def test_fit_to_budget_keeps_start_and_whole_sentences():
    paragraphs = ["وصل الوزير صباحا. ثم التقى الرئيس.", "وبحث الطرفان التعاون. وأكدا الشراكة بينهما.", "وغادر مساء."]
    count = lambda text: len(text.split())  # noqa: E731 - one token per word
    text, cut = fit_to_budget(paragraphs, count, 100)
    assert not cut and text == "\n".join(paragraphs)
    text, cut = fit_to_budget(paragraphs, count, 11)
    assert cut and text == "وصل الوزير صباحا. ثم التقى الرئيس.\nوبحث الطرفان التعاون."
    text, cut = fit_to_budget(["كلمة " * 50], count, 10)
    assert cut and 0 < count(text) <= 10


def test_task_format_round_trip(tmp_path):
    fmt = TaskFormat(kind="seq2seq", prefixes={"summary": "لخص: ", "headline": "عنون: "})
    fmt.save(tmp_path)
    assert (tmp_path / TASK_FORMAT_FILE).is_file()
    loaded = TaskFormat.load(tmp_path)
    assert loaded == fmt and loaded.render("summary", "نص") == "لخص: نص"
    assert TaskFormat.load(tmp_path / "missing") is None
    assert TaskFormat().render("headline", "نص").startswith("نص")


def test_task_format_file_beside_weights_is_used(tiny_seq2seq, tmp_path):
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(tiny_seq2seq, copy)
    TaskFormat(kind="seq2seq", prefixes={"summary": "S: ", "headline": "H: "}).save(copy)
    assert load_model(copy, device="cpu").task_format.prefixes["summary"] == "S: "


def test_adapter_load_path(tiny_causal, tmp_path, seed_texts):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_causal)
    peft_model = get_peft_model(base, LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"],
                                                 init_lora_weights=False))
    peft_model.save_pretrained(tmp_path / "adapter")
    TaskFormat(kind="causal", templates={"summary": "{text}\nS:", "headline": "{text}\nH:"}).save(tmp_path / "adapter")
    engine = make_engine(EngineSettings(model=str(tiny_causal), adapter=str(tmp_path / "adapter"), device="cpu"))
    assert engine.backend.task_format.templates["summary"] == "{text}\nS:"  # the adapter's format wins
    plain = make_engine(EngineSettings(model=str(tiny_causal), device="cpu"))
    arts = articles(seed_texts)[:2]
    with_adapter = engine.summarize(arts, settings=SETTINGS)
    without = plain.summarize(arts, settings=SETTINGS)
    assert len(with_adapter) == 2 and with_adapter != without  # non-zero LoRA weights change the output


def test_bad_model_and_adapter_paths_are_clear_errors(tmp_path, tiny_causal):
    with pytest.raises(ModelLoadError, match="cannot load model"):
        load_model(tmp_path / "does-not-exist")
    with pytest.raises(ModelLoadError, match="no adapter_config.json"):
        load_model(tiny_causal, adapter=tmp_path)


def test_clean_output_rules():
    assert clean_output("ملخص الخبر: جملة أولى. جملة أولى. جملة ثانية", task="summary", finished=False) == "جملة أولى."
    assert clean_output("عنوان قصير\nسطر آخر", task="headline", finished=True) == "عنوان قصير"
    assert clean_output("<strong>عنوان</strong> مهم.", task="headline", finished=True) == "عنوان مهم"
    assert clean_output("كلمة كاملة ونصف", task="headline", finished=False) == "كلمة كاملة"


def test_settings_validation_lists_every_problem():
    with pytest.raises(ValueError) as info:
        GenerationSettings.from_dict({"num_beams": 0, "colour": "red", "length_penalty": -1})
    message = str(info.value)
    assert "num_beams" in message and "colour" in message and "length_penalty" in message


def test_engine_can_run_one_task_only(tiny_causal, seed_texts):
    engine = ModelEngine(HFBackend(load_model(tiny_causal, device="cpu")))
    (only_headline,) = engine.summarize(articles(seed_texts)[:1], settings=SETTINGS, tasks=("headline",))
    (both,) = engine.summarize(articles(seed_texts)[:1], settings=SETTINGS)
    assert only_headline.summary == "" and only_headline.headline == both.headline


def test_input_budget_respects_learned_positions(tiny_causal, seed_texts):
    loaded = load_model(tiny_causal, device="cpu")
    loaded.model.config.max_position_embeddings = 80  # as a BART-style hard limit
    assert position_limit(loaded, 12) == 80 - 12 - 2
    long_article = max(articles(seed_texts), key=lambda a: len(a.text))
    settings = GenerationSettings(max_new_tokens=12, max_input_tokens=10_000)
    ((_, truncated),) = ModelEngine(HFBackend(loaded)).generate([long_article], "summary", settings)
    assert truncated


def test_default_model_conversion_runs_once_under_a_lock(tmp_path, monkeypatch):
    import threading
    import time

    from summarizer import default_model

    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path))
    calls = []

    def fake_convert(out_dir):
        calls.append(out_dir)
        time.sleep(0.3)  # long enough for the second caller to find the lock held
        (out_dir / "config.json").write_text("{}")

    monkeypatch.setattr(default_model, "_convert_gguf", fake_convert)
    results = []
    threads = [threading.Thread(target=lambda: results.append(default_model.ensure_base_model())) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results[0] == results[1] == tmp_path / "gemma-3-270m"
    assert (tmp_path / "gemma-3-270m" / "config.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".gemma")]  # no temp dirs left behind


def test_failed_conversion_leaves_no_half_written_model(tmp_path, monkeypatch):
    from summarizer import default_model

    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path))

    def broken_convert(out_dir):
        (out_dir / "model.safetensors").write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(default_model, "_convert_gguf", broken_convert)
    with pytest.raises(OSError):
        default_model.ensure_base_model()
    assert not (tmp_path / "gemma-3-270m").exists()


def test_empty_model_output_falls_back_to_extractive(tiny_causal, seed_texts, monkeypatch):
    engine = ModelEngine(HFBackend(load_model(tiny_causal, device="cpu")))
    monkeypatch.setattr(engine.backend, "generate", lambda prompts, **kw: [[Candidate("", True)]] * len(prompts))
    article = articles(seed_texts)[0]
    (result,) = engine.summarize([article], settings=SETTINGS)
    assert result.summary and result.summary.split()[0] in article.text and result.headline
    assert result.fallback == {"summary": [Reason.EMPTY_OUTPUT], "headline": [Reason.EMPTY_OUTPUT]}
    assert any("استُبدل" in line for line in result.messages())


def test_central_input_selection_is_the_ranked_sentences_in_order_for_training_and_serving(tiny_causal):
    from summarizer.finetune.config import DataConfig
    from summarizer.finetune.data import build_examples
    from summarizer.article import Article
    from summarizer.extractive import rank_article
    from summarizer.generation import select_input
    from summarizer.text import split_sentences

    body = ["وتوقع خبراء الطقس أمطارا خفيفة على السواحل الشمالية نهاية الأسبوع.",
            "ضرب زلزال قوي جنوب البلاد صباح اليوم وأدى إلى انهيار مبان في ثلاث مدن.",
            "وقالت فرق الإنقاذ إن الزلزال أدى إلى انهيار عشرات المباني في جنوب البلاد.",
            "وافتتح المهرجان الثقافي أبوابه أمام الزوار بمشاركة فرق فنية.",
            "وأكد الدفاع المدني أن فرق الإنقاذ تبحث عن ناجين تحت المباني المنهارة بعد الزلزال."]
    count = lambda text: len(text.split())  # noqa: E731 - one token per word
    text, cut = select_input(body, count, 30, "central")
    picked = split_sentences(text)
    ranked = rank_article(Article(id="", paragraphs=body))
    best = max(range(len(body)), key=ranked.scores.__getitem__)
    assert cut and body[best] in picked and count(text) <= 30
    assert [body.index(s) for s in picked] == sorted(body.index(s) for s in picked)  # article order
    assert select_input(body, count, 30, "start") == fit_to_budget(body, count, 30)
    with pytest.raises(ValueError, match="input_selection"):
        select_input(body, count, 30, "random")

    # Training and serving put the same article to the model the same way.
    backend = HFBackend(load_model(tiny_causal, device="cpu"))
    backend.task_format = TaskFormat(input_selection="central", input_tokens=24)
    engine = ModelEngine(backend)
    article = Article(id="a", paragraphs=["مقدمة الخبر عن الزلزال.", *body], title="زلزال قوي يضرب جنوب البلاد")
    (served,), _, _ = engine.prompts([Article(id="a", paragraphs=article.body)], "headline",
                                     GenerationSettings(max_input_tokens=0))
    config = DataConfig(tasks=["headline"], faithful_targets=False)  # the budget: the task format's
    (example,) = build_examples([article], config, backend.task_format, backend.count_tokens)
    assert example.source == served
    assert select_input(body, backend.count_tokens, 24, "central")[0] in served


def test_the_models_recommended_settings_apply_where_the_caller_set_none(tiny_causal, seed_texts, monkeypatch):
    from summarizer.errors import ConfigError

    engine = ModelEngine(HFBackend(load_model(tiny_causal, device="cpu")))
    seen = []
    real = engine.backend.generate
    monkeypatch.setattr(engine.backend, "generate",
                        lambda prompts, **kw: (seen.append((kw["settings"].num_beams, kw["max_new_tokens"])),
                                               real(prompts, **kw))[1])
    engine.backend.task_format.generation = {"num_beams": 2, "headline_max_new_tokens": 3}
    article = articles(seed_texts)[:1]
    engine.summarize(article, settings=GenerationSettings.from_dict({"guard": False, "num_headlines": 1}),
                    tasks=("headline",))
    assert seen[-1] == (2, 3)  # the model's choice
    # What the caller sets wins, also when it is the library default the model's choice differs from.
    engine.summarize(article, settings=GenerationSettings.from_dict({"guard": False, "num_beams": 1, "num_headlines": 1}),
                     tasks=("headline",))
    assert seen[-1] == (1, 3)
    engine.summarize(article, settings=SETTINGS, tasks=("headline",))  # built directly: non-defaults are set
    assert seen[-1] == (2, 6)
    engine.backend.task_format.generation = {"num_beams": 0, "beam_width": 4}
    with pytest.raises(ConfigError, match=r"summarizer_task\.json.*num_beams.*beam_width|summarizer_task\.json.*"
                                          r"beam_width.*num_beams"):
        engine.summarize(article, settings=SETTINGS, tasks=("headline",))


def test_engine_settings_name_every_problem_at_once():
    from summarizer.errors import ConfigError
    from summarizer.settings import build

    with pytest.raises(ConfigError) as info:
        build(EngineSettings, {"engine": "model", "backend": "onnx", "device": "tpu", "threads": -1})
    message = str(info.value)
    for part in ("needs --model", "unknown backend 'onnx'", "device must be", "threads must be"):
        assert part in message, part
    with pytest.raises(ConfigError, match="unknown engine 'gpt'"):
        make_engine(EngineSettings(engine="gpt"))  # built directly, not through the settings layer: checked too


def test_weightless_engines_from_settings():
    assert make_engine(EngineSettings(engine="lead-3")).name == "lead-3"
    assert make_engine(EngineSettings(engine="extractive", device="cpu", threads=2)).name == "extractive"


def test_a_renamed_setting_is_read_under_its_old_name_from_files_written_before(tmp_path):
    """model_fields became model_tasks: an adapter's summarizer_task.json and a run's config.yaml keep the old key."""
    from summarizer.finetune.config import load_config, save_config, Config
    from summarizer.generation import with_recommended

    recommended = with_recommended(GenerationSettings(), {"model_fields": "headline", "num_beams": 2})
    assert (recommended.model_tasks, recommended.num_beams) == ("headline", 2)
    assert with_recommended(GenerationSettings(model_tasks="summary"), {"model_fields": "headline"}).model_tasks == \
        "summary"  # the caller's choice still wins
    save_config(Config(), tmp_path / "config.yaml")
    old = (tmp_path / "config.yaml").read_text("utf-8").replace("model_tasks:", "model_fields:")
    assert "model_fields: ''" in old
    (tmp_path / "config.yaml").write_text(old.replace("model_fields: ''", "model_fields: headline"), "utf-8")
    assert load_config(tmp_path / "config.yaml").generation.model_tasks == "headline"


def test_the_small_models_caution_goes_only_with_text_the_model_wrote(tiny_causal, seed_texts):
    """The caution about a small model's text is not shown when every field shown is the article's own."""
    engine = ModelEngine(HFBackend(load_model(tiny_causal, device="cpu")), warnings=["كتبه نموذج صغير"])
    article = articles(seed_texts)[:1]
    # A random tiny model never finishes a headline within 6 tokens: screened out, the article's headline shown.
    settings = GenerationSettings(headline_max_new_tokens=6, max_input_tokens=64, model_tasks="headline")
    (result,) = engine.summarize(article, settings=settings)
    assert result.fallback.get("headline") and not result.warnings
    raw = GenerationSettings(headline_max_new_tokens=6, max_input_tokens=64, model_tasks="headline", guard=False)
    (result,) = engine.summarize(article, settings=raw)  # unscreened: the model's text is shown, so is the caution
    assert not result.fallback and result.warnings == ["كتبه نموذج صغير"]
