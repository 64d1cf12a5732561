"""A restricted output vocabulary: logits over a subset of a causal model's tokens, ids mapped around the model.

Most of a small multilingual model's cost is its output layer (gemma-3-270m: 168M of 268M parameters, 262k
tokens), which every position reads; Arabic news uses a small part of it. Training computes the softmax over the
tokens its targets use only (the model itself is unchanged), which makes a CPU step several times cheaper.
"""

from __future__ import annotations

from collections.abc import Iterable


class RestrictedVocab:
    """Sorted token ids kept; `logits` multiplies hidden states by their rows of the output layer only."""

    def __init__(self, ids: list[int], full_size: int):
        import torch

        self.ids = torch.tensor(sorted(set(ids)), dtype=torch.long)
        self.full_size = full_size
        self._to_local = torch.full((full_size,), -1, dtype=torch.long)
        self._to_local[self.ids] = torch.arange(len(self.ids))

    @classmethod
    def from_ids(cls, ids: Iterable[int], full_size: int) -> "RestrictedVocab":
        return cls(list(ids), full_size)

    def __len__(self) -> int:
        return len(self.ids)

    def logits(self, model, hidden):
        """Logits over the kept tokens, as the model's own output layer (and final soft-capping) computes them."""
        import torch.nn.functional as F

        head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
        if head is None:
            head = _unwrap(model).get_output_embeddings()
        weight = head.weight.index_select(0, self.ids.to(head.weight.device))
        bias = head.bias.index_select(0, self.ids.to(head.bias.device)) if getattr(head, "bias", None) is not None \
            else None
        logits = F.linear(hidden, weight, bias)
        cap = getattr(_unwrap(model).config, "final_logit_softcapping", None)
        if cap:
            import torch

            logits = torch.tanh(logits / cap) * cap
        return logits

    def remap(self, labels):
        """Full-vocabulary label ids -> positions in the kept list (-100 stays -100); every label must be kept."""
        import torch

        local = self._to_local.to(labels.device)[labels.clamp(min=0)]
        if bool(((local < 0) & (labels >= 0)).any()):
            raise ValueError("a target token is outside the restricted vocabulary")
        return torch.where(labels < 0, labels, local)


def _unwrap(model):
    while hasattr(model, "module"):  # DDP
        model = model.module
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def single_character_ids(tokenizer) -> set[int]:
    """Ids of tokens that spell one character or one byte: with them any text can still be written."""
    ids = set()
    for token, tid in tokenizer.get_vocab().items():
        text = token.replace("\u2581", " ").replace("Ġ", " ")
        if len(text.strip()) <= 1 or (token.startswith("<0x") and token.endswith(">")):
            ids.add(tid)
    return ids


# --- the kept ids, saved with an adapter ------------------------------------------------------------------------
OUTPUT_VOCAB_FILE = "output_vocab.json"
"""Written beside an adapter trained with a restricted softmax: the token ids its outputs were trained over. The
ct2 backend serves with an output layer of these rows only (the model never learned to weigh the others)."""


def save_output_vocab(directory, ids: Iterable[int], full_size: int) -> None:
    import json
    from pathlib import Path

    (Path(directory) / OUTPUT_VOCAB_FILE).write_text(
        json.dumps({"full_size": int(full_size), "ids": sorted({int(i) for i in ids})}) + "\n", encoding="utf-8")


def load_output_vocab(directory) -> tuple[list[int], int] | None:
    """(kept ids, full vocabulary size) saved in `directory`, or None when it has none."""
    import json
    from pathlib import Path

    if directory is None:
        return None
    path = Path(directory) / OUTPUT_VOCAB_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    ids, full_size = data.get("ids"), data.get("full_size")
    if not isinstance(ids, list) or not isinstance(full_size, int) or \
            not all(isinstance(i, int) and 0 <= i < full_size for i in ids):
        raise ValueError(f"{path}: not a list of token ids below full_size")
    return ids, full_size
