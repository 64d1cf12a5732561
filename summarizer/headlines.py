"""Choosing the headline a model engine shows: several candidates, each screened and checked, the supported ones
ranked first.

A candidate is not shown when it was cut at the token limit, is not headline-shaped (summarizer.shape), fails the
lexical guard (an invented number or name, too many new words), copies an article sentence but changes a relation
word in it (faithfulness.changed_relation) or, where the trained checker is installed, is not
supported by the article (summarizer.check). The rest are ranked by the checker's score, then the model's own
order. When none survives, the field falls back to the extractive engine's headline-shaped sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .faithfulness import changed_relation, guard_problems
from .reasons import Note, Reason
from .shape import problems as shape_problems, tidy


@dataclass
class Option:
    text: str
    source: str
    """'model' or 'extractive'."""
    finished: bool = True
    rejected: list[Note] = field(default_factory=list)
    """Why it is not shown (empty: shown or listed)."""
    verdict: dict | None = None
    """The check's {"verdict", "score", "evidence", "by"}."""

    @property
    def kept(self) -> bool:
        """Passed every check that may reject it (with the guard off, the checker's verdict is only recorded)."""
        return not self.rejected

    def candidate(self) -> dict:
        """As records list it: {"text", "verdict", "score", "evidence", "by", "source"}; without the checker the
        guard's verdict (it passed the guard: no invented number or name)."""
        verdict = self.verdict or {"verdict": "supported", "score": None, "evidence": [], "by": "guard"}
        return {"text": self.text, **verdict, "source": self.source}


def screen(option: Option, index, settings, sentences: list[str]) -> None:
    """Reject by form and by the lexical guard (the cheap checks, before any model call); `sentences`: the
    article's (extractive.article_sentences), which a model headline may copy but not change."""
    if not option.text:
        option.rejected.append(Note(Reason.EMPTY_OUTPUT, "headline"))
        return
    if not settings.guard:  # the model's own text, unscreened (for measuring what the model writes)
        return
    if option.source == "model" and not option.finished:
        option.rejected.append(Note(Reason.UNFINISHED, "headline"))
    for shape in shape_problems(option.text, max_words=settings.headline_max_words):
        option.rejected.append(Note(Reason.NOT_HEADLINE_SHAPED, "headline", {"shape": shape.value}))
    if option.source == "model":
        option.rejected += guard_problems(index.check(option.text), "headline", settings.guard_novel_rate)
        changed = changed_relation(option.text, sentences)
        if changed:
            option.rejected.append(Note(Reason.CHANGED_RELATION, "headline", {"text": changed[0], "source": changed[1]}))


def check(options: list[Option], checker, sentences: list[str], *, reject: bool = True,
          min_support: float = 0.0) -> None:
    """The checker's verdict for every option that passed the screen, in one batched call; `reject`: one it does
    not support, or supports with a probability under `min_support`, is not shown (at 1.0 none is: no checker
    is ever certain, and a probability that rounds to 1 is no exception)."""
    alive = [o for o in options if not o.rejected]
    if checker is None or not alive:
        return
    for option, verdict in zip(alive, checker.check_many([(sentences, o.text) for o in alive])):
        option.verdict = {**verdict.to_dict(), "by": "checker"}
        if reject and verdict.verdict != "supported":
            option.rejected.append(Note(Reason.NOT_SUPPORTED, "headline",
                                        {"verdict": verdict.verdict, "score": verdict.score}))
        elif reject and (verdict.score < min_support or min_support >= 1.0):
            option.rejected.append(Note(Reason.BELOW_BAR, "headline", {"score": verdict.score, "bar": min_support}))


def rank(options: list[Option]) -> list[Option]:
    """Supported options, best first: the checker's score (when there is one), then the order they came in (the
    model's own ranking, then the extractive ones)."""
    kept = [o for o in options if o.kept]
    # Two decimals: the checker's third decimal is noise, and within it the model's own order decides.
    return sorted(kept, key=lambda o: -round(o.verdict["score"], 2) if o.verdict and o.verdict["score"] is not None
                  else 0.0)


def below_bar(options: list[Option]) -> list[Option]:
    """Options whose only fault is a checker score under the bar for showing (its verdict is supported), best
    first: listed for the editor to pick, never shown by default."""
    kept = [o for o in options if o.rejected and all(n.code == Reason.BELOW_BAR for n in o.rejected)]
    return sorted(kept, key=lambda o: -o.verdict["score"])


def unique(texts: list[tuple[str, bool]], source: str) -> list[Option]:
    seen, out = set(), []
    for text, finished in texts:
        text = tidy(text)
        key = " ".join(text.split())
        if key not in seen:
            seen.add(key)
            out.append(Option(text, source, finished))
    return out
