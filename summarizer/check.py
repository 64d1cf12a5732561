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

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

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
    evidence_tokens: int = 120
    """Most tokens of evidence; longer evidence is cut at a word boundary."""
    threshold: float = 0.5
    """A claim is `supported` when the model's probability of supported is at least this (chosen on held-out
    pairs when the checker is trained; saved here)."""

    def render(self, evidence: str, claim: str) -> str:
        return self.template.format(evidence=evidence, claim=" ".join(claim.split()))

    def save(self, directory: str | Path) -> Path:
        path = Path(directory) / CHECK_FORMAT_FILE
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> "CheckFormat":
        path = Path(directory) / CHECK_FORMAT_FILE
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


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
        encoded = tokenizer.encode(fmt.answers[verdict], add_special_tokens=False)
        encoded = getattr(encoded, "ids", encoded)
        if len(encoded) != 1:
            raise ModelLoadError(f"the checker's answer word for {verdict!r} is not one token of this tokenizer")
        ids.append(encoded[0])
    return ids


def prompt_ids(tokenizer, fmt: CheckFormat, evidence_text: str, claim: str, *, bos: int | None) -> list[int]:
    """Token ids of one check prompt: evidence cut to its budget at a word boundary, then the claim and question."""
    def encode(text):
        out = tokenizer.encode(text, add_special_tokens=False)
        return list(getattr(out, "ids", out))

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
