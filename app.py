"""Web demo (Gradio) and JSON API in one server.

    python app.py [--host 127.0.0.1] [--port 7860]

Environment: SUMMARIZER_HOST, SUMMARIZER_PORT, SUMMARIZER_ENGINE (default, extractive or lead: the engine the UI
starts with and the API uses when a request names none). The API is POST /api/summarize (OpenAPI at
/docs); the UI is at /.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import gradio as gr

from summarizer.clean import MAX_PAGE_CHARS
from summarizer.corpora import read_jsonl
from summarizer.errors import SummarizerError
from summarizer.pipeline import read_page_file
from summarizer.service import ENGINE_CHOICES, Engines, build_api, results_to_files, summarize_text

SEEDS = sorted((Path(__file__).parent / "seeds").glob("*.txt"))
engines = Engines()


def settings_from_ui(engine: str, sentences: int, max_new_tokens: int, beams: int) -> dict:
    return {"engine": engine, "summary_sentences": int(sentences), "max_new_tokens": int(max_new_tokens),
            "num_beams": int(beams)}


def summarize_paste(text, engine, sentences, max_new_tokens, beams):
    """Paste tab: headline, summary and cleaned text of the main article; other articles and notes below."""
    try:
        result = summarize_text(engines, text, settings_from_ui(engine, sentences, max_new_tokens, beams))
    except (SummarizerError, ValueError) as exc:
        gr.Warning(str(exc))
        return "", "", "", f"⚠️ {exc}", ""
    main, *others = result["articles"]
    notes = [f"المحرك: `{result['engine']}` — الوقت: {result['seconds']:.2f} ث"]
    notes += [f"ملاحظة: {w}" for w in main["warnings"]]
    removed = [f"- ({r['kind']}) {r['text']}" for r in result["removed"]]
    if removed:
        notes.append("**ما أزيل من الصفحة:**\n" + "\n".join(removed))
    other_md = "\n\n".join(f"### مقال آخر في الصفحة: {a['title'] or ''}\n**العنوان المقترح:** {a['headline']}\n\n"
                           f"**الملخص:** {a['summary']}" for a in others)
    return main["headline"], main["summary"], main["cleaned_text"], "\n\n".join(notes), other_md


def summarize_files(files, engine, sentences, max_new_tokens, beams, progress=gr.Progress()):
    """Batch tab: .txt pages and/or .jsonl files -> a preview table and downloadable JSON Lines / CSV."""
    if not files:
        raise gr.Error("upload at least one .txt or .jsonl file")
    items: list[tuple[str, str]] = []
    records: list[dict] = []
    for file in files:
        path = Path(file if isinstance(file, str) else file.name)
        try:
            if path.suffix.lower() == ".jsonl":
                items += [(f"{path.name}:{a.id}", a.text) for a in read_jsonl(path)]
            else:
                items.append((path.name, read_page_file(path)))
        except SummarizerError as exc:
            records.append({"file": path.name, "error": str(exc)})
    settings = settings_from_ui(engine, sentences, max_new_tokens, beams)
    for name, text in progress.tqdm(items, desc="summarizing"):
        try:
            result = summarize_text(engines, text, settings, page_id=name)
            records += [{"file": name, **article} for article in result["articles"]]
        except (SummarizerError, ValueError) as exc:
            records.append({"file": name, "error": str(exc)})
    jsonl, csv_path = results_to_files(records, tempfile.mkdtemp(prefix="summaries-"))
    table = [[r.get("file", ""), r.get("headline", ""), r.get("summary", ""), r.get("error", "")] for r in records]
    return table, [jsonl, csv_path]


with gr.Blocks(title="ملخص الأخبار العربية") as demo:
    gr.Markdown("# ملخص الأخبار العربية\nألصق مقالا إخباريا (حتى من صفحة منسوخة بكل ما فيها) لتحصل على عنوان "
                "وملخص لكل مقال فيها.", rtl=True)
    with gr.Accordion("الإعدادات", open=False):
        engine_box = gr.Dropdown(list(ENGINE_CHOICES), value=engines.default if engines.default in ENGINE_CHOICES
                                 else "extractive", label="المحرك", elem_id="engine")
        sentences_box = gr.Slider(1, 6, value=2, step=1, label="طول الملخص (جمل، للمحرك الاستخراجي)")
        tokens_box = gr.Slider(32, 256, value=96, step=16, label="أقصى عدد رموز للملخص (للنموذج)")
        beams_box = gr.Slider(1, 4, value=1, step=1, label="عرض الحزمة (beams)")
    settings_inputs = [engine_box, sentences_box, tokens_box, beams_box]
    with gr.Tab("لصق مقال"):
        article_box = gr.Textbox(lines=12, max_length=MAX_PAGE_CHARS, rtl=True, label="نص المقال",
                                 elem_id="article")
        run_button = gr.Button("لخّص", variant="primary", elem_id="summarize")
        headline_box = gr.Textbox(label="العنوان", rtl=True, elem_id="headline")
        summary_box = gr.Textbox(label="الملخص", rtl=True, lines=4, elem_id="summary")
        notes_md = gr.Markdown(rtl=True, elem_id="notes")
        others_md = gr.Markdown(rtl=True, elem_id="others")
        cleaned_box = gr.Textbox(label="النص كما رآه المحرك (بعد التنظيف)", rtl=True, lines=8, elem_id="cleaned")
        gr.Examples([[p.read_text(encoding="utf-8")] for p in SEEDS], inputs=[article_box], label="أمثلة")
        run_button.click(summarize_paste, [article_box, *settings_inputs],
                         [headline_box, summary_box, cleaned_box, notes_md, others_md], api_name=False)
    with gr.Tab("دفعة ملفات"):
        files_box = gr.File(file_count="multiple", file_types=[".txt", ".jsonl"], label="ملفات .txt أو .jsonl")
        batch_button = gr.Button("لخّص الملفات", variant="primary")
        table = gr.Dataframe(headers=["الملف", "العنوان", "الملخص", "خطأ"], wrap=True, label="النتائج")
        downloads = gr.File(label="تنزيل النتائج (JSON Lines / CSV)")
        batch_button.click(summarize_files, [files_box, *settings_inputs], [table, downloads], api_name=False)

demo.queue(default_concurrency_limit=1, max_size=16)
app = gr.mount_gradio_app(build_api(engines), demo, path="/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("SUMMARIZER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SUMMARIZER_PORT", "7860")))
    args = parser.parse_args()
    import uvicorn

    print(f"summarizer: serving the demo on http://{args.host}:{args.port}/ and the API at /api/summarize")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
