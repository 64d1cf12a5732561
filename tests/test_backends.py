"""The backend seam: hf and ct2 (CTranslate2) run the same tiny models to the same greedy output."""

import inspect
from pathlib import Path

import pytest

from summarizer import backends
from summarizer.backends import Backend, Candidate, backend_class, backend_names, load_backend, register_backend
from summarizer.backends.ct2 import CT2Backend, converted_dir
from summarizer.backends.hf import HFBackend
from summarizer.clean import clean_page
from summarizer.engines import EngineSettings, ModelEngine, make_engine
from summarizer.errors import ConfigError, ModelLoadError
from summarizer.generation import GenerationSettings, TaskFormat
from tests.conftest import SEED_PAGE

# Same decoding on both sides, the default repetition penalties included: both penalize what the model writes, never
# the article it is given.
GREEDY = GenerationSettings(max_new_tokens=10, headline_max_new_tokens=6, batch_size=2, max_input_tokens=48,
                            guard=False)


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
    (tiny_causal / "README.md").write_text("a model card, edited")  # documentation: the same conversion
    assert converted_dir(str(tiny_causal), None, "int8") == target

    def broken(model, adapter, quantization, out_dir, *rest):
        (out_dir / "model.bin").write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(ct2_module, "convert", broken)
    with pytest.raises(OSError):
        CT2Backend.load(str(tiny_causal), device="cpu", compute_type="float32")
    assert not converted_dir(str(tiny_causal), None, "float32").exists()


def test_a_trimmed_output_layer_writes_only_kept_tokens_and_the_same_text_when_they_suffice(
        tmp_path, monkeypatch, tiny_causal, seed_texts):
    import shutil

    from summarizer.vocab import save_output_vocab

    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path / "cache"))
    from transformers import AutoTokenizer

    full = CT2Backend.load(str(tiny_causal), device="cpu", compute_type="float32")
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_causal))
    prompts = [full.task_format.render("summary", a.text[:200]) for a in articles(seed_texts)]
    settings = GenerationSettings(max_new_tokens=8, repetition_penalty=1.0, no_repeat_ngram_size=0, batch_size=2)

    def generated_ids(backend):
        rows = backend.generate(prompts, task="summary", max_new_tokens=8, settings=settings, sources=prompts)
        return [tokenizer(row[0].text, add_special_tokens=False).input_ids for row in rows], [r[0].text for r in rows]

    full_ids, full_text = generated_ids(full)
    size = len(tokenizer)
    used = {i for ids in full_ids for i in ids}
    extra = set(range(0, size, 3))  # a third of the rest: the output layer shrinks to about half
    cases = {"suffice": used | extra, "lack": extra - used}
    for name, keep in cases.items():
        model = tmp_path / name
        shutil.copytree(tiny_causal, model)
        save_output_vocab(model, keep, size)
        trimmed = CT2Backend.load(str(model), device="cpu", compute_type="float32")
        assert trimmed.output_tokens is not None and trimmed.output_tokens < size
        ids, text = generated_ids(trimmed)
        if name == "suffice":  # same logits over the kept rows: the same greedy text
            assert text == full_text
        else:  # kept tokens only (with the specials and template tokens every served vocabulary keeps)
            from summarizer.backends.ct2 import serving_vocab

            allowed = set(tokenizer.convert_ids_to_tokens(sorted(serving_vocab(str(model), tokenizer,
                                                                              trimmed.task_format))))
            assert trimmed.output_tokens == len(allowed)
            starts = [tokenizer.convert_ids_to_tokens(tokenizer(p).input_ids) for p in prompts]
            raw = [runner.model.generate_batch(starts, max_length=12, include_prompt_in_result=False,
                                               repetition_penalty=5.0) for runner in (full, trimmed)]
            written = [set(r.sequences[0]) for r in raw[0]]
            assert any(tokens - allowed for tokens in written)  # the full model writes tokens this one lacks...
            assert all(set(r.sequences[0]) <= allowed for r in raw[1])  # ...which it never writes
    untrimmed = CT2Backend.load(str(tmp_path / "suffice"), device="cpu", compute_type="float32", trim_vocab=False)
    assert untrimmed.output_tokens is None


def test_ct2_workers_side_by_side_write_what_one_worker_writes(tmp_path, monkeypatch, tiny_causal, seed_texts):
    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path))
    one = ModelEngine(CT2Backend.load(str(tiny_causal), device="cpu", compute_type="float32", threads=1))
    two = ModelEngine(CT2Backend.load(str(tiny_causal), device="cpu", compute_type="float32", threads=2))
    assert not one.backend.concurrent and two.backend.concurrent
    settings = GenerationSettings(max_new_tokens=8, headline_max_new_tokens=6, guard=False, batch_size=3)
    assert [(s.headline, s.summary) for s in two.summarize(articles(seed_texts), settings=settings)] == \
        [(s.headline, s.summary) for s in one.summarize(articles(seed_texts), settings=settings)]


def test_backend_errors_are_clear(tiny_causal):
    with pytest.raises(ConfigError, match="unknown backend 'onnx'; choose one of hf, ct2"):
        load_backend("onnx", str(tiny_causal))
    with pytest.raises(ConfigError, match="unknown backend"):
        make_engine(EngineSettings(model=str(tiny_causal), backend="tensorrt"))


def spelled_by(text: str, pieces: set[str]) -> bool:
    """Whether the text (as the tiny models' Metaspace tokenizer writes it: spaces as ▁, the first one dropped on
    decoding) is a concatenation of the given token strings; a re-tokenization could split it differently, so
    every split is tried."""
    longest = max(map(len, pieces))

    def splits(spelled: str) -> bool:
        reachable = [True] + [False] * len(spelled)
        for end in range(1, len(spelled) + 1):
            reachable[end] = any(reachable[start] and spelled[start:end] in pieces
                                 for start in range(max(0, end - longest), end))
        return reachable[-1]

    spelled = text.replace(" ", "▁")
    return splits("▁" + spelled) or splits(spelled)


@pytest.mark.parametrize("fixture", ["tiny_causal", "tiny_seq2seq"])
def test_strict_decoding_writes_only_article_and_function_word_tokens_on_both_backends(
        request, tmp_path, monkeypatch, seed_texts, fixture):
    from summarizer.generation import common_token_ids, source_token_ids

    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path))
    directory = request.getfixturevalue(fixture)
    article = articles(seed_texts)[0]
    strict = GenerationSettings(max_new_tokens=12, max_input_tokens=48, strict_source=True, guard=False)
    plain = GenerationSettings(max_new_tokens=12, max_input_tokens=48, guard=False)
    for backend in (HFBackend.load(str(directory), device="cpu"),
                    CT2Backend.load(str(directory), device="cpu", compute_type="float32")):
        engine = ModelEngine(backend)
        tokenizer = backend.tokenizer if backend.name == "ct2" else backend.loaded.tokenizer
        [(texts, _)] = engine.generate([article], "summary", strict)
        [fitted] = engine.prompts([article], "summary", strict)[1]
        allowed = source_token_ids(tokenizer, fitted[0]) | common_token_ids(tokenizer, [])
        pieces = set(tokenizer.convert_ids_to_tokens(sorted(allowed)))
        assert texts and spelled_by(texts[0], pieces), (backend.name, texts)
        if fixture == "tiny_causal":
            # The tiny random causal model writes tokens from all over its vocabulary: without the constraint it
            # leaves the allowed set, so the check above is not vacuous (the seq2seq one happens to write single
            # letters, which the article has anyway).
            [(unconstrained, _)] = engine.generate([article], "summary", plain)
            assert not spelled_by(unconstrained[0], pieces), (backend.name, unconstrained)
    with pytest.raises(ConfigError, match="source_boost needs the hf backend"):
        engine.generate([article], "summary", GenerationSettings(source_boost=2.0))


def test_strict_decoding_writes_the_same_on_hf_and_ct2(tmp_path, monkeypatch, tiny_causal, seed_texts):
    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path))
    strict = GenerationSettings(max_new_tokens=10, max_input_tokens=48, strict_source=True, guard=False,
                                batch_size=3)
    outputs = []
    for backend in (HFBackend.load(str(tiny_causal), device="cpu"),
                    CT2Backend.load(str(tiny_causal), device="cpu", compute_type="float32")):
        outputs.append([texts for texts, _ in ModelEngine(backend).generate(articles(seed_texts), "headline",
                                                                              strict)])
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize("fixture", ["tiny_causal", "tiny_seq2seq"])
def test_the_ct2_tokenizer_encodes_and_decodes_as_transformers_does(request, seed_texts, fixture):
    from transformers import AutoTokenizer

    from summarizer.backends.ct2 import FastTokenizer

    directory = request.getfixturevalue(fixture)
    fast, reference = FastTokenizer(directory), AutoTokenizer.from_pretrained(str(directory))
    assert (fast.eos_token_id, fast.unk_token_id) == (reference.eos_token_id, reference.unk_token_id)
    for text in [*seed_texts, "عنوان الخبر:\n", "Reuters 2024 ٤٥٦", ""]:
        for special in (True, False):
            assert fast(text, add_special_tokens=special).input_ids == \
                reference(text, add_special_tokens=special).input_ids
        ids = reference(text).input_ids + [reference.eos_token_id]
        assert fast.convert_ids_to_tokens(ids) == reference.convert_ids_to_tokens(ids)
        assert fast.convert_tokens_to_ids(fast.convert_ids_to_tokens(ids)) == ids
        for skip in (True, False):
            assert fast.decode(ids, skip_special_tokens=skip) == reference.decode(ids, skip_special_tokens=skip)


def test_the_ct2_backend_does_not_import_torch(tmp_path, tiny_causal):
    import subprocess
    import sys

    code = ("import sys; from summarizer.backends.ct2 import CT2Backend; "
            f"b = CT2Backend.load({str(tiny_causal)!r}, device='cpu'); "
            "b.generate([b.task_format.render('summary', 'نص قصير')], task='summary', max_new_tokens=3, "
            "settings=__import__('summarizer.generation').generation.GenerationSettings(), sources=['نص']); "
            "print('torch' in sys.modules)")
    env = {**__import__("os").environ, "SUMMARIZER_CACHE": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)  # converts (torch)
    warm = subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True)
    assert warm.stdout.strip() == "False"  # a warm start reads the converted model without torch


class FakeBackend:
    """The smallest backend: whitespace tokens, and for each prompt the first words of its article."""

    name, is_seq2seq, concurrent, variants = "fake", False, False, {}

    def __init__(self, model: str):
        self.label = f"fake:{Path(model).name}"
        self.task_format = TaskFormat()

    @classmethod
    def load(cls, model, *, adapter=None, device="auto", threads=None):
        if not Path(model).is_dir():
            raise ModelLoadError(f"cannot load model {model!r}: not a directory")
        return cls(model)

    def count_tokens(self, text, *, special=False):
        return len(text.split()) + special

    def position_limit(self, max_new_tokens):
        return 512 - max_new_tokens

    def generate(self, prompts, *, task, max_new_tokens, settings, sources):
        return [[Candidate(" ".join(source.split()[:max_new_tokens]), True)] for source in sources]


@pytest.fixture
def fake_backend(monkeypatch):
    """FakeBackend registered as "fake" for this test only."""
    monkeypatch.setattr(backends, "BACKENDS", dict(backends.BACKENDS))
    register_backend("fake", "tests.test_backends:FakeBackend")
    return "fake"


@pytest.mark.parametrize("name", [*backend_names(), "fake"])
def test_every_registered_backend_meets_the_contract(name, fake_backend, tiny_causal, tmp_path, monkeypatch,
                                                     seed_texts):
    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path))
    cls = backend_class(name)
    assert isinstance(inspect.getattr_static(cls, "load"), classmethod) and isinstance(cls.variants, dict)
    with pytest.raises(ModelLoadError, match="absent"):
        load_backend(name, str(tmp_path / "absent"), device="cpu")
    backend = load_backend(name, str(tiny_causal), device="cpu")
    assert isinstance(backend, Backend) and backend.name == name
    assert isinstance(backend.label, str) and backend.label and isinstance(backend.task_format, TaskFormat)
    assert isinstance(backend.is_seq2seq, bool) and isinstance(backend.concurrent, bool)
    items = articles(seed_texts)[:3]
    plain, special = backend.count_tokens(items[0].text), backend.count_tokens(items[0].text, special=True)
    assert type(plain) is int and 0 < plain <= special
    assert 0 < backend.position_limit(64) and backend.position_limit(128) <= backend.position_limit(64)
    prompts = [backend.task_format.render("headline", a.text[:200]) for a in items]
    rows = backend.generate(prompts, task="headline", max_new_tokens=6, sources=[a.text[:200] for a in items],
                            settings=GenerationSettings(num_beams=2, num_candidates=2))
    assert len(rows) == 3 and all(1 <= len(row) <= 2 for row in rows)
    assert all(type(c) is Candidate and isinstance(c.text, str) and isinstance(c.finished, bool)
               and isinstance(c.score, float) for row in rows for c in row)
    (summary,) = ModelEngine(backend).summarize(items[:1], settings=GREEDY)
    assert summary.engine == backend.label and summary.headline and summary.summary


def test_a_registered_backend_is_offered_by_the_cli(fake_backend, tmp_path, capsys):
    import json

    from summarizer.cli import main

    assert main(["summarize", "--model", str(tmp_path), "--backend", "fake", "--json", str(SEED_PAGE)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records and all(r["engine"] == f"fake:{tmp_path.name}" and r["headline"] for r in records)
    backends.BACKENDS.pop("fake")  # choices are read from the registry each time a command line is parsed
    with pytest.raises(SystemExit):
        main(["summarize", "--model", str(tmp_path), "--backend", "fake", str(SEED_PAGE)])
    assert "invalid choice: 'fake'" in capsys.readouterr().err


def test_a_server_started_on_a_registered_backend_serves_it(fake_backend, tmp_path):
    from fastapi.testclient import TestClient

    from summarizer.service import Engines, build_api

    client = TestClient(build_api(Engines(EngineSettings(model=str(tmp_path), backend="fake"))))
    response = client.post("/api/summarize", json={"text": SEED_PAGE.read_text("utf-8")})
    assert response.status_code == 200, response.text
    assert response.json()["engine"] == f"fake:{tmp_path.name}" and response.json()["articles"][0]["headline"]


@pytest.mark.parametrize("name, target, problem", [("Fake", "m:C", "lower-case"), ("my-runtime", "m:C", "lower-case"),
                                                   ("fake", "tests.test_backends", "module:Class")])
def test_register_backend_refuses_bad_names(fake_backend, name, target, problem):
    with pytest.raises(ConfigError, match=problem):
        register_backend(name, target)


def test_a_registered_class_that_is_missing_is_a_clear_error(fake_backend, tiny_causal):
    register_backend("ghost", "tests.test_backends:Ghost")
    with pytest.raises(ConfigError, match="backend 'ghost': tests.test_backends has no Ghost"):
        load_backend("ghost", str(tiny_causal))
