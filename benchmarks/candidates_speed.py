"""Seconds per article of the default engine (summary + headline) as it was (one greedy headline, no checker)
and as it is (candidates, screened and checked; the rules' cut of the article's own headlines checked by the model),
side by side on the same articles in one process.

    python benchmarks/candidates_speed.py [--data ../shared/data/ant-multisource-v2.1.tar.gz] [--n 16]
"""

from __future__ import annotations

import argparse
import statistics
import time

from summarizer.engines import EngineSettings, make_engine
from summarizer.generation import GenerationSettings
from summarizer.clean import clean_page
from summarizer.samples import sample_pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="a corpus to draw dev articles from (default: the sample pages)")
    parser.add_argument("--n", type=int, default=16)
    args = parser.parse_args()
    if args.data:
        from summarizer.evaluation import load_eval_articles

        articles = load_eval_articles(args.data)[: args.n]
    else:
        pages = [a for p in sample_pages() for a in clean_page(p.read_text(encoding="utf-8")).articles]
        articles = (pages * args.n)[: args.n]
    engine = make_engine(EngineSettings())
    variants = {"before: 1 greedy headline, no checker": GenerationSettings(num_headlines=1, check=False,
                                                                            headline_cut="rules"),
                "candidates, screened and checked, cut by rule": GenerationSettings(headline_cut="rules"),
                "now: candidates, screened and checked, cut checked by the model": GenerationSettings()}
    engine.summarize(articles[:1], settings=GenerationSettings())  # load the checker and warm both runtimes
    times = {name: [] for name in variants}
    for article in articles:  # interleaved: both variants see the same machine load
        for name, settings in variants.items():
            started = time.perf_counter()
            engine.summarize([article], settings=settings)
            times[name].append(time.perf_counter() - started)
    print("| variant | p50 s/article | p90 | mean |")
    print("| --- | --- | --- | --- |")
    for name, values in times.items():
        p90 = statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]
        print(f"| {name} | {statistics.median(values):.2f} | {p90:.2f} | {statistics.mean(values):.2f} |")
    medians = [statistics.median(values) for values in times.values()]
    before, now = medians[0], medians[-1]
    print(f"now / before (p50): {now / before:.2f}x")


if __name__ == "__main__":
    main()
