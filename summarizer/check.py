"""The consistency checker: does the article say what a headline (or summary) says?

The lexical guard (faithfulness.py) catches invented numbers and names; it cannot see a headline made only of the
article's own words that says something else (an inverted finding, swapped roles, an event stitched from two
sentences, another story's title). The checker reads the article sentences that best match the claim (the evidence)
and the claim, and a small model fine-tuned on the corpora answers one of three words: supported, contradicted,
not in the article. Its probability of "supported" is the score.

- `evidence(sentences, claim)`: the article sentences sharing the most (rarity-weighted) content with the claim;
- `CheckFormat`: the one rendering of a check prompt and its answer words (training and serving both use it);
- `Checker`: a model on a runtime (transformers for training and tests, CTranslate2 int8 for serving) that scores
  batches of (evidence, claim) pairs; `check_text` gives a `Verdict` per field with its evidence.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .generation import load_beside, save_beside
from .text import content_tokens, split_sentences

VERDICTS = ("supported", "unsupported", "contradicted")
CHECK_FORMAT_FILE = "summarizer_check.json"


@dataclass
class CheckFormat:
    """How a check is put to the model, saved next to the checker's weights so training and serving agree."""

    template: str = "{evidence}\n\nالعنوان: {claim}\nهل يقول النص ما يقوله العنوان؟ الجواب:"
    answers: dict[str, str] = field(default_factory=lambda: {"supported": " صحيح", "contradicted": " لا",
                                                             "unsupported": " غير"})
    """One answer word per verdict; each must be a single token of the model's tokenizer."""
    evidence_sentences: int = 2
    """Article sentences shown to the model (the best matches, in article order)."""
    evidence_tokens: int = 80
    """Most tokens of evidence; longer evidence is cut at a word boundary."""
    threshold: float = 0.5
    """A claim is `supported` when the model's probability of supported is at least this (chosen on held-out
    pairs when the checker is trained; saved here)."""

    def render(self, evidence: str, claim: str) -> str:
        return self.template.format(evidence=evidence, claim=" ".join(claim.split()))

    def save(self, directory: str | Path) -> Path:
        return save_beside(self, directory, CHECK_FORMAT_FILE)

    @classmethod
    def load(cls, directory: str | Path) -> "CheckFormat":
        return load_beside(cls, directory, CHECK_FORMAT_FILE) or cls()


def _weights(stems: set[str]) -> dict[str, float]:
    """Rarer words weigh more: a shared name says more about support than a shared 'said'."""
    from .faithfulness import background

    counts = background()
    return {s: 1.0 / math.log(2.0 + counts.get(s, 0)) for s in stems}


def evidence(sentences: list[str], claim: str, k: int = 2) -> list[int]:
    """Indices (in article order) of the `k` sentences sharing the most weighted content with the claim; the first
    sentence when none shares anything (the model then sees the article's lead and the claim)."""
    claim_stems = set(content_tokens(claim))
    if not sentences:
        return []
    weights = _weights(claim_stems)
    total = sum(weights.values()) or 1.0
    scored = []
    for i, sentence in enumerate(sentences):
        shared = claim_stems & set(content_tokens(sentence))
        scored.append((sum(weights[s] for s in shared) / total, -i))
    best = [-i for score, i in sorted(scored, reverse=True)[:k] if score > 0]
    return sorted(best) or [0]


@dataclass
class Verdict:
    verdict: str
    """supported | unsupported | contradicted."""
    score: float
    """The checker's probability that the article supports the claim."""
    evidence: list[dict] = field(default_factory=list)
    """The article sentences the claim was checked against: [{"sentence": index, "text": ...}]."""

    def to_dict(self) -> dict:
        return asdict(self)


def decide(probs: dict[str, float], threshold: float) -> str:
    if probs["supported"] >= threshold:
        return "supported"
    return "contradicted" if probs["contradicted"] >= probs["unsupported"] else "unsupported"


def claims_of(text: str) -> list[str]:
    """What is checked: a headline as one claim, a summary sentence by sentence."""
    return [s for s in split_sentences(text) if s.strip()] or ([text] if text.strip() else [])


# --- the model side --------------------------------------------------------------------------------------------
def answer_ids(tokenizer, fmt: CheckFormat) -> list[int]:
    """Token id of each verdict's answer word, in VERDICTS order."""
    from .errors import ModelLoadError

    ids = []
    for verdict in VERDICTS:
        encoded = tokenizer(fmt.answers[verdict], add_special_tokens=False).input_ids
        if len(encoded) != 1:
            raise ModelLoadError(f"the checker's answer word for {verdict!r} is not one token of this tokenizer")
        ids.append(encoded[0])
    return ids


def prompt_ids(tokenizer, fmt: CheckFormat, evidence_text: str, claim: str, *, bos: int | None) -> list[int]:
    """Token ids of one check prompt: evidence cut to its budget at a word boundary, then the claim and question."""
    def encode(text):
        return list(tokenizer(text, add_special_tokens=False).input_ids)

    words = evidence_text.split()
    while len(words) > 1 and len(encode(" ".join(words))) > fmt.evidence_tokens:
        words = words[: max(1, int(len(words) * 0.85))]
    ids = encode(fmt.render(" ".join(words), claim))
    return ([bos] if bos is not None else []) + ids


def torch_answer_logits(model, batch: list[list[int]], answers: list[int], pad_id: int):
    """The answer words' logits at the end of each prompt ([batch, len(VERDICTS)]), prompts left-padded so the
    last position is every prompt's answer position; only that position's logits are computed."""
    import torch

    width = max(len(ids) for ids in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, ids in enumerate(batch):
        input_ids[row, width - len(ids):] = torch.tensor(ids)
        mask[row, width - len(ids):] = 1
    logits = model(input_ids=input_ids.to(model.device), attention_mask=mask.to(model.device),
                   logits_to_keep=1).logits[:, -1, :]
    return logits[:, answers]


CHECKER_DIR = Path(__file__).parent / "adapters" / "gemma3-270m-checker"
_SEVERITY = {"supported": 0, "unsupported": 1, "contradicted": 2}


def default_checker_dir() -> Path | None:
    return CHECKER_DIR if (CHECKER_DIR / "adapter_config.json").is_file() else None


class _HFScorer:
    """transformers (training, tests, hosts without CTranslate2): the adapter merged, one forward per batch."""

    def __init__(self, loaded, fmt: CheckFormat):
        self.model, self.tokenizer = loaded.model, loaded.tokenizer
        self.answers = answer_ids(self.tokenizer, fmt)
        self.bos = self.tokenizer.bos_token_id

    def __call__(self, prompts: list[list[int]]) -> list[list[float]]:
        import torch

        with torch.no_grad():
            logits = torch_answer_logits(self.model, prompts, self.answers, self.tokenizer.pad_token_id)
        return logits.float().tolist()


class _CT2Scorer:
    """CTranslate2 int8: the output layer trimmed to the answer words (and the specials the converter keeps), so a
    check is one forward pass over the prompt with a few-row output projection."""

    def __init__(self, backend, fmt: CheckFormat):
        self.backend, self.tokenizer = backend, backend.tokenizer
        self.columns = backend.output_columns(answer_ids(self.tokenizer, fmt))
        self.bos = self.tokenizer.bos_token_id

    def __call__(self, prompts: list[list[int]]) -> list[list[float]]:
        import numpy as np

        # Right-padded to one length: CTranslate2 4.8's forward_batch refuses prompts of different lengths for
        # this model, and under causal attention the padding after a prompt cannot change its last position.
        width = max(len(ids) for ids in prompts)
        pad = self.tokenizer.convert_ids_to_tokens(self.tokenizer.eos_token_id)
        batch = [self.tokenizer.convert_ids_to_tokens(ids) + [pad] * (width - len(ids)) for ids in prompts]
        logits = np.asarray(self.backend.model.forward_batch(batch))
        return [logits[row, len(ids) - 1, self.columns].tolist() for row, ids in enumerate(prompts)]


class Checker:
    """A trained checker on a runtime: `check(article_text, text)` -> Verdict, batches with `check_many`."""

    def __init__(self, scorer, fmt: CheckFormat, *, name: str = "checker", batch_size: int = 8):
        self.scorer, self.format, self.name, self.batch_size = scorer, fmt, name, batch_size

    @classmethod
    def load(cls, directory: str | Path | None = None, *, backend: str = "ct2", base: str | None = None,
             threads: int | None = None) -> "Checker":
        """The checker adapter in `directory` (default: the shipped one) on the embedded base model."""
        from .errors import ModelLoadError

        if directory is not None and not (Path(directory) / "adapter_config.json").is_file():
            raise ModelLoadError(f"{directory}: not a checker (no adapter_config.json there)")
        directory = Path(directory) if directory is not None else default_checker_dir()
        if directory is None:
            raise ModelLoadError("no trained checker is installed (summarizer/adapters/gemma3-270m-checker)")
        if base is None:
            from .default_model import ensure_base_model

            base = str(ensure_base_model())
        fmt = CheckFormat.load(directory)
        if backend == "ct2":
            from .backends.ct2 import CT2Backend

            scorer = _CT2Scorer(CT2Backend.load(base, adapter=str(directory), threads=threads), fmt)
        elif backend == "hf":
            from .backends.hf import load_model

            scorer = _HFScorer(load_model(base, adapter=str(directory), device="cpu", threads=threads), fmt)
        else:
            raise ModelLoadError(f"the checker runs on ct2 or hf, not {backend!r}")
        return cls(scorer, fmt, name=Path(directory).name)

    def probabilities(self, items: list[tuple[str, str]]) -> list[dict[str, float]]:
        """P(verdict) for each (evidence text, claim)."""
        out = []
        tokenizer = self.scorer.tokenizer
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            prompts = [prompt_ids(tokenizer, self.format, ev, claim, bos=self.scorer.bos) for ev, claim in chunk]
            for row in self.scorer(prompts):
                top = max(row)
                exp = [math.exp(v - top) for v in row]
                out.append({v: e / sum(exp) for v, e in zip(VERDICTS, exp)})
        return out

    def evidence_item(self, sentences: list[str], claim: str) -> tuple[list[int], tuple[str, str]]:
        picked = evidence(sentences, claim, self.format.evidence_sentences)
        return picked, (" ".join(sentences[i] for i in picked), claim)

    def probabilities_for(self, requests: list[tuple[list[str], str]]) -> list[dict[str, float]]:
        """P(verdict) for each (article sentences, claim), the claim checked whole."""
        return self.probabilities([self.evidence_item(sentences, claim)[1] for sentences, claim in requests])

    def check_many(self, requests: list[tuple[list[str], str]]) -> list[Verdict]:
        """One Verdict per (article sentences, headline or summary): a summary is checked sentence by sentence and
        gets its weakest sentence's verdict and score, with the evidence of all."""
        items, owners, chosen = [], [], []
        for r, (sentences, text) in enumerate(requests):
            for claim in claims_of(text):
                picked, item = self.evidence_item(sentences, claim)
                items.append(item)
                owners.append(r)
                chosen.append(picked)
        results = [Verdict("unsupported", 0.0) for _ in requests]
        seen: list[set[int]] = [set() for _ in requests]
        first = [True] * len(requests)
        for r, picked, probs in zip(owners, chosen, self.probabilities(items)):
            verdict = decide(probs, self.format.threshold)
            score = round(probs["supported"], 4)
            current = results[r]
            if first[r] or _SEVERITY[verdict] > _SEVERITY[current.verdict] or \
                    (verdict == current.verdict and score < current.score):
                current.verdict, current.score = verdict, score
            first[r] = False
            seen[r].update(picked)
        for r, (sentences, _) in enumerate(requests):
            results[r].evidence = [{"sentence": i, "text": sentences[i]} for i in sorted(seen[r])]
        return results

    def check(self, article_text: str, text: str) -> Verdict:
        return self.check_many([(text_sentences(article_text), text)])[0]


def text_sentences(text: str) -> list[str]:
    """An article text's sentences, numbered as the engines number them (evidence indices point into this)."""
    from .extractive import sentences_with_paragraphs
    from .text import split_paragraphs

    return sentences_with_paragraphs(split_paragraphs(text))[0]


def check_record(checker: "Checker", item, where: str) -> dict:
    """One --pairs line -> its output line: {"id", "headline": verdict, "summary": verdict} or {"id", "error"}."""
    if not isinstance(item, dict):
        return {"id": None, "error": f"{where}: expected a JSON object"}
    pair_id = item.get("id") if isinstance(item.get("id"), (str, int)) else None
    text = item.get("text")
    fields = {name: item.get(name) for name in ("headline", "summary") if item.get(name) is not None}
    problems = []
    if not isinstance(text, str) or not text.strip():
        problems.append("'text' must be a non-empty string")
    if not fields:
        problems.append("give 'headline' and/or 'summary'")
    problems += [f"'{name}' must be a string" for name, value in fields.items() if not isinstance(value, str)]
    if problems:
        return {"id": pair_id, "error": f"{where}: " + "; ".join(problems)}
    sentences = text_sentences(text)
    verdicts = checker.check_many([(sentences, value) for value in fields.values()])
    return {"id": pair_id, **{name: v.to_dict() for name, v in zip(fields, verdicts)}}


VERDICT_WORDS = {"supported": "مدعوم", "unsupported": "غير مدعوم", "contradicted": "يناقض المقال"}


def format_verdict(record: dict) -> str:
    """A check's output line(s) for people: each field's verdict, score and evidence sentences."""
    if "error" in record:
        return f"{record.get('id') or ''}: {record['error']}".strip(": ")
    lines = [f"# {record['id']}"] if record.get("id") is not None else []
    for name in ("headline", "summary"):
        if name in record:
            v = record[name]
            lines.append(f"{'العنوان' if name == 'headline' else 'الملخص'}: {VERDICT_WORDS[v['verdict']]} "
                         f"({v['score']:.2f})")
            lines += [f"  [{e['sentence']}] {e['text']}" for e in v["evidence"]]
    return "\n".join(lines)
