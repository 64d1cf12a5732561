"""Where a sentence is cut into a headline: the rules' cut, checked by the model.

A sentence of the article is the most faithful headline there is, but a long one must be cut, and a cut by rule
(summarizer.extractive's clause and phrase boundaries) often lands inside a phrase: "... تسير على قدم" without
"وساق", "لتنمية دول حوض" without "بحيرة تشاد". A headline model knows where a headline can end. Given the
sentence as its article, the model reads the sentence's words as its own answer, one forward pass, and learns
how ready it is to stop after each word (the probability of its stop token). The rules' cut stands where the model
would stop there too; where it would not, the cut moves to where it would (SLACK). The words stay the article's
own and in its order: the model chooses only how many.
"""

from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

from .extractive import HeadlineDraft


SLACK = 1.0
"""A cut is good when its stop log-probability is within this many nats of the best one's. The rules' cut (the
clause boundary nearest the word budget) is kept when it is good; else the longest good cut is taken. The model's
single most likely stop is often early, before the object ("رفضت وزيرة الخارجية الكندية التنازل", with "في نزاع
بلادها مع السعودية" dropped), and people judged such headlines unusable; the rules' cut is often right but
sometimes lands mid-phrase ("... لعضوية مجلس الأمن لفترة", "من عامين" dropped), where the model would not stop.
Judged on the 120 dev articles, the model's cut alone was no better than the rules' (docs/measurements.md): it
vetoes the rules' bad cuts, it does not replace the good ones."""


@runtime_checkable
class EndScoring(Protocol):
    """A backend that can say where its model would stop (the ct2 and hf backends do; one that cannot leaves the
    cut to the rules)."""

    task_format: object

    def end_scores(self, prompts: list[str], answers: list[list[str]], *, task: str) -> list[list[float]]:
        """For each prompt, log P(the answer ends here) after each piece of its answer, the pieces written one after
        another as given (" word", "،"): [k] after pieces[:k + 1]."""
        ...


_MARKS = "،,:؛"
"""Clause marks a headline never ends on (HeadlineDraft.text drops a trailing "،", "," or ":"; a sentence's "؛"
ends it): the model reads one as its own piece, and a cut is scored before it — after "وسوريا", not after
"وسوريا،", where no headline stops."""


def answer_pieces(words: list[str]) -> tuple[list[str], list[int]]:
    """The words as an answer's pieces (" word", and a trailing clause mark apart), and for each word the index of
    the piece it ends at, without its mark."""
    pieces, ends = [], []
    for word in words:
        core = word.rstrip(_MARKS) or word
        pieces.append(" " + core)  # as training wrote answers: " " + target
        ends.append(len(pieces) - 1)
        if core != word:
            pieces.append(word[len(core):])
    return pieces, ends


def model_cutter(backend, task: str = "headline") -> Callable[[list[HeadlineDraft]], list[int]] | None:
    """A `cut` for extractive.headline_candidates that asks `backend`'s model; None when the backend cannot."""
    if not isinstance(backend, EndScoring):
        return None
    fmt = backend.task_format

    def cut(drafts: list[HeadlineDraft]) -> list[int]:
        allowed = [d.cuts() for d in drafts]
        rules = [d.rule_cut() for d in drafts]
        lengths = [rule if not a else a[0] for rule, a in zip(rules, allowed)]
        asked = [j for j, a in enumerate(allowed) if len(a) > 1]  # one way to cut (or none) needs no model
        if not asked:
            return lengths
        prompts, answers, ends = [], [], []
        for j in asked:
            draft = drafts[j]
            prompts.append(fmt.render(task, draft.prefix + " ".join(draft.words)))
            pieces, at = answer_pieces(draft.prefix.split() + draft.words[: max(allowed[j])])
            answers.append(pieces)
            ends.append(at[len(draft.prefix.split()):])  # the speaker's words come first in the answer
        for j, at, scores in zip(asked, ends, backend.end_scores(prompts, answers, task=task)):
            ready = {k: scores[at[k - 1]] for k in allowed[j]}
            good = [k for k, score in ready.items() if score >= max(ready.values()) - SLACK]
            lengths[j] = rules[j] if rules[j] in good else max(good)
        return lengths

    return cut
