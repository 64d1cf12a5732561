"""Extractive summarization with no weights: Lead-k and a TextRank-style centrality ranker.

This is the fallback engine and the baseline every model must beat.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from .article import Article
from .shape import DANGLING, SUBORDINATORS, Shape, problems, tidy
from .text import content_tokens, normalize, split_sentences, word_count

HEADLINE_MAX_WORDS = 18
"""Most words of a headline (GenerationSettings.headline_max_words defaults to it). People judged the article's own
sentence cut at 18 words printable more often than at 14 (better for 24 of 120 dev articles, worse for 3: at 14 the
cut often fell before what happened; docs/measurements.md, Round 2); a model headline is rarely longer."""
HEADLINE_MAX_CHARS = 180
"""A headline's most characters: 18 long Arabic words fit; one 200,000-character "word" does not."""

# A news lead often opens with a dateline: "دبي، الإمارات العربية المتحدة (CNN)— ", "الرياض - واس:".
_DATELINE = re.compile(r"^[^.!؟?\n]{0,60}?\((?:[A-Za-z .]{2,20}|[\u0600-\u06ff ]{2,20})\)\s*[-–—:]+\s*")
def strip_dateline(sentence: str) -> str:
    return _DATELINE.sub("", sentence, count=1)


def article_sentences(article: Article, *, skip_lead: bool = False, limit: int | None = None) -> list[str]:
    """The article's sentences in order (the first `limit` only: later ones are never split)."""
    return sentences_with_paragraphs(article.body if skip_lead else article.paragraphs, limit=limit)[0]


def sentences_with_paragraphs(paragraphs: list[str], *, limit: int | None = None) -> tuple[list[str], list[int]]:
    """The sentences of `paragraphs` in order, and the index of the paragraph each comes from."""
    sentences: list[str] = []
    paragraph_index: list[int] = []
    for p, paragraph in enumerate(paragraphs):
        for sentence in split_sentences(paragraph):
            sentences.append(sentence)
            paragraph_index.append(p)
        if limit is not None and len(sentences) >= limit:
            return sentences[:limit], paragraph_index[:limit]
    return sentences, paragraph_index


def lead_summary(article: Article, k: int = 1) -> str:
    """The first k sentences (Lead-k)."""
    return " ".join(article_sentences(article, limit=k))


MAX_RANKED = 300
"""Sentences ranked per article: news is front-loaded, and ranking is quadratic in the number of sentences, so a
hostile 50,000-sentence page costs no more than a long article."""


def _tfidf_matrix(sentences: list[list[str]]):
    """Rows: L2-normalized TF-IDF vectors of the sentences (sublinear tf, smoothed idf)."""
    import numpy as np

    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for i, toks in enumerate(sentences):
        for t, c in Counter(toks).items():
            rows.append(i)
            cols.append(vocab.setdefault(t, len(vocab)))
            vals.append(1 + math.log(c))
    matrix = np.zeros((len(sentences), max(1, len(vocab))))
    if vals:
        matrix[rows, cols] = vals
        df = (matrix > 0).sum(axis=0)
        matrix *= np.log(1 + len(sentences) / np.maximum(df, 1))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def rank_sentences(sentences: list[str], *, position_weight: float = 0.5, damping: float = 0.85) -> list[float]:
    """TextRank over TF-IDF cosine similarity of lightly stemmed content tokens, with a lead-position prior.

    News is front-loaded, so the PageRank teleport distribution favours early sentences (1/(1+i) decay mixed
    with uniform by `position_weight`). Vectorized: the power iteration is a matrix product.
    """
    return _rank(sentences, _tfidf_matrix([content_tokens(s) for s in sentences]), position_weight, damping)


def _rank(sentences: list[str], vectors, position_weight: float = 0.5, damping: float = 0.85) -> list[float]:
    import numpy as np

    n = len(sentences)
    if n == 0:
        return []
    sim = vectors @ vectors.T
    np.fill_diagonal(sim, 0.0)
    out_weight = sim.sum(axis=1)
    out_weight[out_weight == 0] = 1.0
    transition = sim / out_weight[:, None]  # row j: where sentence j sends its score
    prior = (1 - position_weight) / n + position_weight / (1 + np.arange(n))
    prior /= prior.sum()
    # Sentences too short to stand alone ("وأضاف:") get no prior mass.
    prior *= np.array([word_count(s) >= 5 for s in sentences], dtype=float)
    prior /= prior.sum() or 1.0
    scores = prior.copy()
    for _ in range(50):
        new = (1 - damping) * prior + damping * (transition.T @ scores)
        if np.abs(new - scores).max() < 1e-8:
            scores = new
            break
        scores = new
    return scores.tolist()


# --- a learned sentence scorer ----------------------------------------------------------------------------------
# TextRank alone does not know what a news lead looks like: on the lead protocol it only ties Lead-1. A linear
# model over a few per-sentence features, fitted on the training split to predict each sentence's ROUGE against
# the article's own lead paragraph (`python -m summarizer.finetune.extractive`), ranks the sentence that restates
# the story.
# The weights ship in the package; without them the ranker falls back to TextRank.
SCORER_PATH = Path(__file__).parent / "data" / "sentence_scorer.json"
FEATURES = ("first", "second", "third", "fourth", "log_position", "relative_position", "textrank", "textrank_top",
            "centroid", "words", "short", "long", "paragraph_start", "log_paragraph", "digits", "quote",
            "continuation", "reported_speech", "ends_colon", "dateline", "early_textrank", "like_first",
            "like_next", "like_opening")
_CONTINUATION = re.compile(r"^(?:و|ف)(?:قال|قالت|أضاف|أضافت|اضاف|تابع|تابعت|أشار|أشارت|اشار|أوضح|أوضحت|يقول|تقول|"
                           r"أكد|أكدت|لفت|لفتت|بين|بينت|ختم)")
_REPORTED = re.compile(r"^و?(?:قال|قالت|أعلن|أعلنت|أكد|أكدت|ذكر|ذكرت|أفاد|أفادت|كشف|كشفت)\b")


def sentence_features(sentences: list[str], paragraph_index: list[int], vectors, textrank: list[float]):
    """One row per sentence, columns in FEATURES order: where it stands, how central it is, what it looks like."""
    import numpy as np

    n = len(sentences)
    rows = np.zeros((n, len(FEATURES)))
    if n == 0:
        return rows
    centroid = vectors.sum(axis=0)
    norm = np.linalg.norm(centroid)
    centroid_sim = vectors @ (centroid / norm) if norm else np.zeros(n)
    tr = np.asarray(textrank) * n  # 1.0 = the uniform share
    top = int(np.argmax(tr))
    similarity = vectors @ vectors.T
    opening = similarity[:, : min(n, 5)].sum(axis=1) - np.where(np.arange(n) < 5, 1.0, 0.0)
    for i, sentence in enumerate(sentences):
        words = word_count(sentence)
        first_word = sentence.split()[0] if sentence.split() else ""
        rows[i] = (i == 0, i == 1, i == 2, i == 3, math.log1p(i), i / n, min(tr[i], 5.0), i == top,
                   centroid_sim[i], min(words, 90) / 30, words < 8, words > 50,
                   i == 0 or paragraph_index[i] != paragraph_index[i - 1], math.log1p(paragraph_index[i]),
                   bool(re.search(r"[0-9\u0660-\u0669]", sentence)), bool(re.search("[\"«»“”]", sentence)),
                   bool(_CONTINUATION.match(first_word)), bool(_REPORTED.match(sentence)),
                   sentence.rstrip().endswith(":"), bool(_DATELINE.match(sentence)), min(tr[i], 5.0) / (1 + i),
                   similarity[i, 0] if i else 1.0, similarity[i, i + 1] if i + 1 < n else 0.0,
                   opening[i] / min(n, 5))
    return rows


@dataclass(frozen=True)
class SentenceScorer:
    """A linear scorer over standardized FEATURES: score = ((x - mean) / scale) @ weights."""

    weights: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    about: str = ""

    def score(self, features) -> list[float]:
        import numpy as np

        x = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        return (x @ np.asarray(self.weights)).tolist()

    def to_json(self) -> str:
        return json.dumps({"features": FEATURES, "weights": self.weights, "mean": self.mean, "scale": self.scale,
                           "about": self.about}, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "SentenceScorer":
        data = json.loads(text)
        if tuple(data.get("features", ())) != FEATURES:
            raise ValueError("sentence scorer: its features differ from this version's; refit it "
                             "(python -m summarizer.finetune.extractive)")
        return cls(tuple(data["weights"]), tuple(data["mean"]), tuple(data["scale"]), data.get("about", ""))


@lru_cache(maxsize=1)
def default_scorer() -> SentenceScorer | None:
    """The shipped scorer, or None (TextRank ranking) when the package has none."""
    try:
        return SentenceScorer.from_json(SCORER_PATH.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


@dataclass
class RankedArticle:
    """An article's first MAX_RANKED sentences, their TF-IDF vectors and scores (the learned scorer's, else
    TextRank's): computed once, used for both the headline and the summary."""

    sentences: list[str]
    vectors: object
    scores: list[float]
    textrank: list[float] | None = None
    """TextRank's scores: the headline picks by them (the learned scorer is fitted to leads, and scored lower
    than TextRank against titles on the dev split: docs/measurements.md)."""


def featurize_article(article: Article, *, max_sentences: int = MAX_RANKED):
    """(sentences, TF-IDF vectors, TextRank scores, feature rows): what ranking and fitting both start from."""
    sentences, paragraph_index = sentences_with_paragraphs(article.paragraphs, limit=max_sentences)
    vectors = _tfidf_matrix([content_tokens(s) for s in sentences])
    textrank = _rank(sentences, vectors)
    return sentences, vectors, textrank, sentence_features(sentences, paragraph_index, vectors, textrank)


def rank_article(article: Article, *, max_sentences: int = MAX_RANKED,
                 scorer: SentenceScorer | None | str = "default") -> RankedArticle:
    """Rank with `scorer` ("default": the shipped one; None: TextRank only)."""
    sentences, vectors, textrank, features = featurize_article(article, max_sentences=max_sentences)
    scorer = default_scorer() if scorer == "default" else scorer
    scores = scorer.score(features) if scorer is not None and sentences else textrank
    return RankedArticle(sentences, vectors, scores, textrank)


def choose_sentences(ranked: RankedArticle, *, most: int, least: int = 1, min_words: int = 0,
                     redundancy: float = 0.6) -> list[int]:
    """Indices of the top-ranked sentences, skipping near-duplicates of ones already chosen, in original order: at
    most `most`, and (when `min_words` is set) no more once `least` of them hold `min_words` words."""
    candidates, scores, vectors = ranked.sentences, ranked.scores, ranked.vectors
    chosen: list[int] = []
    words = 0
    # Fragments ("وأضاف:") are passed over when there is choice, but an article of only short sentences
    # ("ارتفع الذهب. هبط النفط.") is summarized from them rather than left without a summary.
    skip_short = len(candidates) > most and any(word_count(s) >= 5 for s in candidates)
    for i in sorted(range(len(candidates)), key=lambda i: -scores[i]):
        if len(chosen) >= most or (min_words and len(chosen) >= least and words >= min_words):
            break
        if skip_short and word_count(candidates[i]) < 5:
            continue
        if any(float(vectors[i] @ vectors[j]) > redundancy for j in chosen):
            continue
        chosen.append(i)
        words += word_count(candidates[i])
    return sorted(chosen)


def summary_from_ranked(ranked: RankedArticle, *, sentences: int = 3, redundancy: float = 0.6,
                        min_words: int = 0) -> str:
    """The top-ranked sentences, skipping near-duplicates of ones already chosen, in original order: at most
    `sentences`, and (when `min_words` is set) no more once they hold `min_words` words."""
    chosen = choose_sentences(ranked, most=sentences, min_words=min_words, redundancy=redundancy)
    return " ".join(ranked.sentences[i] for i in chosen)


SHORT_MIN_WORDS = 50
"""A short summary (summary_length="short") is 2 or 3 sentences: the third only while the first two hold fewer
words than this (a news paragraph)."""
BULLETS_PER_SENTENCES = 4
"""A bullets summary has one key fact per this many sentences of the article, at least 3 and at most 5."""
DISTINCT = 0.3
"""Short and bullets summaries skip a sentence whose TF-IDF cosine with a chosen one is over this (0.6 for the
one-sentence summary, which the evaluations measured): each sentence should add a fact. On the seed pages 0.6 let
three restatements of one figure into a France 24 article's five bullets; 0.3 keeps one."""
BULLET = "• "
"""What starts each key fact's line in a bullets summary's `summary` (its `summary_points` hold the bare facts)."""


def summary_by_length(ranked: RankedArticle, length: str, *, sentences: int = 2, min_words: int = 0
                      ) -> tuple[list[int], list[str]]:
    """The chosen sentences' indices, and for bullets the key facts (datelines dropped), for a summary_length:
    sentence (at most `sentences`, see summary_from_ranked), short (a paragraph of 2-3 sentences) or bullets (3-5
    sentences); short and bullets skip near-duplicates more strictly (DISTINCT)."""
    if length == "short":
        return choose_sentences(ranked, most=3, least=2, min_words=SHORT_MIN_WORDS, redundancy=DISTINCT), []
    if length == "bullets":
        count = min(5, max(3, len(ranked.sentences) // BULLETS_PER_SENTENCES))
        chosen = choose_sentences(ranked, most=count, redundancy=DISTINCT)
        return chosen, [strip_dateline(ranked.sentences[i]) for i in chosen]
    return choose_sentences(ranked, most=sentences, min_words=min_words), []


HEADLINE_WINDOW = 5
"""Headlines come from the top of a news story: its first this many sentences."""


_CONTINUES = re.compile(r"^[وف][^\s]{3,}")


def headline_candidates(ranked: RankedArticle, count: int = 1, max_words: int = HEADLINE_MAX_WORDS,
                        cut: Callable[[list["HeadlineDraft"]], list[int]] | None = None) -> list[tuple[int, str]]:
    """Up to `count` distinct headlines as (sentence index, text), best first: the lead, then the early sentences
    by TextRank score (RankedArticle.textrank), each cut to at most `max_words` words (where: `cut`, which returns a
    word count per draft, e.g. a model's choice (summarizer.cut); by default the rules of shorten_headline); after
    the first, no fragment of under 5 words. Those that read as a headline come before those that do not
    (summarizer.shape: one that opens mid-story, "وقال ...", is offered last)."""
    window = range(min(len(ranked.sentences), HEADLINE_WINDOW))
    scores = ranked.textrank if ranked.textrank is not None else ranked.scores
    order = sorted(window, key=lambda i: -scores[i])  # stable: the earlier of equal scores first
    order = order[:1] + [i for i in order[1:] if word_count(ranked.sentences[i]) >= 5]
    drafts = [headline_draft(ranked.sentences[i], max_words) for i in order]
    lengths = cut(drafts) if cut is not None else [d.rule_cut() for d in drafts]
    out: list[tuple[int, str]] = []
    seen: set[str] = set()
    for i, draft, k in zip(order, drafts, lengths):
        text = draft.text(k)
        key = " ".join(normalize(text).split())
        if text and key not in seen:
            seen.add(key)
            out.append((i, text))
    # Stable: TextRank's order within each group. The lead comes first when it reads as a headline: on whole
    # articles (the title protocol, what a user pastes) the lead sentence is the best headline source by ROUGE-L
    # (21.4 against TextRank's pick 20.0, docs/measurements.md). A later sentence that opens on و/ف ("ويستعد
    # المنتخب ...") continues the story; people judged most such headlines unusable, so it comes last.
    out.sort(key=lambda item: (bool(problems(item[1], max_words=max_words)),
                               item[0] > 0 and bool(_CONTINUES.match(item[1])), item[0] != 0))
    return out[:count]


def headline_from_ranked(ranked: RankedArticle, max_words: int = HEADLINE_MAX_WORDS) -> str:
    """The best-ranked sentence among the first few, shortened at a clause boundary to ≤ `max_words` words."""
    best = headline_candidates(ranked, 1, max_words)
    return best[0][1] if best else ""


def textrank_summary(article: Article, *, sentences: int = 3, redundancy: float = 0.6, min_words: int = 0) -> str:
    return summary_from_ranked(rank_article(article), sentences=sentences, redundancy=redundancy,
                               min_words=min_words)


def headline_candidate(article: Article) -> str:
    return headline_from_ranked(rank_article(article))


# The speaker: up to 80 characters, or up to 120 with no comma (a name and a long title, "لويز فيليبي سكولاري المدير
# الفني الأسبق للمنتخب البرازيلي لكرة القدم اليوم الجمعة"); a longer match across a comma runs into the next clause
# ("أعلن غوارديولا، ...، مشيرا إلى أنه ...").
_REPORTING = re.compile(
    r"^و?(?:قال|قالت|أعلن|أعلنت|اعلن|أكد|أكدت|اكد|ذكر|ذكرت|أفاد|أفادت|كشف|كشفت|أوضح|أوضحت|صرح|صرحت)\s+"
    r"(?P<speaker>[^.!؟?]{3,80}?|[^.!؟?،]{81,120}?)\s*،?\s+(?:إن|أن|ان)(?:ه|ها|هم)?\s+(?P<statement>.+)$"
)
# Words that date a speaker phrase ("السفارة الروسية في لندن اليوم الأربعاء") and have no place in a headline.
_DAYS = "اليوم|أمس|الليلة|السبت|الأحد|الاثنين|الإثنين|الثلاثاء|الأربعاء|الخميس|الجمعة"
_TIME_WORDS = re.compile(rf"\s*،?\s*\b(?:مساء|صباح|{_DAYS})\b")
# A speaker's title after the name, with no comma between ("لويز فيليبي سكولاري المدير الفني الأسبق للمنتخب
# البرازيلي لكرة القدم"): the name is the speaker, as when a comma sets the title apart. A title first ("وزير
# الخارجية الروسي سيرغي لافروف") names no one before it and stays whole.
_TITLE_WORDS = ("مدير|رئيس|رئيسة|وزير|وزيرة|نائب|نائبة|متحدث|متحدثة|ناطق|مدرب|نجم|نجمة|لاعب|مهاجم|حارس|مدافع|أمين|"
                "عضو|سفير|سفيرة|قائد|زعيم|مستشار|مستشارة|مبعوث|ملك|أمير|وكيل|محافظ|حاكم|ممثل|مؤسس|مندوب|مفوض|قاضي|"
                "مرشح|مرشحة")
"""The nouns a person's title opens with (a regex alternation, each also with "ال")."""
_TITLE = re.compile(rf"^(?:ال)?(?:{_TITLE_WORDS})$")


def _speaker_name(speaker: str) -> str:
    """The name before a title ("لويز فيليبي سكولاري المدير الفني ..." -> "لويز فيليبي سكولاري"), when the speaker
    has at most four words before the first title word; else the speaker as it is."""
    words = speaker.split()
    first = next((i for i, word in enumerate(words) if _TITLE.match(word)), 0)
    return " ".join(words[:first]) if 1 <= first <= 4 else speaker


# After "إن/أن" a statement's subject is accusative ("أن شخصا قام ..."); as "speaker: statement" it would need the
# nominative ("شخص قام"), and people judged the accusative left behind unusable (GUIDE.md, ruling 7). An indefinite
# accusative cannot be told from a name ending in ا ("روسيا") by its letters, so any such opening keeps the sentence
# as reported ("ذكرت تقارير أن شخصا قام ..."): longer, never ungrammatical. (An indefinite "-ين" is left alone: too
# many nouns end so, "تمرين", "فلسطين".)
# A definite plural or dual in its -ين form ("أن المحققين الأمريكيين اقتربوا", "أن الكوريتين ...") and a construct
# plural participle in -ي ("أن مسلحي حماس") are accusative the same way; a name that ends so ("الصين", "البحرين")
# is kept out by name.
_ACCUSATIVE = re.compile(r"^(?:(?!(?:هذا|إذا|لذا|كذا|أيضا)\s)[^\s]{2,}(?:ا|اً|ًا)"
                         r"|(?!(?:الصين|البحرين|اليمين|الدين|الحسين|الأمين|التين|الطين|الجنين|الحنين)\s)ال[^\s]{2,}(?:ين|تين)"
                         r"|م[^\s]{3,}ي)\s")
_APPOSITIVE = re.compile(r"\s*،\s*([^،.:؛]{1,40})\s*،\s*")


_POINTS_BACK = re.compile(r"(?:أبرز|أهم|أحد|إحدى|من|بين|أغلب|معظم|بعض|أكثر|أكبر|أول|آخر)(?:ها|هم|هما)(?:\s|$)")


def _drop_short_appositives(sentence: str) -> str:
    """"السفير الأميركي، ديفيد فريدمان، غضب" -> "السفير الأميركي غضب": asides of at most four words go, unless what
    follows points back into one ("بالبطولة، التي تخللتها مفاجآت مدوية، أبرزها خروج ...": "أبرزها" is the
    surprises')."""
    def drop(m: re.Match) -> str:
        points_back = _POINTS_BACK.match(sentence[m.end():])
        return " " if len(m.group(1).split()) <= 4 and not points_back else m.group(0)

    return _APPOSITIVE.sub(drop, sentence)


# A relative clause closed by a comma, the main clause after it: "تمرين درع الخليج الذي جمع أكثر من 24 دولة في
# واحد من أكبر المناورات، يجسد القدرة ..." A sentence too long for a headline loses it before it loses its predicate.
# Only when a verb ("يجسد") or a subordinator ("بعدما") follows the comma: after a noun the clause often holds the
# noun's head ("الشكوك التي تحوم حول تسميم الجاسوس ...، سيرجي سكريبال"), and after "و" the next clause may lean on
# it; people judged such deletions unusable.
_RELATIVE = re.compile(r"\s(?:الذي|التي|الذين|اللذين|اللتين|اللواتي)\s[^،.:؛\"«»]{3,200}?\s*،\s*"
                       r"(?=(?:[يت][^\s،]{2,}|بعد|بعدما|عقب|إثر|قبل|رغم|حيث|وسط)\s)")


# When: a weekday, today, yesterday, "this week", "in the past few days". A headline over its budget loses these
# before it loses its object ("أطلق تطبيق واتساب، خلال الأيام القليلة الماضية ميزة جديدة ..."); not after "كان/سيكون",
# where the day is what the sentence is about ("سيكون يوم السبت المقبل حاسما").
_WHEN = re.compile(
    r"(?<!كان)(?<!يكون)(?<!تكون)(?<!سيكون)(?<!ستكون)(?<!يوم)(?<!صباح)(?<!مساء)(?<!ليلة)(?<!فجر)(?<!ظهر)(?:\s*،)?\s+"
    rf"(?:(?:(?:يوم|صباح|مساء|ليلة|فجر|ظهر)\s+)?(?:{_DAYS})(?:\s+(?:الماضي|المقبل|الماضية|المقبلة))?"
    r"|(?:خلال\s+|في\s+)?(?:هذا الأسبوع|هذا الشهر|(?:الأسبوع|الشهر|العام) (?:الماضي|المقبل|الجاري|الحالي)"
    r"|(?:الأيام|الساعات|الأسابيع) (?:القليلة )?(?:الماضية|المقبلة|الأخيرة)))(?=\s*[،.]|\s|$)")


# Over the budget, a speaker's medium goes like the time does ("أعلن الرئيس الأميركي على حسابه على موقع التواصل
# الاجتماعي "تويتر" تأييده ..." -> "أعلن الرئيس الأميركي تأييده ..."): where a statement was posted is not the news.
_MEDIUM = re.compile(r"\s(?:في|عبر|على)\s(?:تغريدة|تغريدات|منشور|حسابه|حسابها|صفحته|صفحتها)"
                     r"(?:\s(?:له|لها|الرسمي|الرسمية|الشخصي|الشخصية))*"
                     r"(?:\s(?:على|في|عبر)(?:\s(?:موقع|منصة|شبكة))?(?:\s(?:التواصل الاجتماعي|للتواصل الاجتماعي|التدوين"
                     r" المصغر))?)?\s[\"«]?(?:تويتر|فيسبوك|فيس بوك|إنستغرام|انستغرام)[\"»]?(?=[\s،.]|$)")
# Over the budget, a title set off by commas after a name goes, however long ("كريستيانو رونالدو، مهاجم نادي ريال
# مدريد الإسباني لكرة القدم، في ..."): the name says who; an aside of up to four words goes anyway
# (_drop_short_appositives).
_TITLE_ASIDE = re.compile(rf"\s*،\s*((?:ال)?(?:{_TITLE_WORDS})\s[^،.:؛\"«»]{{3,90}}?)\s*،\s*")


def _delete_while_over(sentence: str, budget: int, find: Callable[[str], re.Match | None], strip: str = "") -> str:
    """While the sentence is over `budget` words, delete the span `find` returns (None: nothing left to delete),
    and `strip`'s characters at the start of what follows it."""
    while len(sentence.split()) > budget and (match := find(sentence)):
        sentence = sentence[: match.start()] + " " + sentence[match.end():].lstrip(strip)
    return " ".join(sentence.split())


def _first_leaving_three(pattern: re.Pattern, sentence: str) -> re.Match | None:
    """The first match of `pattern` with at least three words after it."""
    return next((m for m in pattern.finditer(sentence) if len(sentence[m.end():].split()) >= 3), None)


def _drop_over_budget(sentence: str, budget: int) -> str:
    """While the sentence is over `budget` words: its first title aside (_TITLE_ASIDE) that leaves three words after
    it, then a statement's medium (_MEDIUM)."""
    return _delete_while_over(sentence, budget,
                              lambda text: _first_leaving_three(_TITLE_ASIDE, text) or _MEDIUM.search(text))


def _drop_when(sentence: str, budget: int) -> str:
    """While the sentence is over `budget` words, delete its first expression of when (_WHEN), and the comma that
    closed it ("وصلت، السبت، أول طائرة" -> "وصلت أول طائرة")."""
    return _delete_while_over(sentence, budget, _WHEN.search, strip=" ،")


def _drop_relative_clauses(sentence: str, budget: int) -> str:
    """While the sentence is over `budget` words, delete its first comma-closed relative clause that leaves at
    least three words after it."""
    return _delete_while_over(sentence, budget, lambda text: _first_leaving_three(_RELATIVE, text))


# Circumstantial lead-ins ("خلال كلمته في معهد موسكو، بمناسبة افتتاح العام الدراسي، قال لافروف ..."): what
# happened comes after them, and a headline cut to a few words would otherwise keep only the setting.
# A subordinate clause before the main one ("بعد أن أسدل الستار على ...، كشفت الأرقام ...", "رغم أنه ...، إلا أن
# صلاح ...") goes the same way: cut to a headline it leaves no event (summarizer.shape, SUBORDINATE_ONLY).
_LEAD_IN = re.compile(r"^و?(?:خلال|أثناء|في أثناء|على هامش|بمناسبة|عقب|إثر|في ختام|في كلمة|في كلمته|في تصريح|"
                      r"في تصريحات|في حديث|في حوار|في مقابلة|في بيان|في رسالة)\s[^.:؛،]{0,80}،\s*")
_SUBORDINATE_LEAD_IN = re.compile(rf"^و?(?:{SUBORDINATORS}|في خطوة|في إطار)\s[^.:؛،]{{0,80}}،\s*")
# What joins the main clause to a subordinate one: "رغم ...، إلا أن X ..." -> "X ...".
_MAIN_JOIN = re.compile(r"^(?:إلا أن|إلا أنه|فإن|فقد)\s+")
# "قال لافروف: ..." (a quotation after a colon) reads as "لافروف: ...".
_SAID_COLON = re.compile(r"^و?(?:قال|قالت|أضاف|أضافت|أكد|أكدت|أعلن|أعلنت)\s+(?P<speaker>[^:.!؟?،]{3,40}?)\s*:\s*"
                         r"(?P<statement>.+)$")


def _drop_lead_ins(sentence: str) -> str:
    """Strip circumstantial lead-ins and subordinate clauses while at least five words remain."""
    while True:
        if (match := _LEAD_IN.match(sentence)) and len(sentence[match.end():].split()) >= 5:
            sentence = sentence[match.end():]
        elif (match := _SUBORDINATE_LEAD_IN.match(sentence)) and len(sentence[match.end():].split()) >= 5 and \
                len(sentence[match.end():].split("،")[0].split()) > 4:
            # Not when a short aside follows ("عندما فاجأ ... مدوية، كلفته 400 مليون يورو، كان يهدف"): the clause
            # goes on past the first comma.
            sentence = _MAIN_JOIN.sub("", sentence[match.end():], count=1)
        else:
            return sentence


_PHRASE_START = re.compile(r"^(?:في|على|إلى|الى|من|عن|مع|بين|خلال|بعد|قبل|حول|منذ|عند|ضد|نحو|عبر|وسط|بسبب|إثر|جراء|"
                           r"الذي|التي|الذين|والذي|والتي|حيث|بينما|فيما|عندما|لكن|وفق|وفقا|بحسب|[وف][^\s]{2,}|"
                           r"[لب]ـ?[^\s]{3,})$")


# A circumstantial participle opens an add-on to the main clause ("أعلن غوارديولا انتهاء موسم أغويرو، مشيرا إلى
# أنه قد يكون حاضرا في ..."): cut before it, what happened stays whole.
_PARTICIPLE = re.compile(r"^(?:مشير|مؤكد|موضح|مضيف|لافت|معتبر|قائل|مشدد|منوه|معرب)(?:ا|اً|ًا|ة)?$")


_COMPLEMENT = frozenset("على في من إلى الى عن مع عبر ضد نحو أن إن بأن".split())


def _verb_cut(words: list[str], k: int) -> bool:
    """Whether the first `k` words end on a present-tense verb whose complement follows ("... أدلة تشير | إلى",
    "برحلة بحرية تحمل | على متنها العشرات": people judged such cuts unusable). By its letters "يورو" or "تشاد"
    looks like one too, so only a preposition or "أن" after it says a complement was cut."""
    return 0 < k < len(words) and bool(re.fullmatch(r"[يت][^\s،,]{2,}", words[k - 1].strip("\"'«»"))) \
        and words[k].strip("\"'«»") in _COMPLEMENT


_FIRST = frozenset("أول الأول الأولى لأول أولى".split())


def _binds(words: list[str], k: int) -> bool:
    """Whether cutting after the first `k` words would change a fact: "أول انتخابات برلمانية | منذ هزيمة التنظيم"
    cut before "منذ" says the first ever (people judged it wrong: the article said the fourth). A cut anywhere
    between a near "أول" and a near "منذ" would."""
    return "منذ" in words[k : k + 4] and any(w in _FIRST for w in words[max(0, k - 4) : k])


def _cut_point(words: list[str], budget: int) -> int:
    """Where to cut an over-long sentence: before a circumstantial participle ("مشيرا إلى ...") after at least five
    words; else the last clause boundary (a comma, colon) in the last 40% of the budget; else the last phrase
    boundary there (before a preposition, relative or و-conjoined word, so the kept part ends on a whole phrase:
    "... 2.17 مليار يورو | لتنمية دول ..."); else at the budget."""
    low = int(budget * 0.6)
    for i in range(budget, 4, -1):
        if _PARTICIPLE.match(words[i].strip("،,")):
            return i
    for i in range(budget, low - 1, -1):
        if re.search(r"[،,:؛]$", words[i - 1]):
            return i
    for i in range(budget, low - 1, -1):
        last = words[i - 1].strip("\"'«»،,:")
        if _PHRASE_START.match(words[i]) and last not in DANGLING and not _verb_cut(words, i) and not _binds(words, i):
            return i
    return budget


@dataclass
class HeadlineDraft:
    """A sentence made ready to cut into a headline: "speaker: " (or nothing) and the statement's words, after the
    rules that delete without changing what it says (dateline, circumstantial lead-in, short asides); `budget` is
    how many of the words fit beside the speaker."""

    prefix: str
    words: list[str]
    budget: int

    def cuts(self) -> list[int]:
        """Word counts the statement may be cut to: within the budget, at least three words (or all of a shorter
        statement), never ending on a particle or a preposition, a present-tense verb whose complement follows, nor
        inside a quotation, nor between "أول" and "منذ"; nor to a speaker with nothing said ("قالت وزارة الوحدة",
        where a model would stop first) when a longer cut says something. (Only that shape: a filter on every shape
        would let a cut slip past the shape rules that rank a bad sentence last, "بعد أن انتهت ...، والتي أسفرت".)"""
        out = []
        for k in range(min(3, len(self.words)), min(len(self.words), self.budget) + 1):
            last = self.words[k - 1].strip("\"'«»،,:")
            kept = " ".join(self.words[:k])
            if k and last not in DANGLING and not kept.count("«") - kept.count("»") and not _binds(self.words, k) \
                    and not _verb_cut(self.words, k) and (not kept.count('"') % 2 or k == len(self.words)):
                out.append(k)
        said = [k for k in out if Shape.MID_STORY_OPENING not in problems(self.text(k), max_words=len(self.words))]
        return said or out

    def rule_cut(self) -> int:
        """The rules' word count: all the words when they fit, else the last clause or phrase boundary near the
        budget (_cut_point)."""
        return len(self.words) if len(self.words) <= self.budget else _cut_point(self.words, self.budget)

    def text(self, k: int, max_chars: int = HEADLINE_MAX_CHARS) -> str:
        """The headline of the first `k` words: clause marks and quotes at its edges trimmed."""
        words = list(self.words[:k])
        while len(words) > 3 and words[-1].strip("\"'«»،,:") in DANGLING:
            words.pop()
        text = " ".join(words).strip(" \"'«»،,:")
        text = re.sub(r"\s*،\s*", "، ", self.prefix + text).strip()
        if text.count('"') % 2:  # a quotation cut in half reads as an error
            text = text.replace('"', "")
        return _cut_chars(text, max_chars)


def headline_draft(sentence: str, max_words: int = HEADLINE_MAX_WORDS, max_chars: int = HEADLINE_MAX_CHARS
                   ) -> HeadlineDraft:
    """A sentence's headline draft (see HeadlineDraft): no dateline, circumstantial lead-in or short asides,
    "speaker: statement" for reported speech."""
    if len(sentence) > max_chars * 4:  # the rules below look at the start only; a giant sentence costs no more
        sentence = sentence[: max_chars * 4]
    # Hashtags read as words ("#مجلس_الأمن" -> "مجلس الأمن"): people judged headlines with the markup unusable.
    sentence = _drop_lead_ins(tidy(strip_dateline(sentence)).strip().rstrip(".!؟?؛").strip())
    prefix = ""
    said = _SAID_COLON.match(sentence)
    speaker = re.sub(r"\s+(?:قائلا|قائلة|قائلًا|قائلاً)$", "", said.group("speaker").strip()) if said else ""
    quoted = said.group("statement").strip(" \"“”«»") if said else ""
    statement = re.sub(r"^(?:إن|أن)\s+", "", quoted)
    if said and 1 <= len(speaker.split()) <= 6 and not (statement != quoted and _ACCUSATIVE.match(statement)):
        prefix, sentence = speaker + ": ", statement
    reported = None if prefix else _REPORTING.match(sentence)
    if reported:
        speaker = _MEDIUM.sub("", " " + _TIME_WORDS.sub("", reported.group("speaker"))).strip(" ،,")
        if "،" in speaker:  # "نجمة تليفزيون الواقع، كيم كارداشيان" -> the name; "أولي هوينس، رئيس نادي ..." too
            parts = [part.strip() for part in speaker.split("،") if part.strip()]
            shortest = min(reversed(parts), key=lambda part: len(part.split()))  # a tie: the later, the name
            if len(shortest.split()) <= 4:
                speaker = shortest
        speaker = _speaker_name(speaker)
        if 1 <= len(speaker.split()) <= 6 and not _ACCUSATIVE.match(reported.group("statement")):
            prefix, sentence = speaker + ": ", reported.group("statement")
    budget = max_words - len(prefix.split())
    sentence = _drop_relative_clauses(_drop_over_budget(_drop_when(_drop_short_appositives(sentence), budget), budget),
                                      budget)
    if budget < 3:  # a speaker that leaves the statement under 3 words: the statement
        prefix = ""
    return HeadlineDraft(prefix, sentence.split(), max_words - len(prefix.split()))


def shorten_headline(sentence: str, max_words: int = HEADLINE_MAX_WORDS,
                     max_chars: int = HEADLINE_MAX_CHARS) -> str:
    """Cut a sentence into a headline by rule: its draft (headline_draft), at most `max_words` words and
    `max_chars` characters, ending at a clause boundary when one is near, and on a content word. (A model engine
    moves a cut its model would not end a headline at: summarizer.cut.)"""
    draft = headline_draft(sentence, max_words, max_chars)
    return draft.text(draft.rule_cut(), max_chars)


def _cut_chars(text: str, max_chars: int) -> str:
    """At most `max_chars` characters: whole words when a space falls in the second half, else a hard cut."""
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars + 1].rfind(" ")
    text = text[:cut] if cut > max_chars // 2 else text[: max_chars - 1] + "…"
    return text.rstrip(" ،,:")
