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
from summarizer.engines import EngineSettings, make_engine
from summarizer.generation import GenerationSettings
from summarizer.settings import build
from summarizer.text import split_paragraphs

HERE = Path(__file__).parent / "dev"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="default")
    parser.add_argument("--settings", default="{}", help="generation settings (YAML/JSON mapping)")
    parser.add_argument("--checker", help="a checker checkpoint directory instead of the shipped one")
    parser.add_argument("--unjudged", help="write the shown headlines nobody judged here (judge them, then rerun)")
    parser.add_argument("--out", help="write each article's shown headline and candidates here")
    args = parser.parse_args()

    settings = build(GenerationSettings, yaml.safe_load(args.settings) or {})
    engine = make_engine(EngineSettings(engine=args.engine))
    if args.checker:
        from summarizer.check import Checker

        engine._checker = Checker.load(args.checker)
    articles = [json.loads(line) for line in (HERE / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    labels = {}
    for line in (HERE / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        labels[(row["id"], row["headline"])] = row
    inputs = [Article(id=a["id"], paragraphs=split_paragraphs(a["text"])) for a in articles]
    results = engine.summarize(inputs, settings=settings, tasks=("headline",))
    counts, kinds, unjudged, rows = Counter(), Counter(), [], []
    for article, result in zip(articles, results):
        label = labels.get((article["id"], " ".join(result.headline.split())))
        verdict = label["label"] if label else "unjudged"
        counts[verdict] += 1
        if label and label["label"] == "wrong":
            kinds[label["kind"]] += 1
        if not label:
            unjudged.append({"id": article["id"], "text": article["text"], "headlines": [result.headline]})
        rows.append({"id": article["id"], "headline": result.headline, "label": verdict,
                     "candidates": result.headline_candidates, "fallback": result.fallback})
    total = sum(counts.values())
    print(f"engine {engine.name}, settings {args.settings}, checker {args.checker or 'shipped'}")
    print(" | ".join(f"{k} {counts[k]} ({100 * counts[k] / total:.0f}%)"
                     for k in ("right", "unusable", "wrong", "unjudged")))
    print("wrong by kind:", dict(kinds), "| fell back to the extractive headline:",
          sum(bool(r["fallback"].get("headline")) for r in rows))
    if args.unjudged:
        with open(args.unjudged, "w", encoding="utf-8") as handle:
            for item in unjudged:
                handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
