"""What a novel-word guard threshold costs and buys, from two `summarizer evaluate --out` runs on the same articles.

    python benchmarks/guard_threshold.py runs/eval/headline-new runs/eval/headline-extractive

For each threshold t, a model output with more than t of its content words absent from the article is replaced by
the extractive engine's output for the same article (what `guard_novel_rate` does); prints ROUGE-1/L, outputs
replaced and the mean novel-word rate. Run the model side with `--guard-novel-rate 1` so nothing is replaced twice.
"""

import glob
import json
import statistics
import sys


def predictions(directory: str, extractive: bool) -> list[dict]:
    """The model engine's predictions (or, with `extractive`, the extractive engine's) in an evaluate run."""
    (path,) = [p for p in glob.glob(f"{directory}/predictions-*.jsonl") if "/predictions-lead-" not in p
               and ("/predictions-extractive" in p) == extractive]
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def novel_rate(row: dict) -> float:
    """The scored field's share of novel content words (rows: summarizer.evaluation.prediction_row)."""
    return row["faithfulness"][row["scored"]]["novel_rate"]


def main(model_dir: str, extractive_dir: str) -> None:
    model = predictions(model_dir, False)
    extractive = {row["id"]: row for row in predictions(extractive_dir, True)}
    print(f"{len(model)} outputs; threshold | R1 | RL | replaced | novel words")
    for t in (1.0, 0.6, 0.5, 0.4, 0.34, 0.3, 0.25, 0.2):
        rows = [row if novel_rate(row) <= t or row["fallback"].get(row["scored"]) else extractive[row["id"]]
                for row in model]
        replaced = sum(a is not b for a, b in zip(rows, model))
        mean = lambda key: 100 * statistics.mean(r["scores"][key] for r in rows)  # noqa: E731
        novel = 100 * statistics.mean(novel_rate(r) for r in rows)
        print(f"{t:.2f} | {mean('rouge1'):.2f} | {mean('rougeL'):.2f} | {replaced} | {novel:.1f}%")


if __name__ == "__main__":
    main(*sys.argv[1:3])
