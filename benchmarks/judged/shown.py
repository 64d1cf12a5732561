"""What the default engine shows, as people judged it: run an engine on the judged dev articles and look up the
label of each headline it shows (right / unusable / wrong); headlines nobody has judged yet are written out to be
judged (then rerun).

    python benchmarks/judged/shown.py [--engine default] [--settings '{"num_headlines": 3}'] [--checker DIR]
        [--unjudged new_pairs.jsonl] [--out shown.jsonl]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import yaml

from summarizer.article import Article
from summarizer.clean import clean_page
from summarizer.engines import EngineSettings, make_engine
from summarizer.generation import GenerationSettings
from summarizer.settings import build
from summarizer.text import split_paragraphs

HERE = Path(__file__).parent / "dev"


def user_input(article: dict) -> Article:
    """The article as a user's paste reaches the engine: cleaned (related-story lines, sponsor notes and other
    furniture removed: summarizer.clean). A page the cleaner splits keeps its first article, the one judged."""
    page = clean_page(article["text"], page_id=article["id"])
    if page.articles:
        return page.articles[0]
    return Article(id=article["id"], paragraphs=split_paragraphs(article["text"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default=str(HERE), help="the judged set: a folder with articles.jsonl and "
                        "labels.jsonl (dev: tuned on since round 1; heldout: read only to measure)")
    parser.add_argument("--engine", default="default")
    parser.add_argument("--settings", default="{}", help="generation settings (YAML/JSON mapping)")
    parser.add_argument("--checker", help="a checker checkpoint directory instead of the shipped one")
    parser.add_argument("--unjudged", help="write the shown headlines nobody judged here (judge them, then rerun)")
    parser.add_argument("--out", help="write each article's shown headline and candidates here")
    parser.add_argument("--sweep", action="store_true",
                        help="also simulate other checker thresholds: the run keeps every screened model candidate "
                             "with its score, and each threshold's shown headline is looked up; the threshold is "
                             "chosen on the even-numbered articles and reported on the odd ones")
    args = parser.parse_args()

    settings = build(GenerationSettings, yaml.safe_load(args.settings) or {})
    engine = make_engine(EngineSettings(engine=args.engine))
    if args.checker:
        from summarizer.check import Checker

        engine._checker = Checker.load(args.checker)
    if args.sweep:  # keep every candidate the screen passes, with its score
        engine.checker.format.threshold = 0.0
        settings = build(GenerationSettings, {**(yaml.safe_load(args.settings) or {}), "headline_min_support": 0.0})
    folder = Path(args.set)
    articles = [json.loads(line) for line in (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    labels = {}
    judged = folder / "labels.jsonl"  # a new set has none yet: every shown headline is written out to be judged
    for line in (judged.read_text(encoding="utf-8").splitlines() if judged.exists() else []):
        row = json.loads(line)
        labels[(row["id"], row["headline"])] = row
    inputs = [user_input(a) for a in articles]
    results = engine.summarize(inputs, settings=settings, tasks=("headline",))
    fallbacks = make_engine(EngineSettings(engine="extractive")).summarize(inputs, settings=settings)
    counts, kinds, unjudged, rows = Counter(), Counter(), [], []
    for article, result, fallback in zip(articles, results, fallbacks):
        label = labels.get((article["id"], " ".join(result.headline.split())))
        verdict = label["label"] if label else "unjudged"
        counts[verdict] += 1
        if label and label["label"] == "wrong":
            kinds[label["kind"]] += 1
        if not label:
            unjudged.append({"id": article["id"], "text": article["text"], "headlines": [result.headline]})
        rows.append({"id": article["id"], "headline": result.headline, "label": verdict,
                     "candidates": result.headline_candidates, "fallback": result.fallback,
                     "extractive": fallback.headline})
    total = sum(counts.values())
    print(f"engine {engine.name}, settings {args.settings}, checker {args.checker or 'shipped'}")
    print(" | ".join(f"{k} {counts[k]} ({100 * counts[k] / total:.0f}%)"
                     for k in ("right", "unusable", "wrong", "unjudged")))
    print("wrong by kind:", dict(kinds), "| fell back to the extractive headline:",
          sum(bool(r["fallback"].get("headline")) for r in rows))
    if args.sweep:
        sweep(rows, labels)
    if args.unjudged:
        with open(args.unjudged, "w", encoding="utf-8") as handle:
            for item in unjudged:
                handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def shown_at(row: dict, threshold: float) -> str:
    """The headline the engine would show at `threshold`: the best-scored model candidate at or above it, else the
    article's own (extractive) headline."""
    model = [c for c in row["candidates"] if c.get("source") == "model" and (c.get("score") or 0) >= threshold]
    if model:
        return sorted(model, key=lambda c: -round(c["score"], 2))[0]["text"]
    return row["extractive"]


def sweep(rows: list[dict], labels: dict) -> None:
    def rates(subset, threshold):
        counts = Counter()
        for row in subset:
            label = labels.get((row["id"], " ".join(shown_at(row, threshold).split())))
            counts[label["label"] if label else "unjudged"] += 1
        return counts

    def cost(counts):  # a wrong headline costs more than a dull one: twice an unusable one
        return 2 * counts["wrong"] + counts["unusable"] + counts["unjudged"]

    thresholds = [round(0.05 * i, 2) for i in range(0, 20)]
    tune, report = rows[0::2], rows[1::2]
    best = min(thresholds, key=lambda t: (cost(rates(tune, t)), t))
    print("| threshold | tune: right / unusable / wrong / unjudged | held-out half | all |")
    for t in thresholds:
        cells = [rates(part, t) for part in (tune, report, rows)]
        text = [" / ".join(str(c[k]) for k in ("right", "unusable", "wrong", "unjudged")) for c in cells]
        print(f"| {t:.2f}{' (chosen)' if t == best else ''} | " + " | ".join(text) + " |")


if __name__ == "__main__":
    main()
