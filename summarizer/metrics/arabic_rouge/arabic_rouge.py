"""Arabic ROUGE as an `evaluate` metric module (loaded by local path: evaluate.load(".../arabic_rouge"))."""

import datasets
import evaluate

_DESCRIPTION = """ROUGE-1/2/L/Lsum F1 with an Arabic tokenizer (normalized Arabic letters, Latin letters and
digits) and Arabic sentence splitting for Lsum. Optional stemmer: none, light, isri."""

_KWARGS = """predictions: list of generated texts; references: list of reference texts;
stemmer: 'none' (default), 'light' or 'isri'."""


class ArabicRouge(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="Lin, 2004. ROUGE: A Package for Automatic Evaluation of Summaries.",
            inputs_description=_KWARGS,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references, stemmer="none"):
        from summarizer.rouge import ROUGE_TYPES, score_pairs

        items = score_pairs(list(predictions), list(references), stemmer=stemmer)
        n = max(1, len(items))
        return {k: sum(it[k] for it in items) / n for k in ROUGE_TYPES}
