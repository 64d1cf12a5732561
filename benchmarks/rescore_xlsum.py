"""Rescore an evaluate run's per-item predictions with the XL-Sum scorer (same outputs, other scorer)."""
import json
import sys
from pathlib import Path

from summarizer.rouge import corpus_bleu, rouge_report

for path in sorted(Path(sys.argv[1]).glob("predictions-*.jsonl")):
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    preds, refs = [r[r["scored"]] for r in rows], [r["reference"] for r in rows]  # rows: summarizer.evaluation
    report = rouge_report(preds, refs, scorer="xlsum")["scores"]
    cells = " | ".join(f"{100 * report[k]['mean']:.2f} [{100 * report[k]['low']:.2f}-{100 * report[k]['high']:.2f}]"
                       for k in ("rouge1", "rouge2", "rougeL"))
    print(f"{path.stem.removeprefix('predictions-')} (n={len(rows)}, xlsum scorer) | {cells} | BLEU {corpus_bleu(preds, refs):.2f}")
