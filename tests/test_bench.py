import json

from summarizer.cli import main


def test_bench_prints_backends_side_by_side(tiny_causal, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path / "cache"))
    out_json = tmp_path / "bench.json"
    assert main(["bench", "--model", str(tiny_causal), "--n", "3", "--max-new-tokens", "4", "--device", "cpu",
                 "--fresh-cache", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    for metric in ("latency p50", "latency p90", "throughput", "peak RSS", "model load"):
        line = next(line for line in out.splitlines() if line.startswith(metric))
        plain, hf, ct2, *ratios = (float(x) for x in line.split()[-6:])
        assert plain > 0 and hf > 0 and ct2 > 0 and all(r > 0 for r in ratios)
    assert any(line.startswith("first-run preparation") for line in out.splitlines())
    results = json.loads(out_json.read_text())["results"]
    assert set(results) == {"plain", "hf", "ct2"} and results["ct2"]["prepare_seconds"] > 0


def test_bench_needs_a_model_engine(capsys):
    assert main(["bench", "--engine", "extractive", "--n", "2", "--variants", "hf"]) == 2
    assert "bench compares model backends" in capsys.readouterr().err


def test_bench_variants_come_from_the_backend_registry(tmp_path, monkeypatch):
    from summarizer import backends
    from summarizer.backends import register_backend
    from summarizer.bench import comparisons, measure, variant_backend, variants
    from summarizer.generation import GenerationSettings

    assert variants() == ("plain", "hf", "ct2", "ct2-full")
    assert comparisons(["plain", "hf", "ct2", "ct2-full"]) == [("ct2", "plain"), ("ct2", "hf"), ("hf", "plain"),
                                                               ("ct2", "ct2-full")]
    assert variant_backend("ct2-full") == ("ct2", {"trim_vocab": False})
    monkeypatch.setattr(backends, "BACKENDS", dict(backends.BACKENDS))
    register_backend("fake", "tests.test_backends:FakeBackend")
    assert variants() == ("plain", "hf", "ct2", "fake", "ct2-full")
    assert ("fake", "plain") in comparisons(["plain", "fake"])
    options = {"n": 2, "engine": {"engine": "model", "model": str(tmp_path)}, "settings": {"max_new_tokens": 4}}
    result = measure("fake", options)
    assert result["variant"] == "fake" and result["n"] == 2 and result["throughput"] > 0


def test_an_unknown_bench_variant_is_named(capsys):
    assert main(["bench", "--engine", "extractive", "--n", "2", "--variants", "hf,onnx"]) == 2
    err = capsys.readouterr().err
    assert "unknown bench variant(s) 'onnx'" in err and "plain, hf, ct2, ct2-full" in err
