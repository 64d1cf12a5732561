"""How far the article supports a headline or summary: the measures users see and evaluation reports.

- unsupported numbers: numbers in the output (Western or Arabic-Indic digits, normalized) absent from the input;
- novel content words: share of the output's content tokens (normalized, lightly stemmed, no stopwords) absent
  from the input;
- novel rare words: novel words that are also rare in a background frequency list built from the training corpora
  (shipped in the package): the likely invented names and places.

Everything is computed on the matching form of `summarizer.text`; the text shown to users is never changed here.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from .reasons import Note, Reason
from .text import content_tokens, light_stem, normalize, stopwords, tokens

BACKGROUND_FILE = Path(__file__).parent / "data" / "background_freq.tsv.gz"
RARE_BELOW = 30
"""A stem seen fewer times than this in the background corpora (about 20M words) counts as rare."""

# Day and month names are facts as much as numbers are: a weekday the article lacks is an invented date.
_DATE_WORDS = frozenset(normalize(w) for w in """السبت الأحد الاثنين الإثنين الثلاثاء الأربعاء الخميس الجمعة يناير
    فبراير مارس أبريل ابريل مايو يونيو يوليو أغسطس اغسطس سبتمبر أكتوبر اكتوبر نوفمبر ديسمبر كانون شباط آذار نيسان
    أيار حزيران تموز آب أيلول تشرين جانفي فيفري أفريل جوان جويلية أوت""".split())

_WEEKDAYS = frozenset(normalize(w) for w in "السبت الأحد الاثنين الإثنين الثلاثاء الأربعاء الخميس الجمعة".split())
# A weekday as news writes it: "، الأربعاء،", "يوم الخميس", "اليوم الجمعة", "مساء السبت", with a clitic or not.
_WEEKDAY_PHRASE = re.compile(r"\s*،?\s*(?:(?:ال)?يوم\s+|مساء\s+|صباح\s+|ليلة\s+)?(?P<day>[وبفل]?(?:"
                             + "|".join(sorted(("السبت", "الأحد", "الاحد", "الاثنين", "الإثنين", "الثلاثاء",
                                                "الأربعاء", "الاربعاء", "الخميس", "الجمعة"), key=len, reverse=True))
                             + r"))(?![\w])\s*،?")

# Digits after normalization (Arabic-Indic are mapped to ASCII), with thousands separators and decimals.
_NUMBER = re.compile(r"\d+(?:[.,٫٬]\d+)*")


def numbers(text: str) -> set[str]:
    """Canonical numbers in the text: "1,000" = "1000" = "١٠٠٠"; "3.5" = "3٫5"; leading zeros dropped."""
    out = set()
    for match in _NUMBER.findall(normalize(text)):
        parts = re.split(r"[.,٫٬]", match)
        # A separator followed by exactly three digits groups thousands; otherwise it is a decimal point.
        if len(parts) > 1 and all(len(p) == 3 for p in parts[1:]):
            value = "".join(parts)
        elif len(parts) == 2:
            value = f"{parts[0]}.{parts[1]}"
        else:
            value = "".join(parts)
        whole, _, fraction = value.partition(".")
        whole = whole.lstrip("0") or "0"
        fraction = fraction.rstrip("0")
        out.add(f"{whole}.{fraction}" if fraction else whole)
    return out


@lru_cache(maxsize=1)
def background() -> dict[str, int]:
    """Stem -> count in the training corpora; empty when the list is not installed (then no word is 'rare')."""
    if not BACKGROUND_FILE.is_file():
        return {}
    counts = {}
    with gzip.open(BACKGROUND_FILE, "rt", encoding="utf-8") as handle:
        for line in handle:
            word, _, count = line.rstrip("\n").partition("\t")
            if word and count.isdigit():
                counts[word] = int(count)
    return counts


def _is_date_word(token: str) -> bool:
    """"الثلاثاء", "والخميس", "بمارس": a day or month name, with or without a clitic."""
    return token in _DATE_WORDS or any(token[len(p):] in _DATE_WORDS for p in ("و", "ب", "ف", "ل", "وب", "في"))


def is_rare(stem: str, counts: dict[str, int] | None = None) -> bool:
    counts = background() if counts is None else counts
    if not counts or stem.isdigit():
        return False
    return counts.get(stem, 0) < RARE_BELOW


@dataclass
class Support:
    """What the input does not support in one output text."""

    unsupported_numbers: list[str] = field(default_factory=list)
    novel_words: list[str] = field(default_factory=list)
    """Content words (as written in the output) whose stems are not in the input."""
    novel_rare_words: list[str] = field(default_factory=list)
    content_words: int = 0

    @property
    def novel_rate(self) -> float:
        return len(self.novel_words) / self.content_words if self.content_words else 0.0

    @property
    def supported(self) -> bool:
        """No unsupported number and no novel rare word: the output's facts can be found in the input."""
        return not self.unsupported_numbers and not self.novel_rare_words

    def notes(self, field: str | None = None) -> list[Note]:
        """Why the text is not supported (empty when it is): its unsupported numbers, its novel rare words."""
        notes = []
        if self.unsupported_numbers:
            notes.append(Note(Reason.UNSUPPORTED_NUMBER, field, {"items": list(self.unsupported_numbers)}))
        if self.novel_rare_words:
            notes.append(Note(Reason.NOVEL_RARE_WORD, field, {"items": list(self.novel_rare_words)}))
        return notes

    def to_dict(self) -> dict:
        return {**asdict(self), "novel_rate": round(self.novel_rate, 4), "supported": self.supported}


# Words that say how the things a sentence names relate: "بين تركيا وسوريا" is not "مع تركيا".
_RELATION_WORDS = frozenset(normalize(w) for w in "في من على إلى الى عن مع بين ضد لدى عند نحو عبر".split())
COPY_COVERAGE = 0.6
"""A text copies a sentence when at least this share of its words are the sentence's, in order."""


_EDGE_MARKS = "،,.:؛!؟?\"'«»()[]"
"""Marks around a word as a message shows it ("«مواجهة»،" -> "مواجهة")."""


def _keyed_words(text: str) -> list[tuple[str, str]]:
    """(the word as written, its matching form) for each whitespace word with a letter or digit."""
    out = []
    for word in text.split():
        key = " ".join(tokens(word))
        if key:
            out.append((word.strip(_EDGE_MARKS), key))
    return out


def changed_relation(text: str, sentences: Iterable[str]) -> tuple[str, str] | None:
    """Where `text` copies one of `sentences` (COPY_COVERAGE) but replaces words there, one of them a relation
    word (a preposition): (the text's words, the sentence's words), else None. Every word may be the article's,
    so the lexical guard passes such a text, yet the relation it states is not the article's: "لتحسين العلاقات
    مع تركيا" for "لتحسين العلاقات بين تركيا وسوريا". On the judged headlines the model wrote (train and dev), 43%
    of those this finds were wrong, against 15% of the rest."""
    from difflib import SequenceMatcher

    mine = _keyed_words(text)
    if len(mine) < 3:
        return None
    keys = [key for _, key in mine]
    best = None
    for sentence in sentences:
        theirs = _keyed_words(sentence)
        matcher = SequenceMatcher(None, keys, [key for _, key in theirs], autojunk=False)
        covered = sum(block.size for block in matcher.get_matching_blocks()) / len(keys)
        if best is None or covered > best[0]:
            best = (covered, matcher, theirs)
    if best is None or best[0] < COPY_COVERAGE:
        return None
    _, matcher, theirs = best
    for k, (op, i1, i2, j1, j2) in enumerate(matcher.get_opcodes()):
        if op != "replace" or k == 0:  # a different opening is a headline's own wording, not a changed relation
            continue
        changed = {key for _, key in mine[i1:i2]}, {key for _, key in theirs[j1:j2]}
        if changed[0] != changed[1] and (changed[0] | changed[1]) & _RELATION_WORDS:
            # A word of context each side (two after in the sentence, where what was dropped often is):
            # "العلاقات مع تركيا" for "العلاقات بين تركيا وسوريا".
            return (" ".join(w for w, _ in mine[max(0, i1 - 1) : i2 + 1]),
                    " ".join(w for w, _ in theirs[max(0, j1 - 1) : j2 + 2]))
    return None


class SourceIndex:
    """The input's numbers and content stems, computed once and checked against any number of outputs."""

    def __init__(self, source: str):
        self.numbers = numbers(source)
        self.stems = set(content_tokens(source))
        self.words = set(tokens(source))

    def check(self, output: str) -> Support:
        counts = background()
        support = Support()
        support.unsupported_numbers = sorted(numbers(output) - self.numbers)
        stops = stopwords()
        seen = set()
        for word in re.findall(r"\S+", output):
            toks = [t for t in tokens(word) if t not in stops and len(t) > 1 and not t.isdigit()]
            for tok in toks:
                stem = light_stem(tok)
                support.content_words += 1
                if stem in self.stems or tok in self.words or stem in seen:
                    continue
                seen.add(stem)
                shown = word.strip(_EDGE_MARKS)
                support.novel_words.append(shown)
                if is_rare(stem, counts) or _is_date_word(tok):
                    support.novel_rare_words.append(shown)
        return support


def drop_unsupported_weekdays(text: str, index: "SourceIndex") -> tuple[str, list[str]]:
    """Delete weekdays the article does not name ("أعلن الوزير، الأربعاء، أن" -> "أعلن الوزير أن"): a small model
    learns them from lead paragraphs, and the sentence reads the same without. Returns (text, removed days)."""
    removed: list[str] = []

    def repair(match: re.Match) -> str:
        day = match.group("day")
        token = normalize(day)
        if token in index.words or token.lstrip("وبفل") in index.words:
            return match.group(0)
        removed.append(day)
        return " "

    repaired = _WEEKDAY_PHRASE.sub(repair, text)
    if not removed:
        return text, []
    repaired = re.sub(r"\s+([،.:؛!؟])", r"\1", " ".join(repaired.split()))
    return repaired.strip(" ،"), removed


def guard_passes(support: Support, max_novel_rate: float) -> bool:
    """What the guard keeps: no unsupported number or novel rare word, and not too many novel words."""
    return support.supported and support.novel_rate <= max_novel_rate


def guard_problems(support: Support, field: str, max_novel_rate: float) -> list[Note]:
    """Why the guard replaces a text, empty when it passes: its unsupported facts, else too many novel words."""
    if guard_passes(support, max_novel_rate):
        return []
    return support.notes(field) or [Note(Reason.NOVEL_WORDS, field, {"percent": round(100 * support.novel_rate),
                                                                      "items": list(support.novel_words)})]


def check(output: str, source: str) -> Support:
    return SourceIndex(source).check(output)


def novel_spans(output: str, source: str) -> list[tuple[str, bool]]:
    """The output split into (piece, supported) runs: for showing readers which words to check. A piece is
    unsupported when SourceIndex.check finds a number or a content word in it that the source lacks."""
    index = SourceIndex(source)
    pieces: list[tuple[str, bool]] = []
    for piece in re.split(r"(\s+)", output):
        if not piece or piece.isspace():
            pieces.append((piece, True))
            continue
        support = index.check(piece)
        pieces.append((piece, not support.unsupported_numbers and not support.novel_words))
    return pieces


def summarize_rates(supports: Iterable[Support]) -> dict:
    """Corpus-level figures: mean rates and the share of outputs with any unsupported number / novel rare word."""
    supports = list(supports)
    n = len(supports) or 1
    return {
        "n": len(supports),
        "unsupported_numbers_per_output": sum(len(s.unsupported_numbers) for s in supports) / n,
        "outputs_with_unsupported_number": sum(bool(s.unsupported_numbers) for s in supports) / n,
        "novel_content_word_rate": sum(s.novel_rate for s in supports) / n,
        "novel_rare_words_per_output": sum(len(s.novel_rare_words) for s in supports) / n,
        "outputs_with_novel_rare_word": sum(bool(s.novel_rare_words) for s in supports) / n,
    }


def count_stems(texts: Iterable[str]) -> Counter:
    """Background counts: light stems of normalized tokens (digits left out)."""
    counts: Counter = Counter()
    for text in texts:
        counts.update(light_stem(t) for t in tokens(text) if not t.isdigit())
    return counts


def write_background(counts: Counter, path: Path = BACKGROUND_FILE, *, min_count: int = RARE_BELOW) -> Path:
    """Ship only the stems that are not rare: anything absent from the file is rare by definition."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as handle:
        for word, count in counts.most_common():
            if count < min_count:
                break
            handle.write(f"{word}\t{count}\n")
    background.cache_clear()
    return path
