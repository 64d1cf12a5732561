"""Extractive summarization with no weights: Lead-k and a TextRank-style centrality ranker.

This is the fallback engine and the baseline every model must beat.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from .article import Article
from .text import content_tokens, split_sentences, word_count

HEADLINE_MAX_WORDS = 14

# A news lead often opens with a dateline: "دبي، الإمارات العربية المتحدة (CNN)— ", "الرياض - واس:".
_DATELINE = re.compile(r"^[^.!؟?\n]{0,60}?\((?:[A-Za-z .]{2,20}|[\u0600-\u06ff ]{2,20})\)\s*[-–—:]+\s*")
# Words a headline must not end on: prepositions, conjunctions, relative pronouns.
_DANGLING = frozenset(
    ("في من على إلى الى عن مع و أو او ثم بين بعد قبل خلال حول الذي التي الذين أن إن ان لا ما قد كما حتى منذ ضد لدى "
     "عند بسبب نحو عبر وسط ضمن أمام خلف تحت فوق دون بعض كل غير عدة وفق جراء إثر").split()
)


def strip_dateline(sentence: str) -> str:
    return _DATELINE.sub("", sentence, count=1)


def article_sentences(article: Article, *, skip_lead: bool = False) -> list[str]:
    paragraphs = article.body if skip_lead else article.paragraphs
    return [s for p in paragraphs for s in split_sentences(p)]


def lead_summary(article: Article, k: int = 1) -> str:
    """The first k sentences (Lead-k)."""
    return " ".join(article_sentences(article)[:k])


def _tfidf_vectors(sentences: list[list[str]]) -> list[dict[str, float]]:
    df = Counter(t for s in sentences for t in set(s))
    n = len(sentences)
    vectors = []
    for toks in sentences:
        tf = Counter(toks)
        vec = {t: (1 + math.log(c)) * math.log(1 + n / df[t]) for t, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors.append({t: v / norm for t, v in vec.items()})
    return vectors


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def rank_sentences(sentences: list[str], *, position_weight: float = 0.5, damping: float = 0.85) -> list[float]:
    """TextRank over TF-IDF cosine similarity of lightly stemmed content tokens, with a lead-position prior.

    News is front-loaded, so the PageRank teleport distribution favours early sentences (1/(1+i) decay mixed
    with uniform by `position_weight`).
    """
    n = len(sentences)
    if n == 0:
        return []
    vectors = _tfidf_vectors([content_tokens(s) for s in sentences])
    sim = [[_cosine(vectors[i], vectors[j]) if i != j else 0.0 for j in range(n)] for i in range(n)]
    out_weight = [sum(row) or 1.0 for row in sim]
    prior = [(1 - position_weight) / n + position_weight * (1 / (1 + i)) for i in range(n)]
    total = sum(prior)
    prior = [p / total for p in prior]
    # Sentences too short to stand alone ("وأضاف:") get no prior mass.
    prior = [p if word_count(s) >= 5 else 0.0 for p, s in zip(prior, sentences)]
    total = sum(prior) or 1.0
    prior = [p / total for p in prior]
    scores = list(prior)
    for _ in range(50):
        new = [
            (1 - damping) * prior[i] + damping * sum(sim[j][i] / out_weight[j] * scores[j] for j in range(n))
            for i in range(n)
        ]
        if max(abs(a - b) for a, b in zip(new, scores)) < 1e-8:
            scores = new
            break
        scores = new
    return scores


def textrank_summary(article: Article, *, sentences: int = 3, redundancy: float = 0.6) -> str:
    """The top-ranked sentences, skipping near-duplicates of ones already chosen, in original order."""
    candidates = article_sentences(article)
    if not candidates:
        return ""
    scores = rank_sentences(candidates)
    vectors = _tfidf_vectors([content_tokens(s) for s in candidates])
    chosen: list[int] = []
    for i in sorted(range(len(candidates)), key=lambda i: -scores[i]):
        if len(chosen) >= sentences:
            break
        if word_count(candidates[i]) < 5 and len(candidates) > sentences:
            continue
        if any(_cosine(vectors[i], vectors[j]) > redundancy for j in chosen):
            continue
        chosen.append(i)
    return " ".join(candidates[i] for i in sorted(chosen))


_REPORTING = re.compile(
    r"^و?(?:قال|قالت|أعلن|أعلنت|اعلن|أكد|أكدت|اكد|ذكر|ذكرت|أفاد|أفادت|كشف|كشفت|أوضح|أوضحت|صرح|صرحت)\s+"
    r"(?P<speaker>[^.!؟?]{3,80}?)\s*،?\s+(?:إن|أن|ان)(?:ه|ها|هم)?\s+(?P<statement>.+)$"
)
# Words that date a speaker phrase ("السفارة الروسية في لندن اليوم الأربعاء") and have no place in a headline.
_TIME_WORDS = re.compile(r"\s*،?\s*\b(?:اليوم|أمس|مساء|صباح|الليلة|السبت|الأحد|الاثنين|الإثنين|الثلاثاء|الأربعاء|الخميس|الجمعة)\b")
_APPOSITIVE = re.compile(r"\s*،\s*([^،.:؛]{1,40})\s*،\s*")


def _drop_short_appositives(sentence: str) -> str:
    """"السفير الأميركي، ديفيد فريدمان، غضب" -> "السفير الأميركي غضب": asides of at most four words go."""
    return _APPOSITIVE.sub(lambda m: " " if len(m.group(1).split()) <= 4 else m.group(0), sentence)


def shorten_headline(sentence: str, max_words: int = HEADLINE_MAX_WORDS) -> str:
    """Cut a sentence into a headline: no dateline or short asides, "speaker: statement" for reported speech,
    at most `max_words` words, ending at a clause boundary when one is near, and on a content word."""
    sentence = strip_dateline(sentence).strip().rstrip(".!؟?؛").strip()
    prefix = ""
    reported = _REPORTING.match(sentence)
    if reported:
        speaker = _TIME_WORDS.sub("", reported.group("speaker")).strip(" ،,")
        if "،" in speaker and len(speaker.rsplit("،", 1)[1].split()) <= 3:
            speaker = speaker.rsplit("،", 1)[1].strip()  # "نجمة تليفزيون الواقع، كيم كارداشيان" -> the name
        if 1 <= len(speaker.split()) <= 6:
            prefix, sentence = speaker + ": ", reported.group("statement")
    sentence = _drop_short_appositives(sentence)
    budget = max(4, max_words - len(prefix.split()))
    words = sentence.split()
    if len(words) > budget:
        # Prefer the last clause boundary after at least 60% of the budget; else a hard cut.
        cut = budget
        for i in range(budget, int(budget * 0.6) - 1, -1):
            if re.search(r"[،,:؛]$", words[i - 1]):
                cut = i
                break
        words = words[:cut]
    while len(words) > 3 and words[-1].strip("\"'«»،,:") in _DANGLING:
        words.pop()
    text = " ".join(words).strip(" \"'«»،,:")
    text = re.sub(r"\s*،\s*", "، ", prefix + text).strip()
    if text.count('"') % 2:  # a quotation cut in half reads as an error
        text = text.replace('"', "")
    return text


def headline_candidate(article: Article) -> str:
    """The best-ranked sentence among the first few, shortened at a clause boundary to ≤ 14 words."""
    candidates = article_sentences(article)
    if not candidates:
        return ""
    scores = rank_sentences(candidates)
    window = range(min(len(candidates), 5))  # headlines come from the top of a news story
    best = max(window, key=lambda i: scores[i])
    return shorten_headline(candidates[best])
