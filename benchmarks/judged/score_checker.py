"""How far the checker agrees with people: score every judged (article, headline) pair and print the share of
`wrong` headlines it flags (by kind) and of `right` ones it flags (human titles and model headlines apart).

    python benchmarks/judged/score_checker.py [--checker DIR] [--backend ct2|hf] [--out scores.jsonl]

The judged pairs were never used to train the checker (it trains on the corpora's train split).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from summarizer.check import Checker, decide, text_sentences

HERE = Path(__file__).parent / "dev"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def table(rows: list[dict], threshold: float) -> str:
    groups: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        flagged = decide(row["probs"], threshold) != "supported"
        if row["label"] == "wrong":
            groups[f"wrong: {row['kind']}"].append(flagged)
            groups["wrong (all)"].append(flagged)
        elif row["label"] == "right":
            who = "human title" if "human" in row["systems"] else "model/extractive"
            groups[f"right: {who}"].append(flagged)
            groups["right (all)"].append(flagged)
        else:
            groups["unusable"].append(flagged)
    lines = [f"threshold {threshold:.3f}", "| group | pairs | flagged |", "| --- | --- | --- |"]
    for name in sorted(groups):
        values = groups[name]
        lines.append(f"| {name} | {len(values)} | {100 * sum(values) / len(values):.0f}% |")
    return "\n".join(lines)


def auc(rows: list[dict], *, model_only: bool = False) -> float:
    """P(a right headline scores above a wrong one), ties half (the Mann-Whitney statistic); `model_only`: without
    the human titles."""
    def kept(row):
        return not model_only or "human" not in row["systems"]

    right = [r["probs"]["supported"] for r in rows if r["label"] == "right" and kept(r)]
    wrong = [r["probs"]["supported"] for r in rows if r["label"] == "wrong" and kept(r)]
    if not right or not wrong:
        return float("nan")
    return sum((x > y) + 0.5 * (x == y) for x in right for y in wrong) / (len(right) * len(wrong))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checker", help="checker directory (default: the shipped one)")
    parser.add_argument("--backend", default="ct2", choices=("ct2", "hf"))
    parser.add_argument("--out", help="write each pair's probabilities here (JSON Lines)")
    parser.add_argument("--sweep", action="store_true", help="also print the table at other thresholds")
    args = parser.parse_args()

    checker = Checker.load(args.checker, backend=args.backend)
    texts = {a["id"]: a["text"] for a in load(HERE / "articles.jsonl")}
    labels = load(HERE / "labels.jsonl")
    sentences = {i: text_sentences(t) for i, t in texts.items()}
    probs = checker.probabilities_for([(sentences[row["id"]], row["headline"]) for row in labels])
    rows = [{**row, "probs": p} for row, p in zip(labels, probs)]
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(table(rows, checker.format.threshold))
    print(f"ROC AUC, wrong against right (how well the score orders them, whatever the threshold): "
          f"{auc(rows):.3f}; model-written only: {auc(rows, model_only=True):.3f}")
    if args.sweep:
        for threshold in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
            print(table(rows, threshold))


if __name__ == "__main__":
    main()
