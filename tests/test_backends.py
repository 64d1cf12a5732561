"""The backend seam: hf and ct2 (CTranslate2) run the same tiny models to the same greedy output."""

import pytest

from summarizer.backends import load_backend
from summarizer.backends.ct2 import CT2Backend, converted_dir
from summarizer.backends.hf import HFBackend
from summarizer.clean import clean_page
from summarizer.engines import ModelEngine, make_engine
from summarizer.errors import ConfigError
from summarizer.generation import GenerationSettings

# Same decoding on both sides; repetition penalties are left out because the two runtimes define them differently.
GREEDY = GenerationSettings(max_new_tokens=10, headline_max_new_tokens=6, batch_size=2, max_input_tokens=48,
                            repetition_penalty=1.0, no_repeat_ngram_size=0, guard=False)


def articles(seed_texts):
    return [clean_page(t).articles[0] for t in seed_texts][:4]


@pytest.mark.parametrize("fixture", ["tiny_causal", "tiny_seq2seq"])
def test_ct2_float32_gives_the_same_greedy_output_as_hf(request, tmp_path, monkeypatch, seed_texts, fixture):
    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path))
    model = str(request.getfixturevalue(fixture))
    hf = ModelEngine(HFBackend.load(model, device="cpu"))
    ct2 = ModelEngine(CT2Backend.load(model, device="cpu", compute_type="float32"))
    assert ct2.backend.is_seq2seq == hf.backend.is_seq2seq == (fixture == "tiny_seq2seq")
    for task in ("summary", "headline"):
        assert ct2.generate(articles(seed_texts), task, GREEDY) == hf.generate(articles(seed_texts), task, GREEDY)
        # The raw text too (a random model's output may clean down to nothing): token for token the same.
        prompts = [hf.backend.task_format.render(task, a.text[:200]) for a in articles(seed_texts)]
        raw = [hf.backend.generate(prompts, task=task, max_new_tokens=8, settings=GREEDY, sources=prompts),
               ct2.backend.generate(prompts, task=task, max_new_tokens=8, settings=GREEDY, sources=prompts)]
        assert [[c.text for c in row] for row in raw[0]] == [[c.text for c in row] for row in raw[1]]
        assert all(row[0].text.strip() for row in raw[0])


def test_conversion_is_cached_and_survives_a_killed_conversion(tmp_path, monkeypatch, tiny_causal):
    import summarizer.backends.ct2 as ct2_module

    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path))
    target = converted_dir(str(tiny_causal), None, "int8")
    # A conversion killed half-way left its temporary directory and a lock file behind.
    target.parent.mkdir(parents=True)
    stale = target.parent / f".{target.name}-killed"
    stale.mkdir()
    (stale / "model.bin").write_bytes(b"half")
    (target.parent / f"{target.name}.lock").write_text("")
    calls = []
    real_convert = ct2_module.convert
    monkeypatch.setattr(ct2_module, "convert", lambda *a: (calls.append(a), real_convert(*a)))
    first = CT2Backend.load(str(tiny_causal), device="cpu")
    second = CT2Backend.load(str(tiny_causal), device="cpu")
    assert len(calls) == 1 and first.directory == second.directory == target
    assert not stale.exists()

    def broken(model, adapter, quantization, out_dir):
        (out_dir / "model.bin").write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(ct2_module, "convert", broken)
    with pytest.raises(OSError):
        CT2Backend.load(str(tiny_causal), device="cpu", compute_type="float32")
    assert not converted_dir(str(tiny_causal), None, "float32").exists()


def test_backend_errors_are_clear(tiny_causal):
    with pytest.raises(ConfigError, match="unknown backend 'onnx'; choose one of hf, ct2"):
        load_backend("onnx", str(tiny_causal))
    with pytest.raises(ConfigError, match="unknown backend"):
        make_engine("model", model=str(tiny_causal), backend="tensorrt")


def test_source_aware_decoding_on_hf_and_a_clear_error_on_ct2(tmp_path, monkeypatch, tiny_causal, seed_texts):
    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path))
    article = articles(seed_texts)[0]
    strict = GenerationSettings(max_new_tokens=12, max_input_tokens=48, strict_source=True, guard=False)
    engine = ModelEngine(HFBackend.load(str(tiny_causal), device="cpu"))
    backend = engine.backend
    from summarizer.backends.hf import FUNCTION_WORDS, source_token_ids

    [(texts, _)] = engine.generate([article], "summary", strict)
    allowed = source_token_ids(backend.loaded.tokenizer, article.text) | \
        source_token_ids(backend.loaded.tokenizer, FUNCTION_WORDS.replace(" ", "\n"))
    written = backend.loaded.tokenizer(texts[0], add_special_tokens=False).input_ids if texts else []
    # Re-tokenizing can merge pieces differently; every word written must still come from the allowed text.
    allowed_words = set(backend.loaded.tokenizer.decode(sorted(allowed)).split())
    assert texts and all(any(w in a or a in w for a in allowed_words) for w in texts[0].split()), (texts, written)
    with pytest.raises(ConfigError, match="need the hf backend"):
        ModelEngine(CT2Backend.load(str(tiny_causal), device="cpu")).generate([article], "summary", strict)
