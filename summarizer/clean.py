"""Turn a scraped Arabic news page into clean articles.

Scraped pages carry furniture around the article: source and tag lines, "إقرأ أيضاً" teasers, "مقالات مشابهة"
lists of related headlines, share/follow/copyright lines, URLs. Some pages also carry a second full article after
a "read also" marker. Markers are matched on the normalized form, so hamza, tanween and tatweel variants are
caught, while the text returned keeps its original spelling. Nothing here knows about models.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from .article import Article, content_id
from .errors import InputError, InputTooLarge
from .reasons import CHARACTER, counted
from .text import clean_invisible, collapse_spaces, has_arabic, normalize, word_count

MAX_PAGE_CHARS = 200_000
"""Pages longer than this are refused: no news article is this long, and the cost grows with the length."""

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|info|sa|ae|eg|ma|dz|tn|qa|kw|co)\b/?\S*", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_BULLET = re.compile(r"^\s*(?:[-–—•·▪◦●○►▸■□*+]|\d{1,2}\s*[-.)]\s)\s*")
_SEPARATOR = re.compile(r"^[\W_]+$")


def _norm_phrases(*phrases: str) -> tuple[str, ...]:
    return tuple(normalize(p) for p in phrases)


# Each tuple is matched at the start of a normalized line.
READ_ALSO = _norm_phrases("إقرأ أيضاً", "اقرأ أيضا", "إقرأ ايضا", "اقرأ كذلك", "اقرأ المزيد", "طالع أيضا",
                          "شاهد أيضا", "إقرأ أيضًا", "يهمك أيضا", "قد يهمك")
RELATED = _norm_phrases("مقالات مشابهة", "مقالات ذات صلة", "أخبار ذات صلة", "أخبار مشابهة", "مواضيع ذات صلة",
                        "مواضيع مشابهة", "أخبار متعلقة", "مقالات متعلقة", "روابط ذات صلة", "الأكثر قراءة",
                        "الأكثر مشاهدة", "المزيد من الأخبار", "اخترنا لك", "قد يعجبك أيضا", "أخبار أخرى",
                        "موضوعات ذات صلة", "اقرأ في هذا الملف")
SOURCE = _norm_phrases("المصدر", "مصدر الخبر", "المصادر", "source")
TAGS = _norm_phrases("كلمات دلالية", "الكلمات الدلالية", "كلمات مفتاحية", "الكلمات المفتاحية", "الوسوم", "وسوم",
                     "tags", "سمات", "مواضيع:")
SHARE = _norm_phrases("شارك", "شاركها", "مشاركة", "تابعونا", "تابعوا", "تابعنا", "جميع الحقوق محفوظة",
                      "حقوق النشر", "حقوق الطبع", "©", "copyright", "اشترك", "للاشتراك", "يمكنكم استلام إشعارات",
                      "حمل تطبيق", "حمّل تطبيق", "facebook", "twitter", "whatsapp", "telegram", "فيسبوك", "تويتر",
                      "واتساب", "طباعة", "أرسل لصديق", "أضف تعليق", "التعليقات", "اضغط هنا", "للمزيد من الأخبار",
                      "الرئيسية", "نشر في", "آخر تحديث", "تاريخ النشر", "تاريخ الإضافة")
# A sponsor's disclaimer ("هذا المقال منشور بالتعاون مع موقع ..."): the publisher's note, not the story; people
# judged it, offered as a headline, unusable. "هذ" is a spelling the corpora carry.
SPONSORED = _norm_phrases("هذا المقال منشور بالتعاون مع", "هذ المقال منشور بالتعاون مع", "هذا المحتوى برعاية",
                          "هذا المحتوى مقدم من", "محتوى برعاية", "محتوى مدفوع", "هذا المقال برعاية")
_SHARE_MAX_WORDS = 14  # a share/follow line is short; a long sentence starting with "تابع" is content
_DATE_WORDS = frozenset(
    normalize(w)
    for w in """السبت الأحد الاثنين الإثنين الثلاثاء الأربعاء الخميس الجمعة يناير فبراير مارس أبريل ابريل مايو
    يونيو يوليو أغسطس اغسطس سبتمبر أكتوبر اكتوبر نوفمبر ديسمبر كانون شباط آذار نيسان أيار حزيران تموز آب أيلول
    تشرين جانفي فيفري أفريل ماي جوان جويلية أوت الساعة ساعة ساعات دقيقة دقائق منذ ص م مساء صباحا
    gmt am pm هـ""".split()
)


@dataclass
class Removed:
    """A piece of page furniture that was dropped, and why (shown to users so they can check the cleaner)."""

    kind: str
    text: str


@dataclass
class CleanedPage:
    articles: list[Article]
    removed: list[Removed] = field(default_factory=list)


_HTML_TAG = re.compile(r"<\s*/?\s*(?:html|head|body|div|p|script|style|meta|span|article|section|br|a|li|ul|h[1-6])\b[^>]*>",
                       re.I)


def looks_like_html(text: str) -> bool:
    """Page source rather than page text: a doctype/<html> opening, or several block tags near the start."""
    head = text[:20_000]
    return head.lstrip()[:15].lower().startswith(("<!doctype", "<html")) or len(_HTML_TAG.findall(head)) >= 3


def html_to_text(html: str | bytes, url: str | None = None) -> str:
    """The main text of an HTML page (trafilatura), else all its visible text; InputError when there is none."""
    import trafilatura

    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False, favor_recall=True)
    if not text or not text.strip():
        from lxml import html as lxml_html
        from lxml.etree import ParserError

        try:
            tree = lxml_html.fromstring(html)
            for node in tree.xpath("//script|//style|//noscript|//template"):
                node.drop_tree()
            text = "\n".join(t.strip() for t in tree.itertext() if t.strip())
        except (ParserError, ValueError):
            text = ""
    if not text or not text.strip():
        raise InputError(f"لا نص مقال في صفحة HTML{' ' + url if url else ''}")
    return text


def check_page(text: str, *, max_chars: int = MAX_PAGE_CHARS) -> None:
    """Raise InputError naming the problem when the text cannot be summarized at all (in Arabic: users read it)."""
    if not text or not text.strip():
        raise InputError("النص فارغ")
    if len(text) > max_chars:
        raise InputTooLarge(f"النص {counted(len(text), CHARACTER)}، أطول من الحد ({counted(max_chars, CHARACTER)})")
    if "\x00" in text:
        raise InputError("المدخل ملف ثنائي (فيه بايتات NUL)، لا نص")
    if not has_arabic(text):
        raise InputError("لا نص عربي في المدخل")


# Markup left in text: pasted page fragments, entities that spell tags (`&lt;script&gt;`, which trafilatura turns
# into the characters "<script>"), tags cut in two by others. A tag name is ASCII, so "<<كلمة>>" and "3 < 5" stay.
_RAW_ELEMENTS = ("script", "style", "noscript", "template", "iframe", "object", "svg")  # content is no text
_RAW_ELEMENT = re.compile(rf"<\s*({'|'.join(_RAW_ELEMENTS)})\b[^<>]*>", re.I)
_TAG = re.compile(r"<!--[^<>]*-->|<![^<>]*>|<\?[^<>]*>|<\s*/?\s*([A-Za-z][\w:-]*)(?:\s[^<>]*|/)?>")
_TAG_OPENER = re.compile(r"<\s*/?\s*[A-Za-z][\w:-]*|<!--")  # what an unclosed tag leaves: "<img src=x"
# A block tag ends a line; an inline one joins what it separates ("<b>ال</b>كلمة"), as a browser shows them.
_BLOCK_TAGS = frozenset("p br div li ul ol tr td th table h1 h2 h3 h4 h5 h6 section article header footer "
                        "blockquote pre hr figure figcaption dd dt".split())
_MARKUP_ROUNDS = 3  # entities escaped twice and tags split by tags need a few passes; each pass is linear


def _drop_raw_elements(text: str) -> tuple[str, int]:
    """Drop script/style-like elements with their content. An opener with no closer goes alone (the text after
    it may be the article); a closer searched for once and missing is not searched for again (linear time)."""
    out, pos, dropped, missing = [], 0, 0, set()
    while match := _RAW_ELEMENT.search(text, pos):
        name = match.group(1).lower()
        close = None if name in missing else re.compile(rf"<\s*/\s*{name}\s*>", re.I).search(text, match.end())
        if close is None:
            missing.add(name)
        out.append(text[pos : match.start()] + " ")
        pos = close.end() if close else match.end()
        dropped += 1
    return "".join(out) + text[pos:], dropped


def strip_markup(text: str) -> tuple[str, int]:
    """`text` with HTML entities decoded and tags removed (script/style content too), and how many tags went.

    Repeated until nothing changes (at most _MARKUP_ROUNDS times): a pass leaves script-like tags to the next
    one's _drop_raw_elements, so that "<scr<i>ipt>…</script>" loses its content as well. Then lone script-like
    tags and the openers of unclosed tags go.
    """
    removed = 0

    def replace(match, keep_raw: bool) -> str:
        nonlocal removed
        name = (match.group(1) or "").lower()
        if keep_raw and name in _RAW_ELEMENTS:
            return match.group(0)
        removed += 1
        return "\n" if name in _BLOCK_TAGS else ""

    for _ in range(_MARKUP_ROUNDS):
        before = text
        if "&" in text:
            text = html.unescape(text)
        if "<" in text:
            text, dropped = _drop_raw_elements(text)
            text = _TAG.sub(lambda m: replace(m, keep_raw=True), text)
            removed += dropped
        if text == before:
            break
    text = _TAG.sub(lambda m: replace(m, keep_raw=False), text)
    text, count = _TAG_OPENER.subn(" ", text)
    return text, removed + count


def _starts_with(norm_line: str, phrases: tuple[str, ...]) -> str | None:
    stripped = norm_line.lstrip(" :-–—|•*#")
    for phrase in phrases:
        if stripped.startswith(phrase):
            rest = stripped[len(phrase) :]
            # The phrase must end at a word boundary: "المصدر:" yes, "المصدرين" no.
            if not rest or not (rest[0].isalpha()):
                return phrase
    return None


def _after_marker(line: str) -> str:
    """The text after a marker such as "إقرأ أيضاً:" (original spelling), or ''."""
    match = re.search(r"[:：\-–—]\s*(.+)$", line)
    return match.group(1).strip() if match else ""


def _is_date_line(norm_line: str) -> bool:
    words = re.findall(r"[^\W_]+", norm_line)
    if not words or len(words) > 9:
        return False
    return all(w.isdigit() or w in _DATE_WORDS for w in words)


def is_body_line(line: str) -> bool:
    """A line that reads like article prose rather than a headline or a link."""
    words = word_count(line)
    return words >= 16 or (words >= 8 and line.rstrip(_CLOSERS_AND_SPACE)[-1:] in ".!؟?")


_CLOSERS_AND_SPACE = " \"'»”’)]"


def is_title_line(line: str) -> bool:
    """A short line that can head an article: at most 20 words, not ending like a sentence or a label."""
    words = word_count(line)
    return 2 <= words <= 20 and line.rstrip(_CLOSERS_AND_SPACE)[-1:] not in ".،,:؛"


def classify_line(line: str) -> str | None:
    """The furniture kind of a line ('source', 'tags', 'share', 'sponsored', 'date', 'separator', 'read_also',
    'related'), or None for article text."""
    norm = normalize(line)
    if _SEPARATOR.match(line) or not re.search(r"[^\W\d_]", line):
        return "separator"
    if _starts_with(norm, READ_ALSO):
        return "read_also"
    if _starts_with(norm, RELATED):
        return "related"
    if _starts_with(norm, SOURCE) and re.match(r"^\s*\S+(?:\s\S+)?\s*[:：\-–—]", line) or norm.strip() in SOURCE:
        return "source"
    if _starts_with(norm, TAGS):
        return "tags"
    if _starts_with(norm, SHARE) and word_count(line) <= _SHARE_MAX_WORDS:
        return "share"
    if _starts_with(norm, SPONSORED) and word_count(line) <= _SHARE_MAX_WORDS:
        return "sponsored"
    if _is_date_line(norm):
        return "date"
    if word_count(line) <= 4 and re.search(r"\s[-–—]\s", line) and not line.rstrip().endswith((".", "؟")):
        return "dateline"  # "عين اليوم – روما", "الرياض - واس"
    return None


def _strip_inline(line: str, removed: list[Removed]) -> str:
    for kind, pattern in (("email", _EMAIL), ("url", _URL)):
        for match in pattern.findall(line):
            removed.append(Removed(kind, match))
        line = pattern.sub(" ", line)
    line = re.sub(r"\(\s*\)", " ", line)  # brackets a removed URL leaves behind
    # Social-media hashtags ("#تيريزا_ماي") are markup around words: keep the words, drop the markup.
    line = re.sub(r"#(\w+)", lambda m: m.group(1).replace("_", " "), line)
    return collapse_spaces(line)


def clean_page(text: str, *, page_id: str | None = None, max_chars: int = MAX_PAGE_CHARS) -> CleanedPage:
    """Split a scraped page into articles (main article first), dropping page furniture.

    Raises InputError when the page is empty, binary, too large, or holds no Arabic text.
    """
    check_page(text, max_chars=max_chars)
    removed: list[Removed] = []
    if looks_like_html(text):
        # Page source pasted or saved as .txt: read the page's text, never its markup, as the article.
        text = html_to_text(text)
        removed.append(Removed("html", "HTML markup (the page source was given; its text was extracted)"))
        check_page(text, max_chars=max_chars)
    text, tags = strip_markup(text)
    if tags:
        removed.append(Removed("markup", f"{tags} HTML tag(s) in the text, with any script or style content"))
    lines = [_strip_inline(line, removed) for line in clean_invisible(text).splitlines()]
    lines = [line for line in lines if line]

    segments: list[dict] = [{"title": None, "lines": []}]
    skipping: str | None = None  # 'related' or 'tags' while dropping the list that follows such a header
    i = 0
    while i < len(lines):
        line = lines[i]
        kind = classify_line(line)
        if kind in ("read_also", "related"):
            rest = _after_marker(line)
            upcoming = _next_content(lines, i + 1)
            if kind == "read_also" and rest and upcoming is not None and is_body_line(lines[upcoming]):
                # "إقرأ أيضاً: <title>" followed by prose: a second article with that title.
                removed.append(Removed(kind, line))
                segments.append({"title": rest, "lines": []})
                skipping, i = None, i + 1
                continue
            if (kind == "read_also" and not rest and upcoming is not None and is_title_line(lines[upcoming])
                    and _next_is_body(lines, upcoming + 1)):
                removed.append(Removed(kind, line))
                segments.append({"title": lines[upcoming], "lines": []})
                skipping, i = None, upcoming + 1
                continue
            removed.append(Removed(kind, line))
            skipping, i = "related", i + 1
            continue
        if kind == "tags":
            removed.append(Removed(kind, line))
            skipping = "tags" if not _after_marker(line) else None
            i += 1
            continue
        if kind is not None:
            removed.append(Removed(kind, line))
            i += 1
            continue
        bullet = _BULLET.match(line)
        if bullet and (skipping == "related" or not is_body_line(line)):
            # A bulleted headline is a list of links, not content; inside a related list even a long one is.
            removed.append(Removed("related", line))
            i += 1
            continue
        if skipping:
            if not is_body_line(line):
                removed.append(Removed(skipping, line))
                i += 1
                continue
            # Prose after a related list: another article begins (its title, if any, was the list's last line).
            skipping = None
            if segments[-1]["lines"]:
                segments.append({"title": None, "lines": []})
        if bullet:
            line = line[bullet.end() :]
        if _inline_title(segments[-1]["lines"], line, lines, i):
            removed.append(Removed("related_title", line))
            i += 1
            continue
        segments[-1]["lines"].append(line)
        i += 1

    articles = []
    for segment in segments:
        article = _segment_to_article(segment["title"], segment["lines"])
        if article is not None:
            articles.append(article)
    if not articles:
        raise InputError("لم يبق نص مقال بعد حذف زوائد الصفحة (المصدر والوسوم والروابط وأزرار المشاركة)")
    base = page_id or content_id(text)
    for k, article in enumerate(articles):
        article.id = base if k == 0 else f"{base}#{k + 1}"
    return CleanedPage(articles=articles, removed=removed)


def _inline_title(kept: list[str], line: str, lines: list[str], i: int) -> bool:
    """Another story's title inside the body (BBC pages carry related stories' titles as short lines between
    paragraphs): a short title-like line with prose before it in this article and prose right after it. A
    headline model that reads it may copy it as this article's headline."""
    if not kept or not is_body_line(kept[-1]) or is_body_line(line) or not is_title_line(line):
        return False
    if not 3 <= word_count(line) <= 14 or line.rstrip(_CLOSERS_AND_SPACE)[-1:] in "!؟?":
        return False
    upcoming = _next_content(lines, i + 1)
    return upcoming is not None and is_body_line(lines[upcoming]) and classify_line(lines[upcoming]) is None


def _next_content(lines: list[str], start: int) -> int | None:
    for j in range(start, len(lines)):
        if classify_line(lines[j]) is None:
            return j
    return None


def _next_is_body(lines: list[str], start: int) -> bool:
    j = _next_content(lines, start)
    return j is not None and is_body_line(lines[j])


_TRAILING_TAGS = re.compile(r"\s+(?:" + "|".join(re.escape(t) for t in ("سمات", "كلمات دلالية", "الوسوم", "وسوم"))
                            + r")\s*:?\s*(?:[^\s.!؟?،]+\s*){1,10}$")


def _segment_to_article(title: str | None, lines: list[str]) -> Article | None:
    lines = list(lines)
    if lines:
        # Some sites glue the tag list onto the last paragraph: "... من الغرق. سمات غرق ليبيا مهاجرين".
        lines[-1] = _TRAILING_TAGS.sub("", lines[-1]).strip()
    if title is None and len(lines) >= 2 and is_title_line(lines[0]) and word_count(lines[0]) < word_count(lines[1]):
        title = lines.pop(0)
    if not lines or not has_arabic(" ".join(lines), minimum=20):
        return None
    return Article(id="", paragraphs=lines, title=title)
