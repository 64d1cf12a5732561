import pytest
from rouge_score import rouge_scorer

from summarizer.rouge import (ArabicTokenizer, bootstrap, compute_rouge, corpus_bleu, rouge_report, score_pairs)

A = "أعلنت الحكومة المصرية اليوم عن خطة جديدة لدعم الاقتصاد."
B = "وصل المنتخب السعودي إلى موسكو استعدادا لكأس العالم."


def test_google_default_tokenizer_really_deletes_arabic():
    # Why this module exists: the stock scorer scores identical Arabic strings 0.
    stock = rouge_scorer.RougeScorer(["rouge1"]).score(A, A)["rouge1"].fmeasure
    assert stock == 0.0


def test_identical_one_disjoint_zero():
    same, disjoint = score_pairs([A, A], [A, B])
    assert all(v == pytest.approx(1.0) for v in same.values())
    assert all(v == 0.0 for v in disjoint.values())


def test_hand_computed_partial_overlap():
    # prediction 4 tokens, reference 5 tokens; 3 unigrams shared; bigrams: pred 3, ref 4, shared 1 ("الوزير غادر")
    pred = "الوزير غادر القاهرة صباحا"
    ref = "قال الوزير غادر إلى القاهرة"
    (s,) = score_pairs([pred], [ref])
    p1, r1 = 3 / 4, 3 / 5
    assert s["rouge1"] == pytest.approx(2 * p1 * r1 / (p1 + r1))
    p2, r2 = 1 / 3, 1 / 4
    assert s["rouge2"] == pytest.approx(2 * p2 * r2 / (p2 + r2))
    # LCS = الوزير غادر القاهرة (3)
    assert s["rougeL"] == pytest.approx(2 * p1 * r1 / (p1 + r1))


def test_spelling_variants_do_not_change_scores():
    plain = "احمد في المدرسه الي المستشفي"
    fancy = "أَحْمَدُ فـــي المدرسة إلى المستشفى"
    (s,) = score_pairs([fancy], [plain])
    assert s["rouge1"] == pytest.approx(1.0) and s["rougeL"] == pytest.approx(1.0)


def test_lsum_uses_arabic_sentence_splitting():
    ref = "الجملة الأولى هنا. الجملة الثانية هناك؟ الثالثة"
    pred = "الثالثة. الجملة الثانية هناك؟ الجملة الأولى هنا"
    (s,) = score_pairs([pred], [ref])
    assert s["rougeLsum"] == pytest.approx(1.0) and s["rougeL"] < 1.0


def test_stemmers_are_recorded_and_help_inflection():
    pred, ref = "المعلمون في المدارس", "معلم مدارس"
    assert score_pairs([pred], [ref], stemmer="none")[0]["rouge1"] < score_pairs([pred], [ref], stemmer="light")[0]["rouge1"]
    report = rouge_report([pred], [ref], stemmer="isri")
    assert report["stemmer"] == "isri" and report["tokenizer"] == "arabic-normalized"
    with pytest.raises(ValueError, match="unknown stemmer"):
        ArabicTokenizer("porter")


def test_evaluate_metric_loads_from_local_module_and_agrees():
    result = compute_rouge([A, A], [A, B])
    assert result["rouge1"] == pytest.approx(0.5)


def test_bootstrap_is_seeded_and_brackets_the_mean():
    values = [0.1, 0.5, 0.2, 0.9, 0.4, 0.3]
    first, second = bootstrap(values, seed=1), bootstrap(values, seed=1)
    assert first == second
    assert first.low <= first.mean <= first.high
    assert bootstrap([0.5] * 10).low == pytest.approx(0.5)


def test_bleu_on_arabic_tokens():
    assert corpus_bleu([A], [A]) == pytest.approx(100.0)
    assert corpus_bleu([A], [B]) < 5
