"""Web demo (Gradio) and JSON API in one server: `summarizer serve` (or `python app.py`).

`build_app(engines, settings)` makes both (the API is POST /api/summarize, OpenAPI at /docs; the UI is at /); the
engine the UI starts with and the API serves when a request names none is the one `engines` was given. Importing
this module builds nothing.

Everything a page holds is shown as text, never as markup (a scraped line may carry <img> or ![](...)), and the
batch tab reads only files that were uploaded through the page: the app is mounted on FastAPI, where Gradio's own
path checks are off, so the check is made here.
"""

from __future__ import annotations

import functools
import html
import re
import tempfile
from pathlib import Path

import gradio as gr

from .clean import MAX_PAGE_CHARS
from .corpora import detect_format, read_jsonl
from .errors import InputError, SummarizerError
from .faithfulness import novel_spans
from .generation import GenerationSettings
from .pipeline import read_page_file
from .record import ArticleResult
from .samples import sample_pages
from .service import Engines, build_api, results_to_files, summarize_text
from .settings import ServeSettings, describe

UNSUPPORTED = "غير وارد في المقال"

# Arabic labels for the settings; a field without one is shown with its docstring (so a new setting still appears).
LABELS = {
    "summary_sentences": "أقصى عدد جمل الملخص (للمحرك الاستخراجي)",
    "summary_min_words": "تضاف جملة ثانية ما دام الملخص أقصر من هذا العدد من الكلمات",
    "max_new_tokens": "أقصى عدد رموز للملخص (للنموذج)",
    "headline_max_new_tokens": "أقصى عدد رموز للعنوان (للنموذج)",
    "num_beams": "عرض الحزمة (beams)",
    "num_candidates": "عدد المرشحين المعاد ترتيبهم",
    "guard": "استبدال نص النموذج غير المدعوم بنص من المقال",
    "guard_novel_rate": "أقصى نسبة كلمات غير واردة في المقال يقبلها الحارس (1 = بلا حد)",
    "source_boost": "تفضيل كلمات المقال أثناء التوليد",
    "strict_source": "التوليد من كلمات المقال فقط",
    "model_fields": "ما يكتبه النموذج (headline, summary)؛ فارغ = ما اختير بالقياس",
}


# --- showing page text as text ----------------------------------------------------------------------------
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_{}\[\]()#+\-.!|>~:/@]")


def md_text(text: str) -> str:
    """Text from a page, safe inside Markdown: HTML escaped, and every Markdown character (and those that make a
    URL or address a link) written as a numeric entity, so `<img src=...>`, `![](...)` or a URL shows as the
    characters the page holds and loads nothing."""
    return _MARKDOWN_SPECIAL.sub(lambda m: f"&#{ord(m.group(0))};", html.escape(text, quote=False))


def marked(text: str, source: str) -> list[tuple[str, str | None]]:
    """Pieces of a headline/summary for gr.HighlightedText: words the article does not support are labelled."""
    return [(piece, None if ok else UNSUPPORTED) for piece, ok in novel_spans(text, source)]


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


# --- the two tabs -------------------------------------------------------------------------------------------
def settings_from_ui(values) -> dict:
    """Control values (one per settings field, in field order, as setting_controls made them) -> settings."""
    out = {}
    for info, value in zip(describe(GenerationSettings), values, strict=True):
        # A control left at its default is not a choice: the model's recommended value applies there.
        if value is None or value == info.default:
            continue
        out[info.name] = int(value) if info.type is int and float(value).is_integer() else value
    return out


def summarize_paste(engines: Engines, text, engine, *values):
    """Paste tab: headline, summary, marks, cleaned text of the main article; notes and other articles below."""
    try:
        result = summarize_text(engines, text, settings_from_ui(values), engine=engine)
    except (SummarizerError, ValueError) as exc:
        gr.Warning(f"تعذّر التلخيص: {exc}")
        return "", "", [], "", f"⚠️ تعذّر التلخيص: {md_text(str(exc))}", ""
    main, *others = result["articles"]
    source = main["cleaned_text"] or ""
    marks = marked(main["headline"], source) + [("\n", None)] + marked(main["summary"], source)
    notes = [f"المحرك: `{md_text(result['engine'])}` — الوقت: {result['seconds']:.2f} ث"]
    notes += [f"ملاحظة: {md_text(w)}" for w in main["warnings"]]
    removed = [f"- ({md_text(r['kind'])}) {md_text(r['text'])}" for r in result["removed"]]
    if removed:
        notes.append("**ما أزيل من الصفحة:**\n" + "\n".join(removed))
    other_md = "\n\n".join(f"### مقال آخر في الصفحة: {md_text(a['title'] or '')}\n**العنوان المقترح:** "
                           f"{md_text(a['headline'])}\n\n**الملخص:** {md_text(a['summary'])}" for a in others)
    return main["headline"], main["summary"], marks, main["cleaned_text"], "\n\n".join(notes), other_md


def summarize_files(engines: Engines, files, engine, *values, progress=gr.Progress()):
    """Batch tab: uploaded .txt pages and/or .jsonl files -> a preview table and JSON Lines / CSV downloads."""
    if not files:
        raise gr.Error("ارفع ملفا واحدا على الأقل بصيغة .txt أو .jsonl")
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
    for name, text in progress.tqdm(items, desc="summarizing"):
        try:
            records += summarize_text(engines, text, settings, page_id=name, engine=engine)["articles"]
        except (SummarizerError, ValueError) as exc:
            records.append(ArticleResult.failed(name, str(exc), page=name).to_dict())
    jsonl, csv_path = results_to_files(records, tempfile.mkdtemp(prefix="summaries-"))
    table = [[r.get("page") or "", r.get("headline", ""), r.get("summary", ""), r.get("error") or ""]
             for r in records]
    return table, [jsonl, csv_path]


def setting_controls(cls=GenerationSettings) -> list:
    """One control per settings field, generated from the dataclass (defaults, help and bounds included)."""
    controls = []
    for info in describe(cls):
        label = LABELS.get(info.name, info.doc or info.name)
        common = dict(label=label, info=info.doc if info.name in LABELS else None, elem_id=f"setting-{info.name}")
        bounds = dict(minimum=info.range.low, maximum=info.range.high) if info.range is not None else {}
        if info.type is bool:
            controls.append(gr.Checkbox(value=info.default, **common))
        elif info.choices:
            controls.append(gr.Dropdown(choices=list(info.choices), value=info.default, **common))
        elif info.type is int:
            controls.append(gr.Number(value=info.default, precision=0, **{"minimum": 0, **bounds}, **common))
        elif info.type is float:
            controls.append(gr.Number(value=info.default, **bounds, **common))
        else:  # str, and any type without a dedicated control: typed as text, checked by the settings layer
            controls.append(gr.Textbox(value=str(info.default), **common))
    return controls


def build_demo(engines: Engines) -> gr.Blocks:
    """The two tabs, their callbacks bound to `engines`."""
    with gr.Blocks(title="ملخص الأخبار العربية") as demo:
        gr.Markdown("# ملخص الأخبار العربية\nألصق مقالا إخباريا (حتى من صفحة منسوخة بكل ما فيها) لتحصل على عنوان "
                    "وملخص لكل مقال فيها. الكلمات التي لا يدعمها المقال تظهر مميزة لتتحقق منها.", rtl=True)
        with gr.Accordion("الإعدادات", open=False):
            served = engines.allowed()
            engine_box = gr.Dropdown(served, value=engines.default if engines.default in served else "extractive",
                                     label="المحرك", elem_id="engine")
            controls = setting_controls()
        with gr.Tab("لصق مقال"):
            article_box = gr.Textbox(lines=12, max_length=MAX_PAGE_CHARS, rtl=True, label="نص المقال",
                                     elem_id="article")
            run_button = gr.Button("لخّص", variant="primary", elem_id="summarize")
            headline_box = gr.Textbox(label="العنوان", rtl=True, elem_id="headline")
            summary_box = gr.Textbox(label="الملخص", rtl=True, lines=4, elem_id="summary")
            marks_box = gr.HighlightedText(label="التحقق: ما لا يدعمه المقال مميز", rtl=True, elem_id="marks",
                                           color_map={UNSUPPORTED: "red"}, show_legend=True, combine_adjacent=True)
            notes_md = gr.Markdown(rtl=True, elem_id="notes", sanitize_html=True)
            others_md = gr.Markdown(rtl=True, elem_id="others", sanitize_html=True)
            cleaned_box = gr.Textbox(label="النص كما رآه المحرك (بعد التنظيف)", rtl=True, lines=8, elem_id="cleaned")
            gr.Examples([[p.read_text(encoding="utf-8")] for p in sample_pages()], inputs=[article_box],
                        label="أمثلة")
            run_button.click(functools.partial(summarize_paste, engines), [article_box, engine_box, *controls],
                             [headline_box, summary_box, marks_box, cleaned_box, notes_md, others_md], api_name=False)
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
    """(FastAPI app, Gradio Blocks): the API and the demo mounted on it at /, sharing `engines` (default: the
    default engine) and the server's `settings` (default: ServeSettings' defaults). Builds no engine: each is
    loaded by its first request."""
    engines = engines or Engines()
    settings = settings or ServeSettings()
    demo = build_demo(engines)
    demo.queue(default_concurrency_limit=1, max_size=settings.max_waiting)
    app = gr.mount_gradio_app(build_api(engines, max_waiting=settings.max_waiting), demo, path="/")
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
    print(f"summarizer: serving the demo on http://{settings.host}:{settings.port}/ and the API at /api/summarize")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
