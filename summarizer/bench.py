"""`summarizer bench`: our model engine vs a plain transformers generate loop, same model, settings and inputs.

Each side runs in its own fresh process so that peak RSS is its own. Printed: per-article latency p50/p90,
batch throughput, peak RSS, and the ratios. A measurement script, not a test with a threshold.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .errors import SummarizerError

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def bench_articles(n: int, data: str | None):
    from .clean import clean_page
    from .corpora import read_corpus

    if data:
        pool = []
        for article in read_corpus(data):
            pool.append(article)
            if len(pool) >= n:
                break
    else:
        pool = [a for p in sorted(SEEDS.glob("*.txt")) for a in clean_page(p.read_text("utf-8")).articles]
    if not pool:
        raise SummarizerError("no articles to benchmark")
    return [pool[i % len(pool)] for i in range(n)]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def measure(variant: str, options: dict) -> dict:
    """Run one side in this process; returns its numbers."""
    from .engines import make_engine
    from .generation import GenerationSettings

    settings = GenerationSettings(**options["settings"])
    articles = bench_articles(options["n"], options.get("data"))
    started = time.perf_counter()
    engine = make_engine(options["engine"], model=options.get("model"), adapter=options.get("adapter"),
                         device=options.get("device", "auto"), threads=options.get("threads"))
    if not hasattr(engine, "loaded"):
        raise SummarizerError("bench compares model engines: use --engine default or --model PATH")
    load_seconds = time.perf_counter() - started
    if variant == "ours":
        latencies = []
        for article in articles:
            t = time.perf_counter()
            engine.summarize([article], settings=settings)
            latencies.append(time.perf_counter() - t)
        t = time.perf_counter()
        engine.summarize(articles, settings=settings)
        batch_seconds = time.perf_counter() - t
    else:
        latencies = [plain_generate(engine.loaded, article, settings) for article in articles]
        batch_seconds = sum(latencies)  # a plain loop handles one article at a time
    return {"variant": variant, "n": len(articles), "load_seconds": load_seconds,
            "latency_p50": _percentile(latencies, 0.5), "latency_p90": _percentile(latencies, 0.9),
            "latency_mean": statistics.mean(latencies), "throughput": len(articles) / batch_seconds,
            "peak_rss_mb": _peak_rss_mb()}


def plain_generate(loaded, article, settings) -> float:
    """The baseline: one article at a time, its text cut by the tokenizer to the same token budget (the task
    template kept whole, as a careful user would), the same generate settings, no output tidying."""
    import torch

    tokenizer, fmt = loaded.tokenizer, loaded.task_format
    started = time.perf_counter()
    for task, max_new in (("summary", settings.max_new_tokens), ("headline", settings.headline_max_new_tokens)):
        overhead = len(tokenizer(fmt.overhead(task)).input_ids)
        ids = tokenizer(article.text, add_special_tokens=False, truncation=True,
                        max_length=max(16, settings.max_input_tokens - overhead)).input_ids
        enc = tokenizer(fmt.render(task, tokenizer.decode(ids)), return_tensors="pt").to(loaded.device)
        with torch.inference_mode():
            out = loaded.model.generate(**enc, max_new_tokens=max_new, num_beams=settings.num_beams,
                                        length_penalty=settings.length_penalty,
                                        no_repeat_ngram_size=settings.no_repeat_ngram_size or None,
                                        repetition_penalty=settings.repetition_penalty, do_sample=False,
                                        pad_token_id=tokenizer.pad_token_id)
        tokenizer.decode(out[0], skip_special_tokens=True)
    return time.perf_counter() - started


def run_bench(args, settings) -> str:
    from dataclasses import asdict

    options = {"n": args.n, "data": args.data, "engine": args.engine, "model": args.model, "adapter": args.adapter,
               "device": args.device, "threads": args.threads, "settings": asdict(settings)}
    results = {}
    for variant in ("ours", "plain"):
        proc = subprocess.run([sys.executable, "-m", "summarizer.bench", variant, json.dumps(options)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SummarizerError(f"bench ({variant}) failed: {proc.stderr.strip().splitlines()[-1:]}")
        results[variant] = json.loads(proc.stdout.strip().splitlines()[-1])
    ours, plain = results["ours"], results["plain"]
    rows = [
        ("latency p50 (s/article)", ours["latency_p50"], plain["latency_p50"], plain["latency_p50"] / ours["latency_p50"]),
        ("latency p90 (s/article)", ours["latency_p90"], plain["latency_p90"], plain["latency_p90"] / ours["latency_p90"]),
        ("throughput (articles/s)", ours["throughput"], plain["throughput"], ours["throughput"] / plain["throughput"]),
        ("peak RSS (MB)", ours["peak_rss_mb"], plain["peak_rss_mb"], plain["peak_rss_mb"] / ours["peak_rss_mb"]),
        ("model load (s)", ours["load_seconds"], plain["load_seconds"], plain["load_seconds"] / ours["load_seconds"]),
    ]
    lines = [f"bench: {ours['n']} articles, engine={args.model or args.engine}, batch_size={settings.batch_size}, "
             f"beams={settings.num_beams}, max_new_tokens={settings.max_new_tokens}",
             f"{'metric':<26}{'ours':>10}{'plain':>10}{'ratio (>1 = ours better)':>28}"]
    lines += [f"{name:<26}{a:>10.3f}{b:>10.3f}{r:>28.2f}" for name, a, b, r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], json.loads(sys.argv[2]))))
