"""Comparable numbers (XL-Sum scorer, xlsum/title protocols, TSV reader) and faithfulness in evaluation."""

import json
import math
import re
from pathlib import Path

import pytest

from summarizer.article import Article
from summarizer.corpora import read_corpus, read_tsv
from summarizer.engines import ExtractiveEngine, LeadEngine
from summarizer.errors import InputError
from summarizer.evaluation import evaluate, format_table, prepare
from summarizer.generation import GenerationSettings
from summarizer.rouge import score_pairs
from tests.test_corpora import BODY, LEAD

# Pairs whose words differ only by inflection: a stemming scorer must see overlap the stem-free one misses.
PAIRS = [("ذهبت البنت الى المدارس في الصباح الباكر", "ذهب الولد إلى المدرسة صباحا"),
         ("أعلنت الحكومة عن خطط جديدة للاقتصاد", "الحكومة تعلن خطة جديدة لدعم الاقتصاد"),
         ("المنتخب السعودي يصل إلى موسكو", "وصل المنتخب السعودي إلى موسكو استعدادا لكأس العالم")]


def test_xlsum_scorer_gives_the_package_numbers_offline():
    import nltk
    from multilingual_rouge import rouge_scorer

    from summarizer.rouge import NLTK_DATA

    ours = score_pairs([p for p, _ in PAIRS], [r for _, r in PAIRS], scorer="xlsum")
    nltk.data.path.append(str(NLTK_DATA))  # what the package itself needs, offline
    package = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True, lang="arabic")
    for (pred, ref), mine in zip(PAIRS, ours):
        theirs = package.score(ref, pred)
        for key in ("rouge1", "rouge2", "rougeL"):
            assert mine[key] == pytest.approx(theirs[key].fmeasure)
    project = score_pairs([p for p, _ in PAIRS], [r for _, r in PAIRS])
    assert sum(o["rouge1"] for o in ours) > sum(p["rouge1"] for p in project)  # stemming finds more overlap


def test_xlsum_protocol_drops_the_first_paragraph_and_uses_independent_abstracts():
    abstract = "تطلق وزارة الصحة حملة لتطعيم الأطفال في البلاد."
    independent = Article(id="a", paragraphs=[LEAD, *BODY.split("\n")], reference=abstract, source="BBC")
    repeating = Article(id="b", paragraphs=[LEAD, *BODY.split("\n")], reference=LEAD[:60], source="SkyNews")
    missing = Article(id="c", paragraphs=[LEAD, *BODY.split("\n")], source="CNN")
    prepared = prepare([independent, repeating, missing], "xlsum")
    assert prepared.references == [abstract] and prepared.inputs[0].paragraphs == BODY.split("\n")
    assert prepared.skipped == {"abstract repeats the lead": 1, "no abstract": 1}


def test_title_protocol_and_tsv_reader(tmp_path):
    path = tmp_path / "titles.tsv"
    path.write_text("document\ttitle\n" + f"{LEAD} {BODY.replace(chr(10), ' ')}\tحملة تطعيم وطنية\n"
                    + f"{BODY.replace(chr(10), ' ')}\tفرق طبية متنقلة\n", encoding="utf-8")
    articles = list(read_corpus(path))
    assert [a.title for a in articles] == ["حملة تطعيم وطنية", "فرق طبية متنقلة"]
    assert len(prepare(articles, "headline").inputs) == 0  # one paragraph only: the headline protocol skips them
    title = prepare(articles, "title")
    assert len(title.inputs) == 2 and title.references[1] == "فرق طبية متنقلة"
    report = evaluate([LeadEngine(1)], articles, "title", GenerationSettings(), scorer="xlsum", progress=False)
    assert report["scorer"] == "xlsum" and "bleu" in report["rows"][0]


@pytest.mark.parametrize("line, problem", [("only one field", "got 1 field"), ("a\tb\tc", "got 3 field"),
                                           ("\tعنوان", "got 2 field\\(s\\) with an empty one")])
def test_a_malformed_tsv_line_is_named(tmp_path, line, problem):
    path = tmp_path / "bad.tsv"
    path.write_text(f"نص المقال\tعنوانه\n{line}\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"bad.tsv:2: expected document<TAB>title, {problem}"):
        list(read_tsv(path))


def test_no_articles_is_a_clear_error_not_a_nan_report(tmp_path):
    articles = [Article(id="x", paragraphs=["فقرة واحدة قصيرة فقط."])]
    with pytest.raises(InputError, match="no articles to score for protocol 'lead'.*one paragraph only: 1"):
        evaluate([LeadEngine(1)], articles, "lead", GenerationSettings(), out_dir=tmp_path, progress=False)
    assert not (tmp_path / "report.json").exists()


def test_report_has_faithfulness_for_every_engine_and_valid_json(tmp_path):
    articles = [Article(id=f"a{i}", paragraphs=[LEAD, *BODY.split("\n")], title="حملة تطعيم") for i in range(3)]
    report = evaluate([LeadEngine(1), ExtractiveEngine()], articles, "lead", GenerationSettings(),
                      out_dir=tmp_path, progress=False)
    for row in report["rows"]:
        f = row["faithfulness"]
        assert f["n"] == 3 and f["outputs_with_unsupported_number"] == 0.0  # sentences taken from the input
        assert all(math.isfinite(v) for v in f.values())
    json.loads((tmp_path / "report.json").read_text())  # strict JSON: no NaN
    assert "num%" in format_table(report)


def test_a_report_row_names_its_model_and_the_settings_it_ran_with(tiny_causal, tmp_path):
    from summarizer.backends.hf import HFBackend, load_model
    from summarizer.engines import ModelEngine

    engine = ModelEngine(HFBackend(load_model(tiny_causal, device="cpu")))
    engine.backend.task_format.generation = {"headline_max_new_tokens": 4}  # chosen for this model on dev
    articles = [Article(id=f"a{i}", paragraphs=[LEAD, *BODY.split("\n")], title="حملة تطعيم") for i in range(2)]
    report = evaluate([ExtractiveEngine(), engine], articles, "headline",
                      GenerationSettings.from_dict({"num_beams": 2}), progress=False)
    extractive, model = report["rows"]
    assert "model" not in extractive and extractive["settings"]["num_beams"] == 2
    assert model["model"] == engine.backend.label and model["backend"] == "hf"
    assert (model["settings"]["num_beams"], model["settings"]["headline_max_new_tokens"]) == (2, 4)


ARGEN_TITLES = Path(__file__).parent / "fixtures" / "argen_title_gen.tsv"


def test_the_argen_title_generation_layout_is_read_and_scored(tmp_path, capsys):
    """ARGEN ships `document, title, document_count, title_count` with a header row."""
    from summarizer.cli import main

    articles = list(read_corpus(ARGEN_TITLES))
    assert [a.title for a in articles] == ["وزارة الصحة تطلق حملة تطعيم وطنية للأطفال",
                                           "افتتاح طريق سريع يربط العاصمة بالمدن الساحلية",
                                           "المنتخب الوطني يتأهل إلى نهائي البطولة الإقليمية"]
    assert articles[0].text.startswith("أعلنت وزارة الصحة") and "38" not in articles[0].text
    assert main(["evaluate", "--data", str(ARGEN_TITLES), "--protocol", "title", "--split", "all",
                 "--engine", "extractive", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "report.json").read_text("utf-8"))["n"] == 3


@pytest.mark.parametrize("header, row, expected", [
    ("title\ttext", "عنوان الخبر\tنص المقال", ("نص المقال", "عنوان الخبر", None)),
    ("Article\tHeadline\tsummary", "نص المقال\tعنوان الخبر\tملخص المقال", ("نص المقال", "عنوان الخبر", "ملخص المقال")),
    ("id\tdocument\tsummary", "x7\tنص المقال\tملخص المقال", ("نص المقال", None, "ملخص المقال")),
])
def test_tsv_columns_are_found_by_their_header_names(tmp_path, header, row, expected):
    path = tmp_path / "named.tsv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    (article,) = read_tsv(path)
    assert (article.text, article.title, article.reference) == expected
    assert article.id == ("x7" if header.startswith("id") else "named-2")


@pytest.mark.parametrize("text, problem", [
    ("document\ttitle\tdocument_count\ttitle_count\nنص المقال\tعنوانه\t2\n",
     "bad.tsv:2: expected 4 tab-separated fields \\(document, title, document_count, title_count\\), got 3"),
    ("document\ttitle\tcount\n\tعنوانه\t2\n", "bad.tsv:2: empty document"),
    ("text\theadline\nنص المقال\t\n", "bad.tsv:2: empty title"),
    ("body\theadline\nنص المقال\tعنوانه\n", "bad.tsv:1: the header \\(body, headline\\) needs a document column"),
    ("document\tcount\nنص المقال\t2\n", "bad.tsv:1: .* and a title or summary column"),
])
def test_a_tsv_that_does_not_fit_its_header_is_named(tmp_path, text, problem):
    path = tmp_path / "bad.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=problem):
        list(read_tsv(path))


# One scripted model per guard reason: what it writes for every article of the seed page.
GUARDED = {"number": "قال لافروف إن 12 شخصا قتلوا في موسكو",
           "rare": "ليفتوفيتش يزور أنقرة",
           "novel": 'وزير الخارجية الروسي يوضح أن تركيا ترحب بـ"مواجهة سياسية" بين روسيا وأوكرانيا',
           "empty": "",
           "kept": "لافروف يراجع خارطة الطريق"}


def guard_report(out_dir=None) -> dict:
    from summarizer.engines import ModelEngine
    from tests.test_faithfulness import ScriptedBackend, seed_article

    seed = seed_article()
    articles = [Article(id=f"a{i}", paragraphs=seed.paragraphs, title="لافروف يراجع خارطة الطريق") for i in range(2)]
    engines = [ModelEngine(ScriptedBackend({"headline": [text], "summary": [text]}), name=name)
               for name, text in GUARDED.items()]
    return evaluate(engines, articles, "title", GenerationSettings(), out_dir=out_dir, progress=False)


def test_rewording_every_message_changes_no_metric(monkeypatch, tmp_path):
    from summarizer import reasons

    before = guard_report()
    guard = {row["engine"]: row["guard"] for row in before["rows"]}
    assert guard["number"]["replaced_for_a_number"] == guard["rare"]["replaced_for_a_rare_word"] == 1.0
    assert guard["novel"]["replaced_for_novel_words"] == guard["empty"]["outputs_replaced"] == 1.0
    assert guard["kept"]["outputs_replaced"] == guard["empty"]["replaced_for_a_number"] == 0.0
    monkeypatch.setattr(reasons, "MESSAGES", {code: f"reworded {k}" for k, code in enumerate(reasons.Reason)})
    monkeypatch.setattr(reasons, "REPLACED", "replaced: {reasons}")
    monkeypatch.setattr(reasons, "FIELDS", {"headline": "H", "summary": "S"})
    after = guard_report(tmp_path)
    (row, _) = [json.loads(line) for line in (tmp_path / "predictions-rare.jsonl").read_text("utf-8").splitlines()]
    assert row["warnings"] == [f"H: replaced: reworded {list(reasons.Reason).index('novel_rare_word')}"]
    assert [{k: v for k, v in row.items() if k != "seconds"} for row in after["rows"]] == \
        [{k: v for k, v in row.items() if k != "seconds"} for row in before["rows"]]


def test_prediction_rows_are_records(tmp_path):
    from summarizer.record import ArticleResult, SCHEMA_VERSION

    guard_report(tmp_path)
    (row, _) = [json.loads(line) for line in (tmp_path / "predictions-number.jsonl").read_text("utf-8").splitlines()]
    record = ArticleResult.from_dict(row)
    assert record.schema_version == row["schema_version"] == SCHEMA_VERSION and record.engine == "number"
    assert record.fallback == {"headline": ["unsupported_number"]} and "12" not in record.headline
    assert record.notes == [{"code": "unsupported_number", "field": "headline", "params": {"items": ["12"]}}]
    assert any("12" in warning for warning in record.warnings)
    assert (row["protocol"], row["scored"], row["reference"]) == ("title", "headline", "لافروف يراجع خارطة الطريق")
    assert set(row["scores"]) == {"rouge1", "rouge2", "rougeL", "rougeLsum"} and "cleaned_text" not in row


def test_each_engines_progress_bar_ends_at_its_total(capsys):
    """A bar cleared when it closed (leave=False) left only its first line, "0%", in every log."""
    articles = [Article(id=f"a{i}", paragraphs=[LEAD, *BODY.split("\n")]) for i in range(3)]
    evaluate([LeadEngine(1), ExtractiveEngine()], articles, "lead", GenerationSettings())
    err = capsys.readouterr().err
    for name in ("lead-1", "extractive"):
        assert re.search(rf"{name}: 100%\S* 3/3", err), err
