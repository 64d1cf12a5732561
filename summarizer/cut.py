"""Where a sentence is cut into a headline, chosen by the model.

A sentence of the article is the most faithful headline there is, but a long one must be cut, and a cut by rule
(summarizer.extractive's clause and phrase boundaries) often lands inside a phrase: "... تسير على قدم" without
"وساق", "لتنمية دول حوض" without "بحيرة تشاد". A headline model knows where a headline can end. Given the
sentence as its article, the model reads the sentence's words as its own answer, one forward pass, and the cut
is where it is most ready to stop (the probability of its stop token after each word). The words stay the
article's own and in its order: the model chooses only how many.
"""

from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

from .extractive import HeadlineDraft


SLACK = 1.0
"""The cut is the longest one whose stop log-probability is within this many nats of the best. The model's single
most likely stop is often early, before the object ("رفضت وزيرة الخارجية الكندية التنازل", with "في نزاع بلادها
مع السعودية" dropped): on the judged dev articles people found a third of such headlines unusable, cut before what
happened; a cut nearly as likely that keeps the object reads as the story."""


@runtime_checkable
class EndScoring(Protocol):
    """A backend that can say where its model would stop (the ct2 and hf backends do; one that cannot leaves the
    cut to the rules)."""

    task_format: object

    def end_scores(self, prompts: list[str], answers: list[list[str]], *, task: str) -> list[list[float]]:
        """For each prompt, log P(the answer ends here) after each word of its answer: [k] after words[:k + 1]."""
        ...


def model_cutter(backend, task: str = "headline") -> Callable[[list[HeadlineDraft]], list[int]] | None:
    """A `cut` for extractive.headline_candidates that asks `backend`'s model; None when the backend cannot."""
    if not isinstance(backend, EndScoring):
        return None
    fmt = backend.task_format

    def cut(drafts: list[HeadlineDraft]) -> list[int]:
        allowed = [d.cuts() for d in drafts]
        lengths = [d.rule_cut() if not a else a[0] for d, a in zip(drafts, allowed)]
        asked = [j for j, a in enumerate(allowed) if len(a) > 1]  # one way to cut (or none) needs no model
        if not asked:
            return lengths
        prompts, answers = [], []
        for j in asked:
            draft = drafts[j]
            prompts.append(fmt.render(task, draft.prefix + " ".join(draft.words)))
            answers.append(draft.prefix.split() + draft.words[: max(allowed[j])])
        for j, scores in zip(asked, backend.end_scores(prompts, answers, task=task)):
            offset = len(drafts[j].prefix.split())  # the speaker's words come first in the answer
            ready = {k: scores[offset + k - 1] for k in allowed[j]}
            best = max(ready.values())
            lengths[j] = max(k for k, score in ready.items() if score >= best - SLACK)
        return lengths

    return cut
