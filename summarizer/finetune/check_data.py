"""Training pairs for the consistency checker, FactCC-style, from any corpus with titles.

Positives: the article's own title (written by its editors, often in words the article does not use), and its
lead sentence. Negatives look like the errors a headline model makes while using only the article's words (see
issue "Headlines an editor can trust"): roles swapped, a negation or an antonym flipped, a number or a place
changed, a claim stitched from two sentences, a dropped outcome, another story's title. Each pair carries its kind,
so a held-out table can be read by kind.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from ..check import CheckFormat, evidence
from ..extractive import article_sentences, shorten_headline, strip_dateline
from ..text import normalize, stopwords, tokens

# Verdict of each pair kind: a changed fact contradicts the article; a claim it never makes is unsupported.
KINDS = {
    "title": "supported", "lead": "supported",
    "role_swap": "contradicted", "negation": "contradicted", "antonym": "contradicted", "number": "contradicted",
    "place": "contradicted", "outcome": "contradicted",
    "stitched": "unsupported", "other_story": "unsupported",
    # Pairs people judged (benchmarks/judged): the model's real errors, by the guide's kinds.
    "judged_right": "supported", "judged_contradiction": "contradicted", "judged_role_swap": "contradicted",
    "judged_wrong_detail": "contradicted", "judged_dropped_outcome": "contradicted",
    "judged_misattribution": "contradicted", "judged_invented_event": "unsupported",
    "judged_other_story": "unsupported",
}

# Word pairs whose swap inverts a claim (either direction). Kept to forms news headlines use.
ANTONYMS = [("ارتفاع", "انخفاض"), ("يرتفع", "ينخفض"), ("ترتفع", "تنخفض"), ("ارتفع", "انخفض"), ("ارتفعت", "انخفضت"),
            ("زيادة", "تراجع"), ("يزيد", "يقلل"), ("فوز", "خسارة"), ("يفوز", "يخسر"), ("فاز", "خسر"), ("تفوز", "تخسر"),
            ("يرفض", "يقبل"), ("ترفض", "تقبل"), ("رفض", "قبل"), ("يوافق", "يعارض"), ("توافق", "تعارض"),
            ("يدعم", "يعارض"), ("تدعم", "تعارض"), ("السماح", "منع"), ("يسمح", "يمنع"), ("تسمح", "تمنع"),
            ("أكبر", "أصغر"), ("أعلى", "أدنى"), ("الأولى", "الأخيرة"), ("الأول", "الأخير"), ("قبل", "بعد"),
            ("الفتيات", "الفتيان"), ("النساء", "الرجال"), ("البنات", "الأولاد"), ("يعلن", "ينفي"), ("أعلن", "نفى"),
            ("تعلن", "تنفي"), ("إطلاق", "اعتقال"), ("مقتل", "نجاة"), ("يقتل", "ينقذ"), ("بدء", "انتهاء"),
            ("افتتاح", "إغلاق"), ("يفتح", "يغلق"), ("تفتح", "تغلق"), ("نجاح", "فشل"), ("ينجح", "يفشل"), ("تنجح", "تفشل"),
            ("أفضل", "أسوأ"), ("يحذر", "يطمئن"), ("الشمال", "الجنوب"), ("شمال", "جنوب"), ("شرق", "غرب"),
            ("يستقبل", "يودع"), ("يصل", "يغادر"), ("وصول", "مغادرة"), ("تعيين", "إقالة"), ("يعين", "يقيل"),
            ("الإفراج", "احتجاز"), ("انسحاب", "دخول"), ("ينسحب", "يدخل"), ("يشتري", "يبيع"), ("شراء", "بيع"),
            ("يربح", "يخسر"), ("أرباح", "خسائر"), ("تقدم", "تأخر"), ("سلام", "حرب"), ("يوقف", "يستأنف")]
_FLIP = {a: b for a, b in ANTONYMS} | {b: a for a, b in ANTONYMS}
NEGATIONS = ("لا", "لم", "لن", "ليس", "غير")
# Result verbs that a vaguer headline replaces ("City faces Wigan" for "City lost to Wigan").
OUTCOMES = {"يفوز": "يواجه", "فاز": "واجه", "يخسر": "يواجه", "خسر": "واجه", "يهزم": "يواجه", "هزم": "واجه",
            "تفوز": "تواجه", "تخسر": "تواجه", "فازت": "واجهت", "خسرت": "واجهت", "تعادل": "واجه", "يقرر": "يناقش",
            "قرر": "ناقش", "تقرر": "تناقش", "يوافق": "يناقش", "وافق": "ناقش", "يقر": "يناقش", "أقر": "ناقش"}
PLACES = ("مصر سوريا العراق لبنان الأردن السعودية الإمارات قطر الكويت البحرين عمان اليمن ليبيا تونس الجزائر المغرب "
          "السودان فلسطين إسرائيل تركيا إيران روسيا الصين اليابان الهند باكستان أفغانستان فرنسا ألمانيا بريطانيا "
          "إيطاليا إسبانيا أمريكا واشنطن موسكو باريس لندن برلين بكين طهران أنقرة القاهرة دمشق بغداد بيروت الرياض "
          "دبي الدوحة عمان غزة القدس حلب إدلب الموصل").split()
_PLACE_SET = frozenset(PLACES)
_DIGITS = re.compile(r"\d+")


@dataclass
class Pair:
    id: str
    evidence: str
    claim: str
    kind: str

    @property
    def verdict(self) -> str:
        return KINDS[self.kind]


def _words(text: str) -> list[str]:
    return text.split()


def _content_positions(words: list[str]) -> list[int]:
    stops = stopwords()
    return [i for i, w in enumerate(words) if len(tokens(w)) == 1 and normalize(w) not in stops and len(w) >= 3
            and not _DIGITS.search(w)]


def _verb_position(words: list[str]) -> int | None:
    """A present-tense verb (يفعل/تفعل), the usual headline predicate; else None."""
    for i, w in enumerate(words):
        if re.fullmatch(r"[يت][\u0621-\u064a]{2,}", w) and normalize(w) not in stopwords():
            return i
    return None


def role_swap(claim: str, rng: random.Random, support: str) -> str | None:
    """Swap a content word before the verb with one after it (the agent and the patient), both from the article:
    "زينة تنفي اعتداءها على أسرة" -> "أسرة تنفي اعتداءها على زينة"."""
    words = _words(claim)
    verb = _verb_position(words)
    source = set(tokens(support))
    spots = [i for i in _content_positions(words) if tokens(words[i])[0] in source]
    if verb is None:
        before, after = spots[:1], spots[2:]
    else:
        before = [i for i in spots if i < verb]
        after = [i for i in spots if i > verb + 0]
    if not before or not after:
        return None
    i, j = rng.choice(before), rng.choice(after)
    if normalize(words[i]) == normalize(words[j]):
        return None
    words[i], words[j] = words[j], words[i]
    return " ".join(words)


def negation(claim: str, rng: random.Random, support: str) -> str | None:
    words = _words(claim)
    negated = [i for i, w in enumerate(words) if w in NEGATIONS]
    if negated:  # drop an existing negation: the claim now asserts the opposite
        del words[rng.choice(negated)]
        return " ".join(words)
    verbs = [i for i, w in enumerate(words) if re.fullmatch(r"[يت][\u0621-\u064a]{2,}", w)]
    if verbs:
        i = verbs[0]
        words.insert(i, rng.choice(("لا", "لن")))
        return " ".join(words)
    return None


def antonym(claim: str, rng: random.Random, support: str) -> str | None:
    words = _words(claim)
    spots = []
    for i, w in enumerate(words):
        for prefix in ("", "و", "ب", "ل", "ف"):
            core = w[len(prefix):] if w.startswith(prefix) else None
            if core and core in _FLIP:
                spots.append((i, prefix, core))
                break
    if not spots:
        return None
    i, prefix, core = rng.choice(spots)
    words[i] = prefix + _FLIP[core]
    return " ".join(words)


def number(claim: str, rng: random.Random, support: str) -> str | None:
    found = list(_DIGITS.finditer(claim))
    if not found:
        return None
    m = rng.choice(found)
    value = int(m.group(0))
    new = value + rng.choice((-3, -2, -1, 1, 2, 5, 10)) if value < 100 else int(value * rng.choice((0.5, 0.8, 1.3, 2)))
    if new == value or new < 0:
        new = value + 7
    return claim[: m.start()] + str(new) + claim[m.end():]


def place(claim: str, rng: random.Random, support: str) -> str | None:
    words = _words(claim)
    spots = [(i, p) for i, w in enumerate(words) for p in ("", "و", "ب", "ل", "في")
             if w.startswith(p) and w[len(p):] in _PLACE_SET][:4]
    if not spots:
        return None
    i, prefix = rng.choice(spots)
    current = words[i][len(prefix):]
    absent = [p for p in PLACES if p != current and p not in support]
    words[i] = prefix + rng.choice(absent)
    return " ".join(words)


def outcome(claim: str, rng: random.Random, support: str) -> str | None:
    words = _words(claim)
    spots = [i for i, w in enumerate(words) if w in OUTCOMES]
    if not spots:
        return None
    i = rng.choice(spots)
    words[i] = OUTCOMES[words[i]]
    return " ".join(words)


def stitched(sentences: list[str], rng: random.Random) -> str | None:
    """The subject of one sentence and a predicate of another: every word from the article, the claim from none."""
    long = [strip_dateline(s).split() for s in sentences[:12] if 8 <= len(s.split()) <= 45]
    if len(long) < 2:
        return None
    a, b = rng.sample(long, 2)
    verbs = [i for i, w in enumerate(b[1:-3], 1) if re.fullmatch(r"[يت][\u0621-\u064a]{2,}", w)]
    if not verbs:
        return None
    start = rng.choice(verbs)
    head = a[: rng.randint(1, 3)]
    return " ".join(head + b[start : start + rng.randint(4, 8)]).rstrip(".،,")


CLAIM_EDITS = {"role_swap": role_swap, "negation": negation, "antonym": antonym, "number": number, "place": place,
               "outcome": outcome}


def pairs_for(article, title: str, others: list[str], rng: random.Random, fmt: CheckFormat) -> list[Pair]:
    """One positive (title or lead) and one negative of a kind the title allows, with their evidence."""
    sentences = article_sentences(article, limit=60)
    if len(sentences) < 2 or not title:
        return []
    support = article.text

    def pair(claim: str, kind: str) -> Pair:
        chosen = evidence(sentences, claim, fmt.evidence_sentences)
        return Pair(article.id, " ".join(sentences[i] for i in chosen), claim, kind)

    out = []
    if rng.random() < 0.8:
        out.append(pair(title, "title"))
    else:
        out.append(pair(shorten_headline(strip_dateline(sentences[0])), "lead"))
    # Edits of the title first (they are the errors in question), the specific ones before the always-possible
    # role swap; stitched claims and other stories fill in.
    specific = ["antonym", "number", "place", "outcome", "negation"]
    rng.shuffle(specific)
    roll = rng.random()
    negative = None
    if roll < 0.6:
        for kind in specific + ["role_swap"] if rng.random() < 0.6 else ["role_swap"] + specific:
            edited = CLAIM_EDITS[kind](title, rng, support)
            if edited and normalize(edited) != normalize(title):
                negative = pair(edited, kind)
                break
    if negative is None and roll < 0.8:
        claim = stitched(sentences, rng)
        if claim:
            negative = pair(claim, "stitched")
    if negative is None and others:
        negative = pair(rng.choice(others), "other_story")
    if negative is not None:
        out.append(negative)
    return out


def build_pairs(articles, *, seed: int = 13, fmt: CheckFormat | None = None):
    """Pairs for every article that has a title; another story's title comes from a recent article of the same
    source (the closest kind of confusion: the same outlet, the same period)."""
    fmt = fmt or CheckFormat()
    rng = random.Random(seed)
    recent: dict[str, list[str]] = {}
    for article in articles:
        title = " ".join((article.title or "").split())
        pool = recent.setdefault(article.source or "", [])
        yield from pairs_for(article, title, [t for t in pool if t != title], rng, fmt)
        if title:
            pool.append(title)
            del pool[:-50]


def judged_pairs(directory, fmt: CheckFormat | None = None) -> list[Pair]:
    """Pairs from a judged set (DIR/labels.jsonl + DIR/articles.jsonl): `right` headlines are supported, `wrong`
    ones contradicted or unsupported by kind; `unusable` ones (true but unprintable) are not a question of support
    and are left out."""
    import json
    from pathlib import Path

    from ..check import text_sentences

    fmt = fmt or CheckFormat()
    directory = Path(directory)
    texts = {}
    for line in (directory / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        texts[item["id"]] = text_sentences(item["text"])
    out = []
    for line in (directory / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        kind = "judged_right" if row["label"] == "right" else f"judged_{row['kind']}" if row["label"] == "wrong" \
            else None
        if kind not in KINDS:
            continue
        sentences = texts[row["id"]]
        chosen = evidence(sentences, row["headline"], fmt.evidence_sentences)
        out.append(Pair(row["id"], " ".join(sentences[i] for i in chosen), row["headline"], kind))
    return out
