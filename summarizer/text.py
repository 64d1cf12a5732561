"""Arabic text primitives: normalization for matching, tokens, sentences, paragraphs.

Normalization here is for *matching and scoring only*. Text shown to users keeps its original spelling;
callers normalize a copy.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Harakat, tanween, shadda, sukun, superscript alef and Quranic marks: they change no word's identity in news text.
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u00ad]")
_CHAR_MAP = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Eastern Arabic-Indic (Persian) digits
    }
)

ARABIC_LETTER = re.compile("[\u0621-\u063a\u0641-\u064a\u0671-\u06d3]")
# A token is a run of Arabic letters, Latin letters or digits (after normalization).
_TOKEN = re.compile("[\u0621-\u063a\u0641-\u064a\u0671-\u06d3a-z0-9]+")


def clean_invisible(text: str) -> str:
    """Drop zero-width and bidi control characters and turn exotic spaces into plain ones."""
    text = _INVISIBLE.sub("", text)
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " ")


def normalize(text: str) -> str:
    """Matching form: NFKC, no diacritics or tatweel, unified alef/ya/ta marbuta/hamza seats, ASCII digits."""
    text = unicodedata.normalize("NFKC", clean_invisible(text))
    text = _DIACRITICS.sub("", text).replace(_TATWEEL, "")
    return text.translate(_CHAR_MAP).lower()


def tokens(text: str) -> list[str]:
    """Word tokens of the normalized text: Arabic letters, Latin letters and digits; punctuation dropped."""
    return _TOKEN.findall(normalize(text))


def count_arabic_letters(text: str) -> int:
    return len(ARABIC_LETTER.findall(text))


def has_arabic(text: str, minimum: int = 10) -> bool:
    return count_arabic_letters(text) >= minimum


# --- light stemming ------------------------------------------------------------------------------------------
_PREFIXES = ("وبال", "وكال", "فبال", "وال", "بال", "كال", "فال", "لل", "ال")
_SUFFIXES = ("هما", "كما", "تين", "ات", "ون", "ين", "ها", "هم", "هن", "كم", "نا", "ية", "يه", "ه", "ي")


def light_stem(token: str) -> str:
    """Strip one article/conjunction prefix and one common suffix, keeping at least three letters.

    Deliberately light: news vocabulary suffers from the aggressive root extraction of ISRI-style stemmers.
    """
    for prefix in _PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            token = token[len(prefix) :]
            break
    else:
        if token[:1] in ("و", "ف") and len(token) >= 5:
            token = token[1:]
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            return token[: -len(suffix)]
    return token


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    words = """
    في من على الى إلى عن مع ان أن إن او أو ثم كما لكن بل حتى اذا إذا لم لن لا ما ماذا هل قد كان كانت يكون تكون
    هذا هذه ذلك تلك هؤلاء الذي التي الذين اللذين اللتين اللواتي هو هي هم هن انا نحن انت انتم هما
    و ف ب ل ك عند عندما بين بعد قبل خلال حول ضد دون منذ غير كل بعض أي اي ايضا أيضا فقط جدا حيث اما أما
    وقال قال قالت وقالت اليوم امس أمس الى وفي وهو وهي ومن وعلى كذلك لدى لها له لهم به بها فيه فيها منه منها عليه
    عليها انه أنه انها أنها التى الي وان وأن فى يا اذ إذ ولا وما تم يتم وكان وكانت هناك هنا ضمن نحو وذلك
    """.split()
    return frozenset(normalize(w) for w in words)


def content_tokens(text: str, *, stem: bool = True) -> list[str]:
    """Tokens without stopwords (and lightly stemmed), for similarity and centrality."""
    stops = stopwords()
    out = [t for t in tokens(text) if t not in stops and len(t) > 1]
    return [light_stem(t) for t in out] if stem else out


# --- sentences and paragraphs --------------------------------------------------------------------------------
# Abbreviations that end with a dot but do not end a sentence (matched on the token before the dot).
_ABBREVIATIONS = frozenset(
    "د م أ ا ج ص ق ه ت ش ب mr mrs ms dr prof st no vs etc inc ltd co jr sr u.s u.k e.g i.e".split()
)
_CLOSERS = "\"'»”’)]}"
# Sentence end: one of . ! ? ؟ ؛ (or a run of them), then optional closing quotes/brackets, then space or end.
_END = re.compile(r"([.!?؟؛]+)([" + re.escape(_CLOSERS) + r"]*)(?=\s|$)")


def _is_abbreviation(before: str) -> bool:
    word = before.rsplit(None, 1)[-1] if before.strip() else ""
    word = word.lstrip("(\"'«")
    if not word:
        return False
    if word.lower() in _ABBREVIATIONS:
        return True
    # Initials such as "U.S" or a single letter ("أ." in names, "ج." for a part number).
    return len(word) == 1 or bool(re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word))


def split_sentences(text: str) -> list[str]:
    """Split on . ! ? ؟ ؛ and line breaks; never on the Arabic comma, decimals (3.5) or abbreviations.

    Exactly two dots ("..") are a clause pause in Arabic news style, not an ending.
    """
    sentences: list[str] = []
    for line in text.splitlines():
        start = 0
        for match in _END.finditer(line):
            punct = match.group(1)
            if punct == ".." or (punct == "." and _is_abbreviation(line[start : match.start()])):
                continue
            piece = line[start : match.end()].strip()
            if piece:
                sentences.append(piece)
            start = match.end()
        rest = line[start:].strip()
        if rest:
            sentences.append(rest)
    return [s for s in sentences if tokens(s)]


def split_paragraphs(text: str) -> list[str]:
    """One paragraph per non-empty line, whitespace collapsed (scraped pages put a paragraph on each line)."""
    return [p for p in (collapse_spaces(line) for line in text.splitlines()) if p]


def collapse_spaces(text: str) -> str:
    return re.sub(r"[ \t\f\v]+", " ", text).strip()


def word_count(text: str) -> int:
    return len(text.split())
