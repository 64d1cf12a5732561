"""Why an output is not simply the model's text: the codes records and metrics carry, and the one table that turns a
code into the Arabic line users read.

Metrics (summarizer.evaluation) and programs read `Note.code`; only people read `message`, so rewording a message
changes no number.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from enum import StrEnum


class Reason(StrEnum):
    UNSUPPORTED_NUMBER = "unsupported_number"
    """The model's text has a number the article lacks (params: items)."""
    NOVEL_RARE_WORD = "novel_rare_word"
    """... a rare word, day or month the article lacks: a likely invented name, place or date (params: items)."""
    NOVEL_WORDS = "novel_words"
    """... more of its content words absent from the article than the guard allows (params: percent, items)."""
    EMPTY_OUTPUT = "empty_output"
    """The model wrote nothing usable."""
    EXTRACTIVE_BY_DESIGN = "extractive_by_design"
    """This field is the extractive engine's because the model is not asked to write it (model_fields)."""
    WEEKDAY_REMOVED = "weekday_removed"
    """A weekday the article does not name was deleted from the model's text (params: items)."""
    TRUNCATED_INPUT = "truncated_input"
    """The article was longer than the model's input and was cut (params: selection, what the model saw)."""
    SEVERAL_ARTICLES = "several_articles"
    """The page held several articles, each summarized on its own (params: count)."""
    UNFINISHED = "unfinished"
    """The model's text stopped at the token limit, mid-sentence."""
    NOT_HEADLINE_SHAPED = "not_headline_shaped"
    """Not printable as a headline: a fragment, an opening mid-story, too long or short (params: shape)."""
    CHANGED_RELATION = "changed_relation"
    """The model copied an article sentence but changed a relation word in it ("مع تركيا" for "بين تركيا وسوريا")
    (params: text, source: its words and the sentence's there)."""
    NOT_SUPPORTED = "not_supported"
    """The consistency checker finds the article does not say this (params: verdict, score)."""
    BELOW_BAR = "below_bar"
    """The checker supports the model's headline, but with less than the probability needed to show it
    (headline_min_support; at 1, the default, no model headline is shown): it is listed for the editor
    (params: score, bar)."""
    EMPTY_FIELD = "empty_field"
    """The engine found nothing to write for this field (an "ok" record with an empty field says why)."""


GUARD_REASONS = frozenset({Reason.UNSUPPORTED_NUMBER, Reason.NOVEL_RARE_WORD, Reason.NOVEL_WORDS,
                           Reason.EMPTY_OUTPUT, Reason.UNFINISHED, Reason.NOT_HEADLINE_SHAPED, Reason.CHANGED_RELATION,
                           Reason.NOT_SUPPORTED, Reason.BELOW_BAR})
"""Reasons that replace a field's text with the extractive engine's (the record's `fallback`)."""

MESSAGES: dict[Reason, str] = {
    Reason.UNSUPPORTED_NUMBER: "أرقام غير واردة في المقال: {items}",
    Reason.NOVEL_RARE_WORD: "أسماء أو كلمات نادرة غير واردة في المقال: {items}",
    Reason.NOVEL_WORDS: "{percent}% من كلماته غير واردة في المقال: {items}",
    Reason.EMPTY_OUTPUT: "لم يكتب النموذج نصا",
    Reason.EXTRACTIVE_BY_DESIGN: "جمل مأخوذة من المقال (المحرك الاستخراجي)",
    Reason.WEEKDAY_REMOVED: "حُذف يوم لا يذكره المقال ({items})",
    Reason.TRUNCATED_INPUT: "المقال أطول من مدخلات النموذج فقُطع؛ رأى النموذج {selection}",
    Reason.SEVERAL_ARTICLES: "في الصفحة {count}؛ لُخّص كل مقال على حدة",
    Reason.UNFINISHED: "توقف النموذج عند حد الطول قبل أن يكمل",
    Reason.NOT_HEADLINE_SHAPED: "لا يصلح عنوانا ({shape})",
    Reason.CHANGED_RELATION: "ينقل جملة من المقال ويغيّر فيها «{source}» إلى «{text}»",
    Reason.NOT_SUPPORTED: "لا يؤكده المقال بحسب المدقق ({verdict}، {score})",
    Reason.BELOW_BAR: "يؤكده المدقق بثقة {score}، دون حد العرض ({bar})؛ تجده في قائمة المرشحين",
    Reason.EMPTY_FIELD: "فارغ: لم يجد المحرك ما يكتبه",
}
REPLACED = "استُبدل نص النموذج بنص مأخوذ من المقال ({reasons})"
"""One line per replaced field, naming its guard reasons."""
FIELDS = {"headline": "العنوان", "summary": "الملخص"}
PARAM_WORDS = {"selection": {"start": "بدايته", "central": "أهم جمله"},
               "verdict": {"supported": "مدعوم", "unsupported": "غير مدعوم", "contradicted": "يناقض المقال"},
               "shape": {"too_short": "قصير جدا", "too_long": "طويل جدا", "dangling_end": "ينتهي في منتصف عبارة",
                         "mid_story_opening": "يبدأ من منتصف القصة", "unbalanced_quote": "اقتباس ناقص",
                         "subordinate_only": "جملة ظرفية لا تقول ما حدث",
                         "lost_verb": "سقط فعل الجملة"}}
"""Parameter values written as words (TaskFormat.input_selection -> what the model saw)."""


@dataclasses.dataclass(frozen=True)
class Noun:
    """An Arabic noun in the forms a number takes it in (nominative: a message puts a count where the dual reads
    -ان): one, two, 3-10 (plural), 11-99 (accusative singular), and the singular after a round hundred."""

    one: str
    two: str
    few: str
    many: str
    hundred: str


ARTICLE = Noun("مقال واحد", "مقالان", "مقالات", "مقالا", "مقال")
CHARACTER = Noun("حرف واحد", "حرفان", "أحرف", "حرفا", "حرف")


def counted(n: int, noun: Noun) -> str:
    """`n` of `noun` in Arabic: 1 مقال واحد, 2 مقالان, 3-10 مقالات, 11-99 مقالا, 100 مقال; past 100 the last two
    digits decide (103 مقالات, 111 مقالا) and 100, 101, 102, 1,000 take the singular."""
    if n in (1, 2):
        return noun.one if n == 1 else noun.two
    rest = n % 100
    form = noun.few if 3 <= rest <= 10 or n == 0 else noun.many if rest >= 11 else noun.hundred
    return f"{n:,} {form}"


COUNTED = {"count": ARTICLE}
"""Parameters that count something, written as the counted noun (2 -> مقالان, never "2 مقالات")."""
LIST_SEPARATOR, REASON_SEPARATOR = "، ", "؛ "


@dataclasses.dataclass
class Note:
    """One reason, for one field (headline/summary) or for the whole article (field None)."""

    code: Reason
    field: str | None = None
    params: dict = dataclasses.field(default_factory=dict)  # `field` is the attribute above
    """JSON values the message names: items (a list of words or numbers), percent, count, selection."""

    @property
    def text(self) -> str:
        """The message without its field name."""
        values = {k: LIST_SEPARATOR.join(map(str, v)) if isinstance(v, (list, tuple))
                  else counted(v, COUNTED[k]) if k in COUNTED and isinstance(v, int)
                  else PARAM_WORDS.get(k, {}).get(v, v) for k, v in self.params.items()}
        return MESSAGES[self.code].format(**values)

    @property
    def message(self) -> str:
        return f"{FIELDS[self.field]}: {self.text}" if self.field else self.text

    def to_dict(self) -> dict:
        return {"code": self.code.value, "field": self.field, "params": dict(self.params)}


def messages(notes: Iterable[Note]) -> list[str]:
    """The lines users read, in order: one per note, except that a field's guard reasons share one line saying
    its text was replaced (where the first of them stands)."""
    notes = list(notes)
    lines = []
    for note in notes:
        if note.code not in GUARD_REASONS:
            lines.append(note.message)
            continue
        same = [n for n in notes if n.code in GUARD_REASONS and n.field == note.field]
        if same[0] is note:
            line = REPLACED.format(reasons=REASON_SEPARATOR.join(n.text for n in same))
            lines.append(f"{FIELDS[note.field]}: {line}" if note.field else line)
    return lines


def fallback_codes(notes: Iterable[Note]) -> dict[str, list[str]]:
    """Replaced fields -> their guard reason codes, in order (the record's `fallback`)."""
    out: dict[str, list[str]] = {}
    for note in notes:
        if note.code in GUARD_REASONS and note.field:
            out.setdefault(note.field, []).append(note.code.value)
    return out
