"""Arabic-correct ROUGE and BLEU.

Google's rouge_score tokenizer keeps only [a-z0-9], deleting every Arabic letter, so identical Arabic strings score
0; its stemmer is English. Here tokens are runs of Arabic letters and digits (Arabic-Indic too) after the
matching normalization of `summarizer.text`, optionally light- or ISRI-stemmed; ROUGE-Lsum splits sentences with the
project's Arabic splitter. The metric is computed through `evaluate`, loaded from the local module in
`summarizer/metrics/arabic_rouge` (never from the hub).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .text import light_stem, split_sentences, tokens

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
STEMMERS = ("none", "light", "isri")
SCORERS = ("project", "xlsum")
"""project: the Arabic tokenizer above (optionally stemmed); xlsum: exactly XL-Sum's scorer, the
`multilingual-rouge` package with lang="arabic" and stemming on (NLTK's Arabic Snowball stemmer)."""
NLTK_DATA = Path(__file__).parent / "data" / "nltk_data"
METRIC_DIR = Path(__file__).parent / "metrics" / "arabic_rouge"


class ArabicTokenizer:
    """A rouge_score tokenizer: normalized Arabic/Latin/digit tokens, optionally stemmed."""

    def __init__(self, stemmer: str = "none"):
        if stemmer not in STEMMERS:
            raise ValueError(f"unknown stemmer {stemmer!r}; choose one of {', '.join(STEMMERS)}")
        self.stemmer = stemmer
        self._isri = None
        if stemmer == "isri":
            from nltk.stem.isri import ISRIStemmer

            self._isri = ISRIStemmer()

    def tokenize(self, text: str) -> list[str]:
        toks = tokens(text)
        if self.stemmer == "light":
            return [light_stem(t) for t in toks]
        if self.stemmer == "isri":
            return [self._isri.stem(t) for t in toks]
        return toks


def lsum_text(text: str) -> str:
    """ROUGE-Lsum reads sentences from newlines: put each Arabic sentence on its own line."""
    return "\n".join(split_sentences(text))


def xlsum_scorer():
    """XL-Sum's scorer, offline: NLTK's Arabic stopword list (read by the stemmer) is shipped in the package."""
    import nltk

    if str(NLTK_DATA) not in nltk.data.path:
        nltk.data.path.append(str(NLTK_DATA))
    from multilingual_rouge import rouge_scorer

    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True, lang="arabic")


def score_pairs(predictions: list[str], references: list[str], *, stemmer: str = "none",
                scorer: str = "project") -> list[dict[str, float]]:
    """Per-item ROUGE F1 for each pair (rouge1, rouge2, rougeL, rougeLsum)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if scorer not in SCORERS:
        raise ValueError(f"unknown scorer {scorer!r}; choose one of {', '.join(SCORERS)}")
    if scorer == "xlsum":
        rouge = xlsum_scorer()
        prepare = lambda text: text  # noqa: E731 - the package splits and tokenizes itself, as in XL-Sum
    else:
        from rouge_score import rouge_scorer

        rouge = rouge_scorer.RougeScorer(list(ROUGE_TYPES), tokenizer=ArabicTokenizer(stemmer))
        prepare = lsum_text
    out = []
    for pred, ref in zip(predictions, references):
        scores = rouge.score(prepare(ref), prepare(pred))
        out.append({k: scores[k].fmeasure for k in ROUGE_TYPES})
    return out


@lru_cache(maxsize=1)
def load_metric():
    """The `evaluate` metric object, loaded from the package's local module."""
    import evaluate

    return evaluate.load(str(METRIC_DIR))


def compute_rouge(predictions: list[str], references: list[str], *, stemmer: str = "none") -> dict[str, float]:
    """Mean ROUGE F1 through `evaluate` (what users quote)."""
    return load_metric().compute(predictions=predictions, references=references, stemmer=stemmer)


@dataclass
class Interval:
    mean: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "low": self.low, "high": self.high}


def bootstrap(values: list[float], *, resamples: int = 1000, seed: int = 0, level: float = 0.95) -> Interval:
    """Mean with a percentile bootstrap confidence interval (fixed seed, so reports are reproducible)."""
    if not values:
        return Interval(float("nan"), float("nan"), float("nan"))
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    alpha = (1 - level) / 2
    return Interval(sum(values) / n, means[int(alpha * resamples)], means[min(resamples - 1, int((1 - alpha) * resamples))])


def rouge_report(predictions: list[str], references: list[str], *, stemmer: str = "none", seed: int = 0,
                 scorer: str = "project") -> dict:
    """Per-item scores, means and bootstrap 95% CIs for each ROUGE type, with the tokenization recorded."""
    items = score_pairs(predictions, references, stemmer=stemmer, scorer=scorer)
    return {
        "scorer": scorer,
        "tokenizer": "arabic-normalized" if scorer == "project" else "multilingual-rouge (lang=arabic)",
        "stemmer": stemmer if scorer == "project" else "nltk-snowball-arabic",
        "n": len(items),
        "scores": {k: bootstrap([it[k] for it in items], seed=seed).as_dict() for k in ROUGE_TYPES},
        "items": items,
    }


def corpus_bleu(predictions: list[str], references: list[str]) -> float:
    """Corpus BLEU (sacrebleu) on the same normalized Arabic tokens as ROUGE."""
    import sacrebleu

    hyps = [" ".join(tokens(p)) for p in predictions]
    refs = [" ".join(tokens(r)) for r in references]
    return sacrebleu.corpus_bleu(hyps, [refs], tokenize="none").score
