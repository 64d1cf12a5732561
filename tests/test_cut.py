"""Cutting an article's sentence into a headline where the model would end one (summarizer.cut)."""

import pytest

from summarizer.backends.ct2 import CT2Backend
from summarizer.backends.hf import HFBackend
from summarizer.cut import SLACK, EndScoring, answer_pieces, model_cutter
from summarizer.engines import ExtractiveEngine, ModelEngine
from summarizer.extractive import headline_draft, shorten_headline
from summarizer.article import Article
from summarizer.generation import GenerationSettings, TaskFormat
from summarizer.shape import DANGLING

SENTENCE = ("قالت الحكومة اليوم إن الترتيبات لعقد قمة بين الرئيسين تسير على قدم وساق وإن موعدا سيحدد قريبا في "
            "العاصمة بعد مشاورات طويلة.")


def test_a_draft_offers_only_cuts_that_end_a_phrase_within_the_budget():
    draft = headline_draft(SENTENCE, max_words=14)
    assert draft.prefix == "الحكومة: "
    assert draft.budget == 13
    cuts = draft.cuts()
    assert cuts and max(cuts) <= draft.budget and min(cuts) >= 3
    for k in cuts:  # never on a preposition or a conjunction
        assert draft.words[k - 1] not in DANGLING
    assert draft.words.index("على") + 1 not in cuts and draft.words.index("بين") + 1 not in cuts
    # The rules' cut is one of the same drafts: shorten_headline is the draft cut by rule.
    assert shorten_headline(SENTENCE, 14) == draft.text(draft.rule_cut())


class Scripted:
    """A backend whose model wants to stop after one chosen word of each answer."""

    def __init__(self, stop_after: str):
        self.task_format = TaskFormat()
        self.stop_after = stop_after
        self.calls = []

    def end_scores(self, prompts, answers, *, task):
        self.calls.append((prompts, answers, task))
        return [[-0.1 if piece.strip() == self.stop_after else -5.0 for piece in pieces] for pieces in answers]


def piece(draft, k: int) -> int:
    """Where the answer the model reads ends after the statement's first k words (the speaker's words first)."""
    speaker = draft.prefix.split()
    return answer_pieces(speaker + draft.words)[1][len(speaker) + k - 1]


def test_a_clause_mark_is_read_apart_so_a_cut_is_scored_before_it():
    pieces, ends = answer_pieces(["الحكومة:", "بين", "تركيا", "وسوريا،", "وأكد"])
    assert pieces == [" الحكومة", ":", " بين", " تركيا", " وسوريا", "،", " وأكد"]
    assert [pieces[e] for e in ends] == [" الحكومة", " بين", " تركيا", " وسوريا", " وأكد"]


def test_the_model_cut_is_where_the_model_would_stop():
    backend = Scripted(stop_after="وساق")
    cut = model_cutter(backend)
    draft = headline_draft(SENTENCE, max_words=14)
    [k] = cut([draft])
    assert draft.words[k - 1] == "وساق"
    assert draft.text(k) == "الحكومة: الترتيبات لعقد قمة بين الرئيسين تسير على قدم وساق"
    prompts, answers, task = backend.calls[0]
    assert task == "headline"
    assert answers[0][:2] == [" الحكومة", ":"]  # the speaker is part of the answer the model reads
    assert "الترتيبات" in prompts[0]  # the sentence is the article the model reads
    # The rules cut elsewhere on the same sentence (no model): the choice is the model's, not a coincidence.
    assert draft.rule_cut() != k


def test_the_model_never_cuts_a_sentence_to_a_bare_speaker():
    """A model that would stop after "قالت وزارة الوحدة" (a speaker, nothing said) gets a headline-shaped cut."""
    sentence = ("قالت وزارة الوحدة في كوريا الجنوبية إن الكوريتين اتفقتا على إجراء محادثات رفيعة المستوى لبحث الخطوات "
                "الضرورية من أجل تنفيذ تعهد بنزع السلاح النووي من شبه الجزيرة الكورية.")
    draft = headline_draft(sentence)
    assert draft.prefix == "" and 3 not in draft.cuts()  # a definite plural's -ين keeps it reported
    [k] = model_cutter(Scripted(stop_after="الوحدة"))([draft])
    assert k > 3 and not draft.text(k).endswith("الوحدة")


def test_a_longer_cut_nearly_as_likely_as_the_best_is_preferred():
    draft = headline_draft(SENTENCE, max_words=14)

    def at(word):
        return piece(draft, draft.words.index(word) + 1)

    class Shaped(Scripted):
        def end_scores(self, prompts, answers, *, task):
            scores = [-8.0] * len(answers[0])
            scores[at("قمة")] = -0.5  # the best stop, early
            scores[at("الرئيسين")] = -0.5 - SLACK / 2  # nearly as likely, longer: chosen
            scores[at("وساق")] = -0.5 - 2 * SLACK  # longer still, far less likely: not chosen
            return [scores]

    [k] = model_cutter(Shaped(stop_after=""))([draft])
    assert draft.words[k - 1] == "الرئيسين"


def test_the_rules_cut_stands_where_the_model_would_stop_there_too():
    draft = headline_draft(SENTENCE, max_words=14)
    rule = draft.rule_cut()
    assert rule in draft.cuts()

    class Agrees(Scripted):
        def end_scores(self, prompts, answers, *, task):
            scores = [-8.0] * len(answers[0])
            scores[piece(draft, rule)] = -1.0 + SLACK / 2  # nearly the best
            scores[piece(draft, draft.words.index("قمة") + 1)] = -1.0  # the best, elsewhere
            return [scores]

    class Refuses(Agrees):
        def end_scores(self, prompts, answers, *, task):
            [scores] = super().end_scores(prompts, answers, task=task)
            scores[piece(draft, rule)] = -1.0 - 2 * SLACK  # the model would not stop there
            return [scores]

    assert model_cutter(Agrees(stop_after=""))([draft]) == [rule]
    assert model_cutter(Refuses(stop_after=""))([draft]) == [draft.words.index("قمة") + 1]


def test_a_model_that_wants_no_stop_inside_the_budget_still_gets_a_legal_cut():
    backend = Scripted(stop_after="قريبا")  # beyond the 14-word budget
    draft = headline_draft(SENTENCE, max_words=14)
    [k] = model_cutter(backend)([draft])
    assert k in draft.cuts()


def test_a_backend_that_cannot_score_leaves_the_cut_to_the_rules():
    class NoScores:
        task_format = TaskFormat()

    assert not isinstance(NoScores(), EndScoring)
    assert model_cutter(NoScores()) is None


def test_the_extractive_engine_cuts_with_the_model_only_when_asked():
    article = Article(id="a", paragraphs=[SENTENCE, "وأضاف المتحدث أن الوفدين سيلتقيان الأسبوع المقبل لبحث التفاصيل."])
    engine = ExtractiveEngine(cut=model_cutter(Scripted(stop_after="وساق")))
    by_model = engine.summarize([article], settings=GenerationSettings())[0]
    by_rules = engine.summarize([article], settings=GenerationSettings(headline_cut="rules"))[0]
    assert by_model.headline.endswith("قدم وساق")
    assert by_rules.headline == shorten_headline(SENTENCE)  # both at the default word budget
    # A sentence that continues the story ("وأضاف ...") is offered after the one that reads as a headline.
    assert by_model.headline_candidates[0]["evidence"][0]["sentence"] == 0


@pytest.mark.parametrize("fixture", ["tiny_causal", "tiny_seq2seq"])
def test_end_scores_are_the_models_stop_probabilities_on_both_backends(request, tmp_path, monkeypatch, fixture):
    import torch

    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path))
    model = str(request.getfixturevalue(fixture))
    hf = HFBackend.load(model, device="cpu")
    ct2 = CT2Backend.load(model, device="cpu", compute_type="float32")
    prompt = hf.task_format.render("headline", SENTENCE)
    words = [" " + w for w in SENTENCE.split()[:6]]  # answer pieces: " word"
    [scores] = hf.end_scores([prompt], [words], task="headline")
    assert len(scores) == len(words) and all(s <= 0 for s in scores)
    # By hand for the third word: the model's log-probability of a stop token after the first three words.
    tokenizer, net = hf.loaded.tokenizer, hf.loaded.model
    stops = hf.task_format.stop_token_ids(tokenizer, "headline")
    answer = [t for w in words[:3] for t in tokenizer(w, add_special_tokens=False).input_ids]
    prompt_ids = tokenizer(prompt).input_ids
    with torch.no_grad():
        if hf.is_seq2seq:
            logits = net(input_ids=torch.tensor([prompt_ids]),
                         decoder_input_ids=torch.tensor([[net.config.decoder_start_token_id] + answer])).logits[0, -1]
        else:
            logits = net(input_ids=torch.tensor([prompt_ids + answer])).logits[0, -1]
    expected = torch.logsumexp(torch.log_softmax(logits.float(), -1)[stops], -1).item()
    assert scores[2] == pytest.approx(expected, abs=1e-4)
    # CTranslate2 float32 says the same (its seq2seq path scores the end token it appends: the eos).
    [ct2_scores] = ct2.end_scores([prompt, prompt][:1], [words], task="headline")
    assert ct2_scores == pytest.approx(scores, abs=2e-3) if not hf.is_seq2seq else \
        ct2_scores[2] == pytest.approx(
            torch.log_softmax(logits.float(), -1)[tokenizer.eos_token_id].item(), abs=2e-3)
    # Batched with other rows of other lengths, a row's scores do not change (right padding is harmless).
    both = ct2.end_scores([prompt, hf.task_format.render("headline", "خبر قصير")], [words, words[:2]],
                          task="headline")
    assert both[0] == pytest.approx(ct2_scores, abs=1e-4) and len(both[1]) == 2


def test_a_model_engine_cuts_the_articles_headlines_with_its_own_model(tiny_causal):
    backend = HFBackend.load(str(tiny_causal), device="cpu")
    engine = ModelEngine(backend)
    draft = headline_draft(SENTENCE, 14)
    [k] = engine._extractive.cut([draft])
    pieces, _ = answer_pieces(draft.prefix.split() + draft.words[: max(draft.cuts())])
    scores = backend.end_scores([backend.task_format.render("headline", "الحكومة: " + " ".join(draft.words))],
                                [pieces], task="headline")[0]
    ready = {c: scores[piece(draft, c)] for c in draft.cuts()}
    good = [c for c, score in ready.items() if score >= max(ready.values()) - SLACK]
    assert k == (draft.rule_cut() if draft.rule_cut() in good else max(good))
    settings = GenerationSettings(max_new_tokens=4, headline_max_new_tokens=4, guard=True, check=False,
                                  headline_max_words=14)
    record = engine.summarize([Article(id="a", paragraphs=[SENTENCE])], settings=settings)[0]
    assert draft.text(k) in [c["text"] for c in record.headline_candidates]
