"""Faithfulness measures on hand-made cases, and the guard that replaces unsupported model text."""

import pytest

from summarizer.article import Summary
from summarizer.backends import Candidate
from summarizer.clean import clean_page
from summarizer.engines import ModelEngine
from summarizer.faithfulness import changed_relation, check, numbers, summarize_rates
from summarizer.generation import GenerationSettings, TaskFormat
from summarizer.reasons import Reason
from tests.conftest import SEED_PAGE

SOURCE = ("أعلن سيرغي لافروف، وزير الخارجية الروسي، أن روسيا قدمت في يونيو مسودة خارطة طريق لتحسين العلاقات بين "
          "تركيا وسوريا، وأن ١٢ اجتماعا عقدت منذ عام 2022 شارك فيها 1,500 مسؤول.")


def test_numbers_are_normalized_across_scripts_and_separators():
    assert numbers("١٢ و12 و 1,500 و1500 و٣٫٥ و3.50 و007") == {"12", "1500", "3.5", "7"}


@pytest.mark.parametrize("output, unsupported, rare", [
    ("لافروف: روسيا قدمت مسودة خارطة طريق في يونيو", [], []),
    ("لافروف: 12 اجتماعا و1500 مسؤول منذ 2022", [], []),            # Western digits for Arabic-Indic ones
    ("لافروف: 13 اجتماعا بين تركيا وسوريا", ["13"], []),
    ("وزير الخارجية التركي سيرغي ليفتوفيتش يزور سوريا", [], ["ليفتوفيتش"]),  # the renamed Lavrov
    ("لافروف يعلن الثلاثاء خارطة طريق", [], ["الثلاثاء"]),         # a weekday the article lacks
])
def test_unsupported_numbers_and_novel_rare_words(output, unsupported, rare):
    support = check(output, SOURCE)
    assert support.unsupported_numbers == unsupported
    assert support.novel_rare_words == rare
    assert support.supported == (not unsupported and not rare)


def test_novel_content_word_rate_counts_stems_not_spellings():
    assert check("أعلن لافروف أن روسيا قدمت مسودة", SOURCE).novel_rate == 0.0
    support = check("أعلن لافروف أن روسيا رفضت الاتفاق", SOURCE)
    assert support.novel_words == ["رفضت", "الاتفاق"] and support.novel_rate == pytest.approx(2 / 5)


def test_corpus_rates():
    rates = summarize_rates([check("لافروف 13", SOURCE), check("لافروف", SOURCE)])
    assert rates["outputs_with_unsupported_number"] == 0.5 and rates["n"] == 2


class ScriptedBackend:
    """A backend that writes what it is told: the engine's guard is then tested on known text."""

    name, label, is_seq2seq, concurrent = "scripted", "scripted", False, False

    def __init__(self, answers):
        self.answers = answers
        self.task_format = TaskFormat()

    def count_tokens(self, text, *, special=False):
        return len(text.split())

    def position_limit(self, max_new_tokens):
        return 10_000

    def generate(self, prompts, *, task, max_new_tokens, settings, sources):
        return [[Candidate(text, True) for text in self.answers[task]] for _ in prompts]


def seed_article():
    return clean_page(SEED_PAGE.read_text("utf-8")).articles[0]


def test_the_guard_replaces_an_unsupported_number_with_the_extractive_text():
    engine = ModelEngine(ScriptedBackend({"summary": ["قال لافروف إن 12 شخصا قتلوا في موسكو."],
                                          "headline": ["لافروف يراجع خارطة الطريق بين تركيا وسوريا"]}))
    (result,) = engine.summarize([seed_article()], settings=GenerationSettings())
    assert "12" not in result.summary and result.summary.split()[0] in seed_article().text
    assert result.fallback == {"summary": [Reason.UNSUPPORTED_NUMBER]}
    assert [(n.field, n.params) for n in result.notes] == [("summary", {"items": ["12"]})]
    assert any("استُبدل" in line and "12" in line for line in result.messages())
    assert result.headline == "لافروف يراجع خارطة الطريق بين تركيا وسوريا"
    (unguarded,) = engine.summarize([seed_article()], settings=GenerationSettings(guard=False))
    assert "12" in unguarded.summary and not unguarded.fallback


def test_the_guard_replaces_a_headline_mostly_absent_from_the_article():
    # The seed headline the model once wrote: every name is in the article, the claim is not.
    invented = 'وزير الخارجية الروسي يوضح أن تركيا ترحب بـ"مواجهة سياسية" بين روسيا وأوكرانيا'
    engine = ModelEngine(ScriptedBackend({"summary": ["لافروف يراجع مسودة خارطة الطريق."], "headline": [invented]}))
    (result,) = engine.summarize([seed_article()], settings=GenerationSettings())
    assert result.headline != invented and result.headline.split()[0] in seed_article().text
    assert result.fallback == {"headline": [Reason.NOVEL_WORDS]}
    assert any("مواجهة" in word for word in result.notes[0].params["items"])
    assert result.summary == "لافروف يراجع مسودة خارطة الطريق."  # few novel words: kept
    (lenient,) = engine.summarize([seed_article()], settings=GenerationSettings(guard_novel_rate=1.0))
    assert lenient.headline == invented and not lenient.fallback
    assert "guard_novel_rate" in GenerationSettings(guard_novel_rate=1.5).problems()[0]


def test_a_copied_sentence_with_a_changed_relation_is_found():
    sentences = ["وقال لافروف إنه يتم حالياً مراجعة مسودة خارطة الطريق المقترحة لتحسين العلاقات بين تركيا وسوريا، "
                 "وأكد أنه يجري التفاوض."]
    # The seed page's wrong headline: every word is the article's, the relation is not.
    assert changed_relation("لافروف: تم حالياً مراجعة مسودة خارطة الطريق المقترحة لتحسين العلاقات مع تركيا",
                            sentences) == ("العلاقات مع تركيا", "العلاقات بين تركيا وسوريا")
    assert changed_relation("لافروف: يتم حالياً مراجعة مسودة خارطة الطريق لتحسين العلاقات بين تركيا وسوريا",
                            sentences) is None  # a faithful copy, shortened
    assert changed_relation("روسيا تقترح خطة لتطبيع العلاقات بين أنقرة ودمشق", sentences) is None  # not a copy
    assert changed_relation("في موسكو يتم حالياً مراجعة مسودة خارطة الطريق المقترحة", sentences) is None  # an opening


def test_a_headline_that_changes_a_relation_in_a_copied_sentence_is_not_shown():
    wrong = "لافروف: تم حالياً مراجعة مسودة خارطة الطريق المقترحة لتحسين العلاقات مع تركيا"
    engine = ModelEngine(ScriptedBackend({"summary": ["لافروف يراجع مسودة خارطة الطريق."], "headline": [wrong]}))
    (result,) = engine.summarize([seed_article()], settings=GenerationSettings())
    assert result.headline != wrong and result.fallback == {"headline": [Reason.CHANGED_RELATION]}
    (note,) = [n for n in result.notes if n.code == Reason.CHANGED_RELATION]
    assert "بين تركيا وسوريا" in note.message and "مع تركيا" in note.message
    (unguarded,) = engine.summarize([seed_article()], settings=GenerationSettings(guard=False))
    assert unguarded.headline == wrong


def test_candidates_are_reranked_by_faithfulness_before_the_guard():
    engine = ModelEngine(ScriptedBackend({"summary": ["لافروف: 40 دولة وقعت", "لافروف يراجع مسودة خارطة الطريق."],
                                          "headline": ["ليفتوفيتش يزور أنقرة", "لافروف وخارطة الطريق"]}))
    settings = GenerationSettings(num_beams=2, num_candidates=2)
    (result,) = engine.summarize([seed_article()], settings=settings)
    assert result.summary == "لافروف يراجع مسودة خارطة الطريق." and result.headline == "لافروف وخارطة الطريق"
    assert not result.fallback


def test_records_carry_faithfulness_for_every_engine():
    from summarizer.engines import ExtractiveEngine
    from summarizer.pipeline import summarize_pages

    (page,) = summarize_pages([("seed", SEED_PAGE.read_text("utf-8"))], ExtractiveEngine(), GenerationSettings())
    for record in page.articles:
        assert record.faithfulness["summary"]["supported"] and "novel_rate" in record.faithfulness["headline"]
    assert isinstance(Summary(headline="", summary="", engine="x").fallback, dict)


def test_a_weekday_the_article_lacks_is_deleted_not_fatal():
    engine = ModelEngine(ScriptedBackend({"summary": ["أعلن لافروف، الأربعاء، أنه يراجع مسودة خارطة الطريق."],
                                          "headline": ["لافروف يراجع خارطة الطريق الخميس"]}))
    (result,) = engine.summarize([seed_article()], settings=GenerationSettings())
    assert result.summary == "أعلن لافروف أنه يراجع مسودة خارطة الطريق."
    assert result.headline == "لافروف يراجع خارطة الطريق" and not result.fallback
    assert [(n.code, n.field, n.params) for n in result.notes] == [
        (Reason.WEEKDAY_REMOVED, "summary", {"items": ["الأربعاء"]}),
        (Reason.WEEKDAY_REMOVED, "headline", {"items": ["الخميس"]})]
    assert sum("حُذف يوم" in line for line in result.messages()) == 2


def test_model_tasks_choose_what_the_model_writes():
    from summarizer.engines import ExtractiveEngine
    from summarizer.errors import ConfigError

    backend = ScriptedBackend({"summary": ["لافروف يراجع مسودة خارطة الطريق."],
                               "headline": ["لافروف وخارطة الطريق"]})
    engine = ModelEngine(backend)
    (extractive,) = ExtractiveEngine().summarize([seed_article()], settings=GenerationSettings())
    (hybrid,) = engine.summarize([seed_article()], settings=GenerationSettings(model_tasks="headline"))
    assert hybrid.headline == "لافروف وخارطة الطريق" and hybrid.summary == extractive.summary
    assert not hybrid.fallback  # a choice, not a replacement
    assert [(n.code, n.field) for n in hybrid.notes] == [(Reason.EXTRACTIVE_BY_DESIGN, "summary")]
    backend.task_format.model_fields = ["headline"]  # what an adapter recommends when the setting is empty
    (recommended,) = engine.summarize([seed_article()], settings=GenerationSettings())
    assert recommended.summary == extractive.summary
    (both,) = engine.summarize([seed_article()], settings=GenerationSettings(model_tasks="headline,summary"))
    assert both.summary == "لافروف يراجع مسودة خارطة الطريق."
    with pytest.raises(ConfigError, match="model_tasks: unknown field"):
        GenerationSettings.from_dict({"model_tasks": "title"})


def test_every_reason_has_a_message_and_csv_rows_carry_the_codes():
    from summarizer.reasons import MESSAGES, Note, messages
    from summarizer.record import csv_row

    assert set(MESSAGES) == set(Reason)
    notes = [Note(Reason.UNSUPPORTED_NUMBER, "summary", {"items": ["12", "40"]}),
             Note(Reason.NOVEL_RARE_WORD, "summary", {"items": ["ليفتوفيتش"]}),
             Note(Reason.TRUNCATED_INPUT, params={"selection": "central"})]
    assert messages(notes) == ["الملخص: استُبدل نص النموذج بنص مأخوذ من المقال (أرقام غير واردة في المقال: 12، 40؛ "
                               "أسماء أو كلمات نادرة غير واردة في المقال: ليفتوفيتش)",
                               "المقال أطول من مدخلات النموذج فقُطع؛ رأى النموذج أهم جمله"]
    row = csv_row({"fallback": {"summary": ["unsupported_number", "novel_rare_word"]}})
    assert row["fallback"] == "summary: unsupported_number, novel_rare_word"
    assert csv_row({"fallback": {"summary": "أرقام"}})["fallback"] == "summary: أرقام"  # a schema-2 record
