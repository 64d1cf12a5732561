"""Fit the extractive engine's sentence scorer on the training split.

    python -m summarizer.finetune.extractive [CORPUS ...] [--articles 6000] [--out summarizer/data/sentence_scorer.json]

Each training article is put as the lead protocol puts it (the body without the lead paragraph); every sentence
the ranker would see gets its features (`extractive.sentence_features`) and a target: the mean of its ROUGE-1 and
ROUGE-L F1 against the article's own lead paragraph, minus the article's mean (only the order within an article
matters). A ridge regression on standardized features gives the weights, shipped in the package. Train split only:
dev and test articles never touch the weights.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from ..corpora import deduplicate, read_corpus, split_of
from ..evaluation import prepare
from ..extractive import FEATURES, SCORER_PATH, SentenceScorer, featurize_article
from ..rouge import score_pairs
from .data import DEFAULT_CORPORA

MAX_SENTENCES = 40
"""Sentences per article used for fitting: the ranker's choices come from the top of a story."""


def training_pairs(paths, *, articles: int, seed: int = 13):
    """(body-only article, lead paragraph) pairs from the train split, shuffled with a fixed seed."""
    pool = [a for path in paths for a in deduplicate(read_corpus(path)) if split_of(a.id, seed=seed) == "train"]
    random.Random(seed).shuffle(pool)
    prepared = prepare(pool, "lead")
    return list(zip(prepared.inputs, prepared.references))[:articles]


def design(pairs):
    """Feature rows and article-centred targets."""
    import numpy as np

    rows, targets = [], []
    for article, lead in pairs:
        sentences, _, _, features = featurize_article(article, max_sentences=MAX_SENTENCES)
        if len(sentences) < 2:
            continue  # nothing to choose between
        items = score_pairs(sentences, [lead] * len(sentences))
        target = np.array([(it["rouge1"] + it["rougeL"]) / 2 for it in items])
        rows.append(features)
        targets.append(target - target.mean())
    return np.vstack(rows), np.concatenate(targets)


def fit(features, targets, *, ridge: float = 1.0, about: str = "") -> SentenceScorer:
    import numpy as np

    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    x = (features - mean) / scale
    weights = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ targets)
    return SentenceScorer(tuple(weights.tolist()), tuple(mean.tolist()), tuple(scale.tolist()), about)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="*", default=list(DEFAULT_CORPORA))
    parser.add_argument("--articles", type=int, default=6000, help="training articles used (train split)")
    parser.add_argument("--ridge", type=float, default=1.0)
    parser.add_argument("--out", default=str(SCORER_PATH))
    args = parser.parse_args(argv)
    pairs = training_pairs(args.corpora, articles=args.articles)
    features, targets = design(pairs)
    about = (f"ridge regression on {len(pairs)} train-split articles ({features.shape[0]} sentences) of "
             f"{', '.join(Path(p).name for p in args.corpora)}; target: mean ROUGE-1/ROUGE-L F1 against the lead")
    scorer = fit(features, targets, ridge=args.ridge, about=about)
    Path(args.out).write_text(scorer.to_json() + "\n", encoding="utf-8")
    print(about)
    for name, weight in sorted(zip(FEATURES, scorer.weights), key=lambda kv: -abs(kv[1])):
        print(f"  {name:18s} {weight:+.4f}")
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
