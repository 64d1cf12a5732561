"""`summarizer bench`: backends side by side on the same model, prompts, settings and articles.

Variants, each in its own fresh process (so peak RSS and load time are its own), all named by the backend registry
(summarizer.backends.BACKENDS):
- plain: a plain transformers generate loop over the engine's own prompts, one article at a time (the baseline);
- each registered backend: our engine on it (length-sorted batches, same cleanup);
- <backend>-<variant>: a backend with one of its named load options (`Backend.variants`; e.g. ct2-full, the full
  output layer, against the output layer trimmed to the adapter's trained vocabulary).
Printed: p50/p90 latency per article (summary + headline), batched throughput, peak RSS, load time, first-run
preparation time of the default backend (ct2: its conversion; measured in an empty cache when --fresh-cache),
optionally dev ROUGE-1 with 95% CIs on the same articles (--quality N with --data), and the ratios. A measurement
script, not a test.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from .backends import DEFAULT_BACKEND, backend_class, backend_names
from .errors import ConfigError, SummarizerError

PLAIN = "plain"


def variants() -> tuple[str, ...]:
    """What --variants may name, in table order: plain, every registered backend, then their named variants."""
    named = []
    for name in backend_names():
        try:
            named += [f"{name}-{variant}" for variant in backend_class(name).variants]
        except ConfigError:  # a runtime that is not installed offers no variants
            continue
    return (PLAIN, *backend_names(), *named)


def variant_backend(variant: str) -> tuple[str, dict]:
    """The backend a variant runs on and its extra load options (plain: the transformers backend)."""
    from .backends.hf import HFBackend

    if variant == PLAIN:
        return HFBackend.name, {}
    name, _, option = variant.partition("-")
    return name, dict(backend_class(name).variants[option]) if option else {}


def comparisons(names: list[str]) -> list[tuple[str, str]]:
    """(a, b) pairs the table shows a/b ratios for: each backend against every run listed before it (plain
    first; a backend registered later is meant to be faster), then each backend against its variants."""
    base = [n for n in names if n == PLAIN or n in backend_names()]
    pairs = []
    for k in range(len(base) - 1, 0, -1):  # the last-registered backend's ratios first
        pairs += [(base[k], b) for b in base[:k]]
    return pairs + [(variant_backend(n)[0], n) for n in names if n not in base and variant_backend(n)[0] in names]


def bench_articles(n: int, data: str | None):
    from .clean import clean_page
    from .corpora import read_corpus
    from .samples import sample_pages

    if data:
        pool = []
        for article in read_corpus(data):
            pool.append(article)
            if len(pool) >= n:
                break
    else:
        pool = [a for p in sample_pages() for a in clean_page(p.read_text("utf-8")).articles]
    if not pool:
        raise SummarizerError("no articles to benchmark")
    return [pool[i % len(pool)] for i in range(n)]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _engine(variant: str, options: dict):
    from .engines import EngineSettings, make_engine

    backend, extra = variant_backend(variant)
    return make_engine(EngineSettings(**{**options["engine"], "backend": backend}), **extra)


def measure(variant: str, options: dict) -> dict:
    """Run one variant in this process; returns its numbers."""
    from .generation import GenerationSettings

    settings = GenerationSettings(**options["settings"])
    articles = bench_articles(options["n"], options.get("data"))
    started = time.perf_counter()
    engine = _engine(variant, options)
    if not hasattr(engine, "backend"):
        raise SummarizerError("bench compares model backends: use --engine default or --model PATH")
    load_seconds = time.perf_counter() - started
    if variant == PLAIN:
        latencies = [plain_generate(engine, article, settings) for article in articles]
        batch_seconds = sum(latencies)  # a plain loop handles one article at a time
    else:
        latencies = []
        for article in articles:
            t = time.perf_counter()
            engine.summarize([article], settings=settings)
            latencies.append(time.perf_counter() - t)
        t = time.perf_counter()
        engine.summarize(articles, settings=settings)
        batch_seconds = time.perf_counter() - t
    result = {"variant": variant, "n": len(articles), "load_seconds": load_seconds,
              "latency_p50": _percentile(latencies, 0.5), "latency_p90": _percentile(latencies, 0.9),
              "latency_mean": statistics.mean(latencies), "throughput": len(articles) / batch_seconds,
              "peak_rss_mb": _peak_rss_mb()}
    if options.get("quality") and options.get("data") and variant != PLAIN:
        result["rouge1"] = quality(engine, options, settings, "lead")
        result["headline_rouge1"] = quality(engine, options, settings, "headline")
    return result


def quality(engine, options: dict, settings, protocol: str) -> dict:
    """Dev ROUGE-1 (project scorer) of the summary (lead protocol) or headline (headline protocol) on the first N
    dev articles, with its 95% CI."""
    from .evaluation import load_eval_articles, prepare, run_engine
    from .rouge import rouge_report

    prepared = prepare(load_eval_articles(options["data"], split="dev"), protocol)
    n = options["quality"]
    prepared.inputs, prepared.references = prepared.inputs[:n], prepared.references[:n]
    predictions, _ = run_engine(engine, prepared, protocol, settings, progress=False)
    return rouge_report(predictions, prepared.references)["scores"]["rouge1"]


def plain_generate(engine, article, settings) -> float:
    """The baseline: one article at a time, the engine's own prompts (same input budget and template), the same
    generate settings, no batching, no candidates, no cleanup or guard."""
    import torch

    from .backends.hf import generated_only

    loaded = engine.backend.loaded
    tokenizer, fmt = loaded.tokenizer, loaded.task_format
    started = time.perf_counter()
    for task in ("summary", "headline"):
        (prompt,), _, max_new = engine.prompts([article], task, settings)
        enc = tokenizer(prompt, return_tensors="pt").to(loaded.device)
        # The same penalties as the backends: on what the model writes, not on the article (see backends.hf).
        penalties = generated_only({"no_repeat_ngram_size": settings.no_repeat_ngram_size,
                                    "repetition_penalty": settings.repetition_penalty}, enc["input_ids"].shape[1])
        with torch.inference_mode():
            out = loaded.model.generate(**enc, max_new_tokens=max_new, num_beams=settings.num_beams,
                                        length_penalty=settings.length_penalty, logits_processor=penalties,
                                        do_sample=False,
                                        eos_token_id=fmt.stop_token_ids(tokenizer, task),
                                        pad_token_id=tokenizer.pad_token_id)
        tokenizer.decode(out[0], skip_special_tokens=True)
    return time.perf_counter() - started


def preparation_seconds(options: dict) -> float:
    """First-run preparation of the default backend (ct2: the conversion) in an empty cache, in its own process."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "SUMMARIZER_CACHE": cache}
        base = os.environ.get("SUMMARIZER_CACHE")
        if options["engine"]["engine"] == "default" and not options["engine"]["model"]:
            # reuse the converted base checkpoint: only the backend's own step is timed
            from .default_model import base_model_dir

            os.symlink(base_model_dir() if not base else os.path.join(base, "gemma-3-270m"),
                       os.path.join(cache, "gemma-3-270m"))
        started = time.perf_counter()
        _run_variant("prepare", options, env)
        return time.perf_counter() - started


def _run_variant(variant: str, options: dict, env=None) -> dict:
    proc = subprocess.run([sys.executable, "-m", "summarizer.bench", variant, json.dumps(options)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SummarizerError(f"bench ({variant}) failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_bench(args, settings, engine) -> str:
    """`engine`: the EngineSettings every variant shares (each variant sets its own backend)."""
    from dataclasses import asdict

    options = {"n": args.n, "data": args.data, "engine": asdict(engine), "settings": asdict(settings),
               "quality": args.quality}
    known = variants()
    asked = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in asked if v not in known]
    if unknown or not asked:
        raise ConfigError(f"--variants: unknown bench variant(s) {', '.join(map(repr, unknown)) or '(none named)'}; "
                          f"choose from {', '.join(known)}")
    results = {v: _run_variant(v, options) for v in known if v in asked}
    if args.fresh_cache and DEFAULT_BACKEND in results:
        results[DEFAULT_BACKEND]["prepare_seconds"] = preparation_seconds(options)
    text = format_bench(results, args, settings)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"options": options, "results": results}, handle, indent=2)
    return text


ROWS = (("latency p50 (s/article)", "latency_p50", False), ("latency p90 (s/article)", "latency_p90", False),
        ("throughput (articles/s)", "throughput", True), ("peak RSS (MB)", "peak_rss_mb", False),
        ("model load (s)", "load_seconds", False), ("first-run preparation (s)", "prepare_seconds", False))


def format_bench(results: dict, args, settings) -> str:
    names = list(results)
    pairs = comparisons(names)
    lines = [f"bench: {args.n} articles, engine={args.model or args.engine}, batch_size={settings.batch_size}, "
             f"beams={settings.num_beams}, max_new_tokens={settings.max_new_tokens} (summary + headline each)",
             f"{'metric':<27}" + "".join(f"{n:>10}" for n in names) + "".join(f"{a + '/' + b:>12}" for a, b in pairs)
             + "   (ratio > 1: the first is better)"]
    for label, key, higher_better in ROWS:
        if not any(key in results[n] for n in names):
            continue
        cells = "".join(f"{results[n][key]:>10.3f}" if key in results[n] else f"{'-':>10}" for n in names)
        ratios = ""
        for a, b in pairs:
            x, y = results[a].get(key), results[b].get(key)
            ratio = (x / y if higher_better else y / x) if x and y else None
            ratios += f"{ratio:>12.2f}" if ratio else f"{'-':>12}"
        lines.append(f"{label:<27}{cells}{ratios}")
    for key, what in (("rouge1", "summary, lead protocol"), ("headline_rouge1", "headline, headline protocol")):
        for n in names:
            if key in results[n]:
                r = results[n][key]
                lines.append(f"dev ROUGE-1 ({n}, {what}, first {args.quality} dev articles): "
                             f"{100 * r['mean']:.2f} [{100 * r['low']:.2f}-{100 * r['high']:.2f}]")
    return "\n".join(lines)


if __name__ == "__main__":
    variant, options = sys.argv[1], json.loads(sys.argv[2])
    if variant == "prepare":
        _engine(DEFAULT_BACKEND, options)
        print(json.dumps({"prepared": True}))
    else:
        print(json.dumps(measure(variant, options)))
