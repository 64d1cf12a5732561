"""Build the background word-frequency list that tells rare (likely invented) words from common ones.

    python -m summarizer.finetune.background [CORPUS ...]      # default: the three corpora in ../shared/data

Counts light stems over the train split only (dev and test names must stay rare), keeps stems seen at least
`faithfulness.RARE_BELOW` times, and writes `summarizer/data/background_freq.tsv.gz`, shipped in the package.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..corpora import deduplicate, read_corpus, split_of
from ..faithfulness import BACKGROUND_FILE, count_stems, write_background
from .data import DEFAULT_CORPORA



def train_texts(paths, seed: int = 13):
    for path in paths:
        for article in deduplicate(read_corpus(path)):
            if split_of(article.id, seed=seed) == "train":
                yield article.text
                if article.title:
                    yield article.title


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="*", default=list(DEFAULT_CORPORA))
    parser.add_argument("--out", default=str(BACKGROUND_FILE))
    args = parser.parse_args(argv)
    counts = count_stems(train_texts(args.corpora))
    path = write_background(counts, Path(args.out))
    print(f"{sum(counts.values()):,} tokens, {len(counts):,} stems -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
