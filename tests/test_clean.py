import pytest

from summarizer.clean import classify_line, clean_page
from summarizer.errors import InputError
from summarizer.text import normalize

BODY_1 = ("قالت وزارة الخارجية في بيان رسمي اليوم إن الوزير سيزور العاصمة الجزائرية الأسبوع المقبل لبحث "
          "العلاقات الثنائية والتعاون الاقتصادي بين البلدين.")
BODY_2 = ("وأضاف البيان أن الزيارة تأتي في إطار التشاور المستمر بين البلدين حول القضايا الإقليمية والدولية "
          "ذات الاهتمام المشترك.")
SECOND_TITLE = "مرحلة جديدة من العلاقات العُمانية الجزائرية"
SECOND_BODY = ("وقع البلدان اليوم على عدد من الاتفاقيات في مجالات الطاقة والتجارة والاستثمار خلال اجتماع "
               "اللجنة المشتركة الذي عقد في مسقط بحضور عدد من الوزراء.")


def page(*lines: str) -> str:
    return "\n".join(lines)


def test_seed_page_two_articles_main_first(scraped_page):
    result = clean_page(scraped_page)
    assert [a.title for a in result.articles] == ["سفارة موسكو في لندن: طرد الدبلوماسيين تصرف عدائي",
                                                  "قتلى مدنيون بأول أيام العيد في سوريا"]
    main, second = result.articles
    assert "لافروف" in main.text and "درعا" not in main.text  # the second article is never glued on
    assert "درعا" in second.text


def test_seed_page_furniture_removed(scraped_page):
    result = clean_page(scraped_page)
    text = "\n".join(a.text for a in result.articles)
    for furniture in ("المصدر:", "كلمات دلالية", "إقرأ أيضاً", "مقالات مشابهة", "شارك الخبر", "تابعونا",
                      "http", "@", "©", "الرئيسية", "17:40"):
        assert furniture not in text, furniture
    for headline in ("ماي: روسيا مسؤولة عن تسميم العميل المزدوج", "الاتحاد الأوروبي يتضامن مع لندن"):
        assert headline not in text  # the bullet list of related headlines is dropped
    kinds = {r.kind for r in result.removed}
    assert {"source", "tags", "share", "read_also", "related", "url", "email", "date"} <= kinds


def test_seed_page_spelling_unchanged(scraped_page):
    result = clean_page(scraped_page)
    original_lines = {" ".join(line.split()) for line in scraped_page.splitlines()}  # whitespace is collapsed
    for paragraph in result.articles[1].paragraphs:
        assert paragraph in original_lines  # no normalization leaks into shown text
    assert "دبلوماسياً" in result.articles[0].text  # tanween kept
    assert "أُدرجت" in result.articles[1].text  # diacritics kept


def test_markers_match_across_spelling_variants():
    for variant in ("إقرأ أيضاً:", "اقرأ أيضا:", "اقرا ايضا", "إقــرأ أيضًا :", "اقرأ أيضاً"):
        assert classify_line(variant) == "read_also", variant
    for variant in ("المصدر: وكالات", "المصدر : رويترز", "المصـدر: واس"):
        assert classify_line(variant) == "source", variant
    assert classify_line("كلمات دلالية: العراق، الانتخابات") == "tags"
    assert classify_line("مقالات ذات صلة") == "related"
    assert classify_line("جميع الحقوق محفوظة © 2024") == "share"
    assert classify_line('هذا المقال منشور بالتعاون مع موقع التوظيف الإلكتروني "بيت.كوم"') == "sponsored"
    assert classify_line("هذا المقال منشور بالتعاون مع جامعة القاهرة التي أعدت الدراسة ونشرت نتائجها الكاملة في "
                         "مجلة علمية محكمة الشهر الماضي بعد مراجعة استمرت عامين كاملين") is None  # a long one is text
    assert classify_line(BODY_1) is None
    # A long sentence that merely starts with a share-like word is content.
    assert classify_line("تابع الوزير حديثه قائلا إن الحكومة ستواصل العمل على تنفيذ الإصلاحات الاقتصادية "
                         "التي أعلنتها في بداية العام الجاري رغم الصعوبات") is None
    # "المصدرين" is a word, not the "المصدر:" marker.
    assert classify_line("المصدرين العرب للنفط يتوقعون ارتفاع الأسعار في الربع المقبل من العام") is None


def test_inline_read_also_title_starts_second_article():
    text = page("عنوان الخبر الرئيسي عن الزيارة", BODY_1, BODY_2, f"إقرأ أيضاً: {SECOND_TITLE}", SECOND_BODY)
    result = clean_page(text)
    assert [a.title for a in result.articles] == ["عنوان الخبر الرئيسي عن الزيارة", SECOND_TITLE]
    assert result.articles[1].paragraphs == [SECOND_BODY]


def test_read_also_followed_by_links_only_is_dropped():
    text = page(BODY_1, BODY_2, "اقرأ أيضا: الوزير يلتقي نظيره الجزائري", "اقرأ أيضا", "خبر قصير عن موضوع آخر",
                "خبر ثان قصير")
    result = clean_page(text)
    assert len(result.articles) == 1
    assert result.articles[0].paragraphs == [BODY_1, BODY_2]


def test_bulleted_headlines_dropped_but_bulleted_prose_kept():
    prose = "- " + BODY_2
    text = page(BODY_1, prose, "• عنوان مرتبط أول", "* عنوان مرتبط ثان")
    result = clean_page(text)
    assert result.articles[0].paragraphs == [BODY_1, BODY_2]


def test_hashtags_urls_and_trailing_tags():
    text = page("أعلنت #وزارة_الخارجية اليوم عن زيارة الوزير إلى الجزائر (https://t.co/abc) لبحث التعاون بين البلدين.",
                "وقال المتحدث إن الزيارة ستستمر يومين وتشمل لقاءات مع كبار المسؤولين. سمات الجزائر زيارة وزير")
    article = clean_page(text).articles[0]
    assert "وزارة الخارجية" in article.text and "#" not in article.text and "http" not in article.text
    assert article.paragraphs[-1].endswith("كبار المسؤولين.")


@pytest.mark.parametrize("bad, message", [
    ("", "النص فارغ"),
    ("   \n  ", "النص فارغ"),
    ("This page is entirely in English and has no Arabic at all.", "لا نص عربي"),
    ("مرحبا" * 50_000, "النص 250,000 حرف، أطول من الحد"),
    ("نص\x00ثنائي" * 10, "ملف ثنائي"),
])
def test_bad_input_errors_name_the_problem(bad, message):
    with pytest.raises(InputError, match=message):
        clean_page(bad)


def test_all_seeds_clean_to_arabic_articles(seed_texts):
    for text in seed_texts:
        articles = clean_page(text).articles
        assert articles and all(normalize(a.text) for a in articles)


def test_the_real_seed_page_holds_exactly_two_articles_and_no_bullets():
    from tests.conftest import SEED_PAGE

    text = SEED_PAGE.read_text("utf-8")
    page = clean_page(text)
    assert len(page.articles) == 2
    main, second = page.articles
    assert "لافروف" in main.text and second.title == "مرحلة جديدة من العلاقات العُمانية الجزائرية"
    bullets = [line.strip(" •") for line in text.splitlines() if line.startswith("  •")]
    assert len(bullets) == 10
    for article in page.articles:
        for bullet in bullets:
            assert bullet not in article.text, bullet
    assert sum(r.kind == "related" for r in page.removed) >= 10


# --- markup in text: tags and entities never reach an engine ----------------------------------------------------
def _no_markup(text: str) -> bool:
    import re

    # no tag, no entity, no script content (what an unclosed "<img src=x" leaves after its "<img" is plain text)
    return not re.search(r"<\s*/?\s*[A-Za-z]", text) and "alert(1)" not in text and "&lt;" not in text


@pytest.mark.parametrize("text", [
    # plain text with a few tags (too few to be taken for page source)
    "<script>alert(1)</script>" + BODY_1 + "\n<b>" + BODY_2 + "</b>",
    # entities that spell tags, once and twice escaped
    "&lt;script&gt;alert(1)&lt;/script&gt; " + BODY_1 + "\n" + BODY_2,
    "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; " + BODY_1 + "\n" + BODY_2,
    # a tag cut in two by another, an unclosed opener, a comment
    "<scr<i>ipt>alert(1)</script> " + BODY_1 + "\n<!-- tracker -->" + BODY_2 + " <img src=x onerror=alert",
    # page source whose article text holds an escaped script
    "<!doctype html><html><body><article><h1>خبر</h1><p>" + BODY_1 + " &lt;script&gt;alert(1)&lt;/script&gt;"
    "</p><p>" + BODY_2 + "</p></article></body></html>",
])
def test_tags_and_entities_are_removed_from_the_text_engines_see(text):
    from summarizer.engines import ExtractiveEngine, LeadEngine
    from summarizer.generation import GenerationSettings

    result = clean_page(text)
    article = result.articles[0]
    assert _no_markup(article.text), article.text
    assert "وزارة الخارجية" in article.text and "التشاور المستمر" in article.text
    for engine in (ExtractiveEngine(), LeadEngine(3)):
        (summary,) = engine.summarize([article], settings=GenerationSettings())
        assert summary.headline and _no_markup(summary.headline) and _no_markup(summary.summary)
    assert any(r.kind == "markup" for r in result.removed)


def test_text_that_only_looks_like_markup_is_kept():
    text = page("قال الخبير إن نسبة النمو <<المرتفعة>> تعني أن 3 < 5 في كل الأحوال، " + BODY_1, BODY_2 + " R&D")
    article = clean_page(text).articles[0]
    assert "<<المرتفعة>>" in article.text and "3 < 5" in article.text and "R&D" in article.text


def test_hostile_markup_is_cleaned_in_linear_time():
    import time

    started = time.perf_counter()
    # thousands of unclosed openers (spelled as entities, so the page is not taken for page source), comments
    clean_page("&lt;script&gt;" * 8_000 + "<!--" * 8_000 + "<b" * 8_000 + BODY_1 + "\n" + BODY_2)
    clean_page("&amp;" * 30_000 + BODY_1 + "\n" + BODY_2)
    assert time.perf_counter() - started < 5


def test_another_storys_title_between_paragraphs_is_removed_and_listed():
    from summarizer.clean import clean_page

    body = ("أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في العاصمة بسعة خمسمئة سرير لخدمة المرضى من كل المناطق.\n"
            "ترامب يلتقي كيم في سنغافورة الشهر المقبل\n"
            "وقال الوزير إن المستشفى سيستقبل أول المرضى الأسبوع المقبل بعد اكتمال تجهيز الأقسام كلها بالمعدات.\n")
    page = clean_page(body)
    assert "ترامب يلتقي كيم" not in page.articles[0].text
    assert [r.text for r in page.removed if r.kind == "related_title"] == ["ترامب يلتقي كيم في سنغافورة الشهر المقبل"]
    assert "وقال الوزير" in page.articles[0].text and len(page.articles) == 1
    # A short line that ends the page, or a question, is not taken for another story's title.
    assert "ما الذي يحدث؟" in clean_page(body.replace("ترامب يلتقي كيم في سنغافورة الشهر المقبل",
                                                      "ما الذي يحدث؟")).articles[0].text
