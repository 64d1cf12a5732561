"""The editor's desk (Gradio, Arabic, right to left) and the JSON API in one server: `summarizer serve` or
`python app.py`.

`build_app(engines, settings)` makes both (the API is POST /api/summarize and /api/feedback, its docs at /docs; the
desk is at /); the engine the desk starts with and the API serves when a request names none is the one `engines`
was given. Importing this module builds nothing.

The desk: an article (pasted, or fetched from a link by the safe fetcher) on one side, and beside it, for every
article on the page, the ranked headline candidates with their check verdicts (the editor picks one into an
editable headline box), the summary in the length asked for, copy buttons, the words the article does not support
marked, and the cleaned article with the sentences that support the headline and summary highlighted. With a
feedback folder (`--feedback-dir`) the editor's choice can be saved as training data.

Everything a page holds is shown as text, never as markup (a scraped line may carry <img> or ![](...)), and the
batch tab reads only files that were uploaded through the page: the app is mounted on FastAPI, where Gradio's own
path checks are off, so the check is made here.
"""

from __future__ import annotations

import functools
import html
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from .clean import MAX_PAGE_CHARS
from .corpora import detect_format, read_jsonl
from .errors import ConfigError, InputError, InputTooLarge, ModelLoadError, SummarizerError, WorkTooLarge
from .faithfulness import novel_spans
from .feedback import MAX_HEADLINE_CHARS, MAX_SUMMARY_CHARS, Feedback, FeedbackFull, FeedbackStore
from .fetch import MAX_PAGE_BYTES, MAX_URL_CHARS, FetchError, FetchSettings, fetch_page
from .generation import GenerationSettings
from .pipeline import read_page_file
from .record import ArticleResult
from .samples import sample_pages
from .service import Engines, QueueFull, build_api, results_to_files, summarize_text
from .settings import ServeSettings, describe
from .text import split_paragraphs, split_sentences

UNSUPPORTED = "غير وارد في المقال"
SUPPORTS_HEADLINE, SUPPORTS_SUMMARY, SUPPORTS_BOTH = "يدعم العنوان", "يدعم الملخص", "يدعم العنوان والملخص"
MAX_PANELS = 5
"""Articles of one page shown each in its own panel; any further ones are listed under the notes."""
"""One deadline for fetching a linked page, connection, redirects and every byte included."""

# Arabic labels for the settings; a field without one is shown with its docstring (so a new setting still appears;
# a test asks for a label for each).
LABELS = {
    "num_headlines": "عدد العناوين المقترحة",
    "summary_length": "طول الملخص",
    "headline_max_words": "أقصى عدد كلمات العنوان",
    "headline_cut": "أين تُقطع جملة المقال لتصير عنوانا",
    "check": "التحقق بالمدقق المدرَّب (حيث هو مثبت)",
    "headline_min_support": "أدنى ثقة للمدقق كي يُعرض عنوان كتبه النموذج (وإلا فعنوان من جمل المقال؛ 1: لا يُعرض أبدا)",
    "summary_sentences": "أقصى عدد جمل الملخص (للمحرك الاستخراجي)",
    "summary_min_words": "تضاف جملة ثانية ما دام الملخص أقصر من هذا العدد من الكلمات",
    "max_new_tokens": "أقصى عدد رموز للملخص (للنموذج)",
    "headline_max_new_tokens": "أقصى عدد رموز للعنوان (للنموذج)",
    "num_beams": "عرض الحزمة في البحث الحزمي",
    "num_candidates": "عدد المرشحين المعاد ترتيبهم",
    "length_penalty": "عقوبة الطول في البحث الحزمي",
    "no_repeat_ngram_size": "منع تكرار أي تتابع كلمات بهذا الطول (0 = بلا منع)",
    "repetition_penalty": "عقوبة التكرار (1 = بلا عقوبة)",
    "guard": "استبدال نص النموذج غير المدعوم بنص من المقال",
    "guard_novel_rate": "أقصى نسبة كلمات غير واردة في المقال يقبلها الحارس (1 = بلا حد)",
    "source_boost": "تفضيل كلمات المقال أثناء التوليد",
    "strict_source": "التوليد من كلمات المقال فقط",
    "model_tasks": "ما يكتبه النموذج (headline, summary)؛ فارغ = ما اختير بالقياس",
    "max_input_tokens": "أقصى عدد رموز يراها النموذج من المقال (0 = ما تدرّب عليه)",
    "batch_size": "عدد المقالات في كل دفعة",
}
CHOICE_LABELS = {"summary_length": {"sentence": "جملة واحدة", "short": "فقرة قصيرة (2–3 جمل)",
                                    "bullets": "نقاط (3–5 وقائع)"},
                 "headline_cut": {"model": "بالقواعد، ويصحّحها النموذج حيث لا يُختم عنوان",
                                  "rules": "عند أقرب فاصلة (بالقواعد)"}}
COMMON = ("num_headlines", "summary_length", "headline_max_words")
"""The settings shown at the top; the others are under an accordion."""
VERDICTS = {"supported": "مدعوم", "unsupported": "غير مدعوم", "contradicted": "يناقض المقال"}
CHECKED_BY = {"checker": "المدقق المدرَّب", "guard": "الحارس اللفظي"}
REMOVED_KINDS = {
    "source": "المصدر", "tags": "الوسوم", "share": "المشاركة والمتابعة", "sponsored": "تنويه الرعاية",
    "date": "التاريخ",
    "separator": "فاصل", "read_also": "اقرأ أيضا", "related": "مواد ذات صلة",
    "related_title": "عنوان قصة أخرى داخل النص (أو عنوان فرعي)", "dateline": "سطر المكان",
    "email": "بريد إلكتروني", "url": "رابط", "html": "مصدر صفحة HTML", "markup": "وسوم HTML",
}
"""The cleaner's kinds of page furniture (clean.Removed.kind), as the desk names them."""
REMOVED_OWN_WORDS = {"html": "أُعطي مصدر الصفحة فاستُخرج نصها",
                     "markup": "وسوم HTML في النص مع ما فيها من برمجة أو تنسيق"}
"""Kinds whose `text` is the cleaner's own description (in English), not the page's: the desk says it in Arabic."""
FIELD_NAMES = {"headline": "العنوان", "summary": "الملخص"}
WARNING_TITLE, ERROR_TITLE, INFO_TITLE = "تنبيه", "خطأ", "تم"


# --- showing page text as text ----------------------------------------------------------------------------
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_{}\[\]()#+\-.!|>~:/@]")


def md_text(text: str) -> str:
    """Text from a page, safe inside Markdown: HTML escaped, and every Markdown character (and those that make a
    URL or address a link) written as a numeric entity, so `<img src=...>`, `![](...)` or a URL shows as the
    characters the page holds and loads nothing. Never inside a code span, where entities are shown as typed."""
    return _MARKDOWN_SPECIAL.sub(lambda m: f"&#{ord(m.group(0))};", html.escape(text, quote=False))


def marked(text: str, source: str) -> list[tuple[str, str | None]]:
    """Pieces of a headline/summary for gr.HighlightedText: words the article does not support are labelled."""
    return [(piece, None if ok else UNSUPPORTED) for piece, ok in novel_spans(text, source)]


# --- errors in Arabic -----------------------------------------------------------------------------------------
INPUT_MESSAGES = (
    ("the input is empty", "النص فارغ: ألصق مقالا أو رابطه"),
    ("the input has no Arabic text", "لا يحوي النص كلاما عربيا"),
    ("the input looks binary", "يبدو النص ملفا ثنائيا لا نصا"),
    ("no article text was left", "لم يبق نص مقال بعد حذف ما حوله من عناصر الصفحة"),
    ("no article text found", "لم يُعثر على نص مقال في الصفحة"),
    ("only files uploaded through this page", "لا يُلخَّص إلا ما رُفع عبر هذه الصفحة"),
    ("not valid UTF-8", "الملف ليس نصا بترميز UTF-8"),
    ("invalid JSON", "سطر JSON غير صالح"),
    ("no link was given", "الصق رابط المقال أولا"),
)
"""Cleaning's and reading's InputErrors by their wording: this only chooses the Arabic line shown (programs act on
the error type). An unknown one gets the general line."""
FETCH_MESSAGES = {
    "refused": "رُفض الرابط: يشير إلى عنوان داخلي أو غير مسموح (لا يجلب الخادم صفحات شبكته)",
    "timeout": "انتهت مهلة جلب الصفحة",
    "dns": "تعذّر العثور على الموقع: تحقق من الرابط",
    "network": "تعذّر الاتصال بالموقع",
    "http-status": "أجاب الموقع بخطأ بدل الصفحة",
    "not-html": "الرابط لا يشير إلى صفحة ويب (HTML)",
    "too-large": f"الصفحة أكبر من الحد ({MAX_PAGE_BYTES // 10**6} ميغابايت)",
    "redirects": "تحويلات كثيرة من الرابط",
    "no-article": "لم يُعثر على نص مقال في الصفحة",
    "bad-url": "الرابط يجب أن يبدأ بـ http:// أو https://",
}


def arabic_error(exc: Exception) -> str:
    """The one Arabic line the desk shows for an error (its English message stays in the API and the records)."""
    message = str(exc)
    if isinstance(exc, FetchError):
        return FETCH_MESSAGES.get(exc.kind, "تعذّر جلب الصفحة")
    if isinstance(exc, QueueFull):
        return "الخادم مشغول بطلبات أخرى؛ أعد المحاولة بعد قليل"
    if isinstance(exc, ModelLoadError):
        return "تعذّر تحميل النموذج على الخادم"
    if isinstance(exc, InputTooLarge):
        return f"النص أطول من الحد المسموح لصفحة واحدة ({MAX_PAGE_CHARS:,} حرف)"
    if isinstance(exc, WorkTooLarge):
        return "تطلب الإعدادات عملا أكثر مما يقبله الخادم في طلب واحد: قلّل عرض الحزمة أو عدد الرموز"
    if isinstance(exc, FeedbackFull):
        return "ملف الملاحظات ممتلئ: انقله ليبدأ ملف جديد"
    if isinstance(exc, (ConfigError, ValueError)):
        named = [LABELS[name] for name in LABELS if re.search(rf"\b{name}\b", message)]
        if named:
            return "إعداد غير صالح: " + "، ".join(named)
        return "المحرك المختار لا يقدمه هذا الخادم" if "engine" in message else "إعداد غير صالح"
    return next((arabic for english, arabic in INPUT_MESSAGES if english in message), "تعذّر التلخيص")


def warn(exc: Exception) -> str:
    """Show `exc` as an Arabic warning toast; returns its line."""
    line = arabic_error(exc)
    gr.Warning(line, title=WARNING_TITLE)
    return line


# --- uploads ------------------------------------------------------------------------------------------------
def upload_folder() -> Path:
    return Path(gr.utils.get_upload_folder()).resolve()


def uploaded_path(file) -> Path:
    """The path of a file Gradio received as an upload; anything else (a crafted path to any server file) is
    refused with the same message whether or not it exists."""
    raw = file if isinstance(file, str) else getattr(file, "path", None) or getattr(file, "name", None)
    if not isinstance(raw, str) or not raw:
        raise InputError("only files uploaded through this page can be summarized")
    path = Path(raw).resolve()
    if not path.is_relative_to(upload_folder()) or not path.is_file():
        raise InputError("only files uploaded through this page can be summarized")
    return path


# --- settings controls ----------------------------------------------------------------------------------------
def settings_from_ui(values) -> dict:
    """Control values (one per settings field, in field order, as setting_controls made them) -> settings."""
    out = {}
    for info, value in zip(describe(GenerationSettings), values, strict=True):
        # A control left at its default is not a choice: the model's recommended value applies there.
        if value is None or value == info.default:
            continue
        out[info.name] = int(value) if info.type is int and float(value).is_integer() else value
    return out


def setting_control(info):
    """The control of one settings field (default, help and bounds from the dataclass)."""
    label = LABELS.get(info.name, info.doc or info.name)
    common = dict(label=label, elem_id=f"setting-{info.name}")  # the docstring is English: the --help and /docs
    bounds = dict(minimum=info.range.low, maximum=info.range.high) if info.range is not None else {}
    if info.type is bool:
        return gr.Checkbox(value=info.default, **common)
    if info.choices:
        words = CHOICE_LABELS.get(info.name, {})
        if not set(info.choices) <= set(words):  # another class's field of that name, or a choice added since
            words = {}
        return gr.Dropdown(choices=[(words.get(c, str(c)), c) for c in info.choices], value=info.default, **common)
    if info.type is int:
        return gr.Number(value=info.default, precision=0, **{"minimum": 0, **bounds}, **common)
    if info.type is float:
        return gr.Number(value=info.default, **bounds, **common)
    return gr.Textbox(value=str(info.default), **common)  # str and others: typed as text, checked by the settings


def setting_controls(cls=GenerationSettings, *, only=None, skip=()) -> list:
    """One control per settings field, in field order, generated from the dataclass: the fields in `only` (all
    when None) that are not in `skip`."""
    return [setting_control(info) for info in describe(cls)
            if (only is None or info.name in only) and info.name not in skip]


# --- one article's results ----------------------------------------------------------------------------------
def verdict_words(verdict, score=None, by=None) -> str:
    """"مدعوم · 92% (المدقق المدرَّب)"; unknown values are shown as text."""
    words = VERDICTS.get(verdict, str(verdict) if verdict else "لم يُفحص")
    if isinstance(score, (int, float)) and not isinstance(score, bool):
        words += f" · {score:.0%}"
    return words + (f" ({CHECKED_BY.get(by, by)})" if by else "")


def candidate_choices(record: dict) -> list[tuple[str, str]]:
    """(label, headline) per candidate, best first: the label carries its rank, verdict and score."""
    return [(f"{k}. {c['text']} — {verdict_words(c.get('verdict'), c.get('score'))}", c["text"])
            for k, c in enumerate(record.get("headline_candidates") or [], 1) if c.get("text")]


def summary_text(record: dict) -> str:
    """The summary as the editor reads and copies it: its key facts one per line for a bullets summary."""
    points = record.get("summary_points") or []
    return "\n".join(f"• {p}" for p in points) if points else record.get("summary", "")


def checks_line(record: dict) -> str:
    """Verdict per field, and the record's own cautions, as a Markdown paragraph."""
    checks = record.get("checks") or {}
    parts = [f"**{FIELD_NAMES[name]}:** {md_text(verdict_words(c.get('verdict'), c.get('score'), c.get('by')))}"
             for name, c in checks.items() if name in FIELD_NAMES and isinstance(c, dict)]
    line = " — ".join(parts) or "لم يُفحص بالمدقق: الكلمات غير الواردة في المقال مميزة أدناه."
    return "\n\n".join([line, *(f"ملاحظة: {md_text(w)}" for w in record.get("warnings") or [])])


def headline_evidence(record: dict, headline: str | None) -> list[dict]:
    """Evidence for the headline shown: its candidate's, else the headline check's."""
    for candidate in record.get("headline_candidates") or []:
        if candidate.get("text") == headline:
            return candidate.get("evidence") or []
    return ((record.get("checks") or {}).get("headline") or {}).get("evidence") or []


def article_sentences(text: str) -> list[list[str]]:
    """The article's sentences by paragraph, numbered as the checker numbers its evidence (flattened, in order)."""
    return [split_sentences(p) for p in split_paragraphs(text)]


def evidence_view(record: dict, headline: str | None = None) -> list[tuple[str, str | None]]:
    """The cleaned article for gr.HighlightedText: the sentences that support the headline (`headline`, or the
    record's) and the summary labelled. Evidence is matched by its sentence text, else by its index."""
    def picked(evidence) -> tuple[set[int], set[str]]:
        evidence = [e for e in evidence or [] if isinstance(e, dict)]
        return ({e["sentence"] for e in evidence if isinstance(e.get("sentence"), int) and not e.get("text")},
                {" ".join(str(e.get("text", "")).split()) for e in evidence if e.get("text")})

    heads = picked(headline_evidence(record, record.get("headline") if headline is None else headline))
    sums = picked(((record.get("checks") or {}).get("summary") or {}).get("evidence"))
    pieces: list[tuple[str, str | None]] = []
    k = 0
    for p, sentences in enumerate(article_sentences(record.get("cleaned_text") or "")):
        if p:
            pieces.append(("\n\n", None))
        for s, sentence in enumerate(sentences):
            key = " ".join(sentence.split())
            h = k in heads[0] or key in heads[1]
            m = k in sums[0] or key in sums[1]
            pieces.append((sentence, SUPPORTS_BOTH if h and m else SUPPORTS_HEADLINE if h else
                           SUPPORTS_SUMMARY if m else None))
            if s < len(sentences) - 1:
                pieces.append((" ", None))
            k += 1
    return pieces


def article_title(record: dict, k: int) -> str:
    name = f"### المقال {k + 1}" + (" (مقال آخر في الصفحة)" if record.get("secondary") else "")
    return name + (f": {md_text(record['title'])}" if record.get("title") else "")


@dataclass
class Panel:
    """One article's place on the desk: its results (beside the article) and its evidence view (under it)."""

    box: gr.Column
    title: gr.Markdown
    candidates: gr.Radio
    headline: gr.Textbox
    summary: gr.Textbox
    checks: gr.Markdown
    marks: gr.HighlightedText
    save: gr.Button
    evidence_box: gr.Column
    evidence: gr.HighlightedText

    def outputs(self) -> list:
        return [self.box, self.title, self.candidates, self.headline, self.summary, self.checks, self.marks,
                self.save, self.evidence_box, self.evidence]


def panel_updates(record: dict | None, k: int) -> list:
    """Updates for Panel.outputs(): the article's results, or the panel hidden (record None)."""
    if record is None:
        return [gr.update(visible=False)] + [gr.update()] * 7 + [gr.update(visible=False), gr.update()]
    source = record.get("cleaned_text") or ""
    choices = candidate_choices(record)
    offered = [value for _, value in choices]
    picked = record["headline"] if record["headline"] in offered else (offered or [None])[0]
    marks = marked(record["headline"], source) + [("\n", None)] + marked(summary_text(record), source)
    return [gr.update(visible=True), article_title(record, k),
            gr.update(choices=choices, value=picked, visible=bool(choices)),
            record["headline"], summary_text(record), checks_line(record), marks, gr.update(),
            gr.update(visible=True), evidence_view(record)]


def removed_lines(removed: list[dict]) -> str:
    """What cleaning dropped, each with its kind in Arabic, as Markdown (page text as text)."""
    lines = []
    for item in removed:
        kind = REMOVED_KINDS.get(item.get("kind"), md_text(str(item.get("kind"))))
        text = REMOVED_OWN_WORDS.get(item.get("kind"))
        if item.get("kind") == "markup" and (count := re.match(r"\d+", item.get("text") or "")):
            text = f"{count.group(0)} من {text}"
        lines.append(f"- **{kind}:** {text or md_text(item.get('text') or '')}")
    return "**ما أزيل من الصفحة:**\n" + "\n".join(lines) if lines else ""


def articles_count(n: int) -> str:
    """"مقالان", "3 مقالات", "11 مقالا": the noun agrees with the number as Arabic counts."""
    return {1: "مقال واحد", 2: "مقالان"}.get(n) or (f"{n} مقالات" if 3 <= n % 100 <= 10 else f"{n} مقالا"
                                                  if n % 100 > 10 else f"{n} مقال")


def desk_outputs(result: dict | None, *, error: str = "") -> list:
    """Everything one summarizing shows: [state, engine line, notes, removed, *each panel's outputs]."""
    if result is None:
        return [None, "", f"⚠️ {error}", ""] + [u for k in range(MAX_PANELS) for u in panel_updates(None, k)]
    articles = result["articles"]
    engine = f"{result['engine']} — {result['seconds']:.2f} ث"
    rest = [f"- **المقال {k + 1}:** {md_text(a['headline'])} — {md_text(a['summary'])}"
            for k, a in enumerate(articles) if k >= MAX_PANELS]
    notes = f"في الصفحة {articles_count(len(articles))}، لكل منها عناوينه وملخصه" if len(articles) > 1 else ""
    if rest:
        notes += "؛ ما لا يتسع له المكتب:\n" + "\n".join(rest)
    panels = [u for k in range(MAX_PANELS) for u in panel_updates(articles[k] if k < len(articles) else None, k)]
    return [result, engine, notes, removed_lines(result["removed"]), *panels]


# --- the desk's callbacks -----------------------------------------------------------------------------------
def summarize_paste(engines: Engines, text, engine, *values) -> list:
    """Summarize the pasted page: see desk_outputs."""
    settings = settings_from_ui(values)
    try:
        result = summarize_text(engines, text, settings, engine=engine)
    except (SummarizerError, ValueError) as exc:
        return desk_outputs(None, error=warn(exc))
    return desk_outputs({**result, "summary_length": settings.get("summary_length", "sentence")})


def summarize_url(engines: Engines, fetch: FetchSettings, url, engine, *values) -> list:
    """Fetch the linked page (the batch fetcher's rules, `fetch`'s switches) into the article box and summarize it:
    [article text, *desk_outputs]."""
    try:
        if not (url or "").strip():
            raise InputError("no link was given")
        text = fetch_page(url.strip(), fetch)
    except (FetchError, InputError) as exc:
        return [gr.update(), *desk_outputs(None, error=warn(exc))]
    return [text[:MAX_PAGE_CHARS], *summarize_paste(engines, text, engine, *values)]


def choose_candidate(k: int, state, choice):
    """The editor picked a candidate: it goes into the headline box, and its evidence is highlighted."""
    if not state or choice is None or k >= len(state["articles"]):
        return gr.update(), gr.update()
    return choice, evidence_view(state["articles"][k], choice)


def save_choice(store: FeedbackStore | None, k: int, state, choice, headline, summary) -> str:
    """Save what the editor kept for article `k` (the feedback folder's file); returns the status line."""
    if store is None:
        gr.Warning("لا يحفظ هذا الخادم الاختيارات: شغّله مع ‎--feedback-dir", title=WARNING_TITLE)
        return ""
    if not state or k >= len(state["articles"]):
        gr.Warning("لخّص مقالا أولا", title=WARNING_TITLE)
        return ""
    record = state["articles"][k]
    texts = [c.get("text") for c in record.get("headline_candidates") or []]
    item = Feedback(article=record.get("cleaned_text") or "", headline=(headline or "").strip(),
                    summary=(summary or "").strip(), candidates=list(record.get("headline_candidates") or []),
                    chosen=texts.index(choice) if choice in texts else None, engine_summary=summary_text(record),
                    summary_length=state.get("summary_length", "sentence"), engine=state.get("engine", ""))
    bad = item.problem_fields()
    if bad:
        line = {"headline": f"العنوان فارغ أو أطول من {MAX_HEADLINE_CHARS} حرفا",
                "summary": f"الملخص أطول من {MAX_SUMMARY_CHARS:,} حرف"}.get(next(iter(bad)), "لا يمكن حفظ هذا الاختيار")
        gr.Warning(line, title=WARNING_TITLE)
        return ""
    try:
        store.save(item)
    except SummarizerError as exc:
        gr.Warning(arabic_error(exc) if isinstance(exc, FeedbackFull) else "تعذّر حفظ الاختيار", title=WARNING_TITLE)
        return ""
    gr.Info("حُفظ الاختيار", title=INFO_TITLE)
    return f"حُفظ اختيار المقال {k + 1}"


# --- the batch tab --------------------------------------------------------------------------------------------
def summarize_files(engines: Engines, files, engine, *values, progress=gr.Progress()):
    """Batch tab: uploaded .txt pages and/or .jsonl files -> a preview table and JSON Lines / CSV downloads."""
    if not files:
        raise gr.Error("ارفع ملفا واحدا على الأقل بصيغة .txt أو .jsonl", title=ERROR_TITLE)
    items: list[tuple[str, str]] = []
    records: list[dict] = []
    for file in files:
        try:
            path = uploaded_path(file)
            if detect_format(path) == "jsonl":
                for article, problem in read_jsonl(path, errors="collect"):
                    if problem is not None:
                        records.append(ArticleResult.failed(f"{path.name}:{problem.line}", str(problem),
                                                            page=path.name).to_dict())
                    else:
                        items.append((f"{path.name}:{article.id}", article.text))
            else:
                items.append((path.name, read_page_file(path)))
        except SummarizerError as exc:
            name = Path(str(getattr(file, "name", file))).name
            records.append(ArticleResult.failed(name, str(exc), page=name).to_dict())
    settings = settings_from_ui(values)
    for name, text in progress.tqdm(items, desc="جارٍ التلخيص"):
        try:
            records += summarize_text(engines, text, settings, page_id=name, engine=engine)["articles"]
        except (SummarizerError, ValueError) as exc:
            records.append(ArticleResult.failed(name, str(exc), page=name).to_dict())
    jsonl, csv_path = results_to_files(records, tempfile.mkdtemp(prefix="summaries-"))
    table = [[r.get("page") or "", r.get("headline", ""), r.get("summary", ""),
              arabic_error(InputError(r["error"])) if r.get("error") else ""] for r in records]
    return table, [jsonl, csv_path]


# --- the page -----------------------------------------------------------------------------------------------
CSS = """
.gradio-container { direction: rtl; }
.gradio-container textarea, .gradio-container input[type=text] { text-align: right; }
.gradio-container #url textarea { direction: ltr; text-align: left; }
.gradio-container .top-panel { right: auto; left: var(--block-label-margin); }
.gradio-container .textfield { word-break: normal; overflow-wrap: break-word; }
.gradio-container .token-container { max-width: 100%; }
.toast-title.warning, .toast-title.info, .toast-title.error, .toast-title.success { font-size: 0; }
.toast-title.warning::before { content: "تنبيه"; font-size: var(--text-md); }
.toast-title.info::before, .toast-title.success::before { content: "تم"; font-size: var(--text-md); }
.toast-title.error::before { content: "خطأ"; font-size: var(--text-md); }
"""
"""The whole desk reads right to left: columns start at the right, labels and text are right-aligned, a field's
copy button sits at its left (Gradio's top-right corner would cover the label's start), and highlighted text
wraps between words (Gradio breaks anywhere, which splits Arabic words and their letter joins). A toast's title is
its type in English whatever title the app gives (Gradio 6): the English is hidden and the Arabic shown instead."""


def build_panel(k: int, feedback: bool) -> Panel:
    """One article's results (in the results column); its evidence view is added by build_evidence."""
    with gr.Column(visible=False, elem_id=f"panel-{k}") as box:
        title = gr.Markdown(elem_id=f"title-{k}", sanitize_html=True)
        candidates = gr.Radio(label="العناوين المقترحة (الأفضل أولا): اختر واحدا", rtl=True, visible=False,
                              elem_id=f"candidates-{k}")
        headline = gr.Textbox(label="العنوان (يمكن تعديله)", rtl=True, buttons=["copy"], elem_id=f"headline-{k}")
        summary = gr.Textbox(label="الملخص (يمكن تعديله)", rtl=True, lines=4, buttons=["copy"],
                             elem_id=f"summary-{k}")
        checks = gr.Markdown(elem_id=f"checks-{k}", sanitize_html=True)
        marks = gr.HighlightedText(label="ما لا يدعمه المقال مميز", rtl=True, color_map={UNSUPPORTED: "red"},
                                   show_legend=True, combine_adjacent=True, elem_id=f"marks-{k}")
        save = gr.Button("حفظ الاختيار", visible=feedback, elem_id=f"save-{k}")
    return Panel(box, title, candidates, headline, summary, checks, marks, save, None, None)


def build_evidence(panel: Panel, k: int) -> None:
    with gr.Column(visible=False, elem_id=f"evidence-box-{k}") as box:
        panel.evidence = gr.HighlightedText(
            label=f"المقال {k + 1} بعد التنظيف: الجمل الداعمة مظللة", rtl=True, show_legend=True,
            combine_adjacent=False, elem_id=f"evidence-{k}",
            color_map={SUPPORTS_HEADLINE: "green", SUPPORTS_SUMMARY: "blue", SUPPORTS_BOTH: "purple"})
    panel.evidence_box = box


def build_desk(engines: Engines, settings: ServeSettings, store: FeedbackStore | None, engine_box, controls):
    """The desk tab: the article (pasted or linked) and its evidence on one side, the results beside them."""
    inputs = [engine_box, *controls]
    state = gr.State(None)
    panels: list[Panel] = []
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            with gr.Row():
                url_box = gr.Textbox(label="رابط المقال", placeholder="https://…", rtl=False, scale=4,
                                     max_length=MAX_URL_CHARS, elem_id="url")
                fetch_button = gr.Button("اجلب ولخّص", scale=1, elem_id="fetch")
            article_box = gr.Textbox(lines=12, max_length=MAX_PAGE_CHARS, rtl=True, label="نص المقال (أو الصفحة كلها)",
                                     elem_id="article")
            run_button = gr.Button("لخّص", variant="primary", elem_id="summarize")
            evidence_slot = gr.Column()
        with gr.Column(scale=1):
            engine_line = gr.Textbox(label="المحرك والوقت", interactive=False, elem_id="engine-line")
            for k in range(MAX_PANELS):
                panels.append(build_panel(k, store is not None))
            notes_md = gr.Markdown(elem_id="notes", sanitize_html=True)
            removed_md = gr.Markdown(elem_id="removed", sanitize_html=True)
            saved_line = gr.Markdown(elem_id="saved")
    with evidence_slot:
        for k, panel in enumerate(panels):
            build_evidence(panel, k)
    gr.Examples([[p.read_text(encoding="utf-8")] for p in sample_pages()], inputs=[article_box], label="أمثلة")
    outputs = [state, engine_line, notes_md, removed_md, *[o for p in panels for o in p.outputs()]]
    run_button.click(functools.partial(summarize_paste, engines), [article_box, *inputs], outputs, api_name=False)
    fetch_button.click(functools.partial(summarize_url, engines, settings), [url_box, *inputs],
                       [article_box, *outputs], api_name=False)
    for k, panel in enumerate(panels):
        panel.candidates.input(functools.partial(choose_candidate, k), [state, panel.candidates],
                               [panel.headline, panel.evidence], api_name=False)
        panel.save.click(functools.partial(save_choice, store, k),
                         [state, panel.candidates, panel.headline, panel.summary], [saved_line], api_name=False)


def build_demo(engines: Engines, settings: ServeSettings | None = None, store: FeedbackStore | None = None
               ) -> gr.Blocks:
    """The desk and the batch tab, their callbacks bound to `engines`."""
    settings = settings or ServeSettings()
    with gr.Blocks(title="مكتب التحرير: عناوين الأخبار العربية وملخصاتها") as demo:
        gr.Markdown("# مكتب التحرير\nألصق مقالا إخباريا (ولو صفحة منسوخة بكل ما فيها) أو رابطه، فتحصل لكل مقال فيها "
                    "على عناوين مقترحة مع حكم التحقق من كل منها، وملخص بالطول الذي تختاره، والجمل الداعمة مظللة في "
                    "المقال. الكلمات التي لا يدعمها المقال مميزة لتتحقق منها.", rtl=True)
        served = engines.allowed()
        with gr.Row():
            engine_box = gr.Dropdown(served, value=engines.default if engines.default in served else "extractive",
                                     label="المحرك", elem_id="engine")
            common = setting_controls(only=COMMON)
        with gr.Accordion("إعدادات أخرى", open=False):
            rest = setting_controls(skip=COMMON)
        by_name = {control.elem_id.removeprefix("setting-"): control for control in common + rest}
        controls = [by_name[info.name] for info in describe(GenerationSettings)]  # settings_from_ui's order
        with gr.Tab("المكتب"):
            build_desk(engines, settings, store, engine_box, controls)
        with gr.Tab("دفعة ملفات"):
            files_box = gr.File(file_count="multiple", file_types=[".txt", ".jsonl"], label="ملفات .txt أو .jsonl",
                                elem_id="files")
            batch_button = gr.Button("لخّص الملفات", variant="primary")
            table = gr.Dataframe(headers=["الصفحة", "العنوان", "الملخص", "خطأ"], wrap=True, label="النتائج")
            downloads = gr.File(label="تنزيل النتائج (JSON Lines / CSV)")
            batch_button.click(functools.partial(summarize_files, engines), [files_box, engine_box, *controls],
                               [table, downloads], api_name=False)
    return demo


def build_app(engines: Engines | None = None, settings: ServeSettings | None = None):
    """(FastAPI app, Gradio Blocks): the API and the desk mounted on it at /, sharing `engines` (default: the
    default engine) and the server's `settings` (default: ServeSettings' defaults; a feedback folder there turns
    saving on). Builds no engine: each is loaded by its first request."""
    engines = engines or Engines()
    settings = settings or ServeSettings()
    store = FeedbackStore(settings.feedback_dir) if settings.feedback_dir else None
    demo = build_demo(engines, settings, store)
    demo.queue(default_concurrency_limit=1, max_size=settings.max_waiting)
    api = build_api(engines, max_waiting=settings.max_waiting, fetch=settings, feedback=store)
    app = gr.mount_gradio_app(api, demo, path="/", css=CSS,
                              footer_links=[{"label": "توثيق الواجهة البرمجية (API)", "url": "/docs"}])
    # Gradio checks that a file given to a function was uploaded (is in its upload folder) only for apps that were
    # launch()ed; a mounted app never is, and a crafted request could then name any server file, which Gradio
    # copies into its cache before our function runs. Mark the app launched so that check is on (uploaded_path
    # checks again).
    demo.has_launched = True
    return app, demo


def serve(engines: Engines, settings: ServeSettings) -> None:
    """Build the app and serve it on settings.host:settings.port until interrupted."""
    import uvicorn

    app, _ = build_app(engines, settings)
    print(f"summarizer: serving the desk on http://{settings.host}:{settings.port}/ and the API at /api/summarize "
          f"(docs at /docs){'; saving feedback to ' + settings.feedback_dir if settings.feedback_dir else ''}")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
