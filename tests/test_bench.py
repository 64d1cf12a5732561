from summarizer.cli import main


def test_bench_prints_side_by_side_ratios(tiny_causal, capsys):
    assert main(["bench", "--model", str(tiny_causal), "--n", "3", "--max-new-tokens", "4", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    for metric in ("latency p50", "latency p90", "throughput", "peak RSS"):
        line = next(line for line in out.splitlines() if line.startswith(metric))
        ours, plain, ratio = (float(x) for x in line.split()[-3:])
        assert ours > 0 and plain > 0 and ratio > 0


def test_bench_needs_a_model_engine(capsys):
    assert main(["bench", "--engine", "extractive", "--n", "2"]) == 2
    assert "bench compares model engines" in capsys.readouterr().err
