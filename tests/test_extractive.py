from summarizer.article import Article
from summarizer.clean import clean_page
from summarizer.engines import ExtractiveEngine, LeadEngine
from summarizer.extractive import HEADLINE_MAX_WORDS, headline_candidate, rank_sentences, shorten_headline, textrank_summary
from summarizer.generation import GenerationSettings
from summarizer.text import split_sentences


def test_summary_is_n_sentences_of_the_article_in_original_order(seed_texts):
    for text in seed_texts:
        article = clean_page(text).articles[0]
        sentences = [s for p in article.paragraphs for s in split_sentences(p)]
        summary = textrank_summary(article, sentences=3)
        picked = split_sentences(summary)
        assert 1 <= len(picked) <= 3
        positions = [sentences.index(s) for s in picked]  # every sentence is verbatim from the article
        assert positions == sorted(positions)


def test_redundant_sentences_are_not_both_picked():
    s = "أعلنت الحكومة اليوم عن خطة جديدة لدعم الاقتصاد الوطني وتشجيع الاستثمار الأجنبي في البلاد."
    other = "وقال مسؤولون إن الخطة تشمل تخفيضات ضريبية للشركات الصغيرة والمتوسطة خلال العام المقبل."
    article = Article(id="x", paragraphs=[s, s.replace("اليوم", "الأحد"), other, "وتأتي الخطة بعد تراجع النمو."])
    summary = textrank_summary(article, sentences=2)
    assert summary.count("خطة جديدة لدعم الاقتصاد") == 1


def test_central_sentence_outranks_an_off_topic_one():
    sentences = [
        "ضرب زلزال قوي جنوب البلاد صباح اليوم وأدى إلى انهيار مبان.",
        "وقالت فرق الإنقاذ إن الزلزال أدى إلى انهيار عشرات المباني في جنوب البلاد.",
        "وتوقع خبراء الطقس أمطارا خفيفة نهاية الأسبوع على السواحل.",
        "وأكد الدفاع المدني أن فرق الإنقاذ تبحث عن ناجين تحت المباني المنهارة بعد الزلزال.",
    ]
    scores = rank_sentences(sentences)
    assert scores[2] == min(scores)


def test_headline_is_short_and_from_the_top(scraped_page):
    article = clean_page(scraped_page).articles[0]
    headline = headline_candidate(article)
    assert 3 <= len(headline.split()) <= HEADLINE_MAX_WORDS
    assert "السفارة الروسية" in headline


def test_shorten_headline_rules():
    assert shorten_headline("دبي، الإمارات العربية المتحدة (CNN)— وصل ولي العهد إلى القاهرة في زيارة.") == \
        "وصل ولي العهد إلى القاهرة في زيارة"
    assert shorten_headline("قالت الوزارة اليوم الأحد إن الامتحانات ستبدأ الشهر المقبل.") == \
        "الوزارة: الامتحانات ستبدأ الشهر المقبل"
    long = "أثار السفير، ديفيد فريدمان، غضب الفلسطينيين عندما تسلم صورة مزورة للبلدة القديمة في القدس المحتلة أمس"
    headline = shorten_headline(long)
    assert "فريدمان" not in headline and len(headline.split()) <= HEADLINE_MAX_WORDS
    assert headline.split()[-1] not in ("في", "من", "على")


def test_engines_return_one_summary_per_article_in_order(seed_texts):
    articles = [clean_page(t).articles[0] for t in seed_texts]
    settings = GenerationSettings(summary_sentences=2)
    for engine in (ExtractiveEngine(), LeadEngine(1), LeadEngine(3)):
        out = engine.summarize(articles, settings=settings)
        assert len(out) == len(articles)
        for article, summary in zip(articles, out):
            assert summary.summary and summary.headline
            assert split_sentences(summary.summary)[0] in article.text


def test_work_per_article_is_bounded_by_the_sentence_cap(monkeypatch):
    import summarizer.extractive as extractive
    from summarizer.article import Article
    from summarizer.engines import ExtractiveEngine

    ranked_sizes = []
    real_rank = extractive._rank
    monkeypatch.setattr(extractive, "_rank", lambda sentences, *a: (ranked_sizes.append(len(sentences)),
                                                                   real_rank(sentences, *a))[1])
    hostile = Article(id="x", paragraphs=[" ".join(f"جملة رقم {i}." for i in range(k, k + 100))
                                          for k in range(0, 50_000, 100)])
    (result,) = ExtractiveEngine().summarize([hostile], settings=GenerationSettings(summary_sentences=2))
    assert ranked_sizes == [extractive.MAX_RANKED]  # ranked once, for headline and summary, and capped
    assert result.summary and result.headline
