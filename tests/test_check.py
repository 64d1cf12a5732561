"""The consistency checker: evidence, verdicts, the trained-model runtimes (tiny model), the CLI's interfaces."""

import json

import pytest

from summarizer.check import CheckFormat, Checker, decide, evidence

ARTICLE = ("أعادت كوريا الشمالية رفات جنود أمريكيين إلى الولايات المتحدة يوم الجمعة.\n"
           "وقال البيت الأبيض إن الطائرة هبطت في قاعدة عسكرية في كوريا الجنوبية.\n"
           "وتأتي الخطوة بعد قمة سنغافورة بين الزعيمين.")


def test_evidence_is_the_sentence_sharing_the_claims_words_and_the_lead_when_none_does():
    sentences = ARTICLE.split("\n")
    assert evidence(sentences, "البيت الأبيض: الطائرة هبطت في قاعدة", k=1) == [1]
    assert evidence(sentences, "كوريا الشمالية تعيد رفات جنود", k=2)[0] == 0
    assert evidence(sentences, "زلزال يضرب تشيلي", k=2) == [0]


def test_decide_uses_the_threshold_then_the_likelier_kind_of_no():
    assert decide({"supported": 0.6, "unsupported": 0.3, "contradicted": 0.1}, 0.5) == "supported"
    assert decide({"supported": 0.4, "unsupported": 0.2, "contradicted": 0.4}, 0.5) == "contradicted"
    assert decide({"supported": 0.4, "unsupported": 0.5, "contradicted": 0.1}, 0.3) == "supported"
    assert decide({"supported": 0.2, "unsupported": 0.5, "contradicted": 0.3}, 0.3) == "unsupported"


class ScriptedScorer:
    """Stands in for a model: the answer logits favour 'supported' when the claim's words are in the evidence."""

    bos = None

    @staticmethod
    def tokenizer(text, add_special_tokens=False):  # the tokenizers' call interface: .input_ids
        from types import SimpleNamespace

        return SimpleNamespace(input_ids=[ord(c) for c in text])

    def __call__(self, prompts):
        rows = []
        for ids in prompts:
            text = "".join(chr(i) for i in ids)
            evidence_text, claim = text.split("\n\nالعنوان: ")
            claim = claim.split("\n")[0]
            shared = all(word in evidence_text for word in claim.split())
            rows.append([3.0, -3.0, 0.0] if shared else [-3.0, 2.0, 0.0])
        return rows


def test_a_summary_gets_its_weakest_sentences_verdict_and_the_evidence_of_all():
    checker = Checker(ScriptedScorer(), CheckFormat(threshold=0.5))
    sentences = ARTICLE.split("\n")
    good = checker.check_many([(sentences, "أعادت كوريا الشمالية رفات جنود")])[0]
    assert good.verdict == "supported" and good.score > 0.5
    assert good.evidence[0] == {"sentence": 0, "text": sentences[0]}
    mixed = checker.check_many([(sentences, "أعادت كوريا الشمالية رفات جنود. وهبطت الطائرة في اليابان.")])[0]
    assert mixed.verdict == "unsupported"
    assert mixed.score < 0.5


def test_check_format_round_trips(tmp_path):
    fmt = CheckFormat(threshold=0.37, evidence_sentences=3)
    fmt.save(tmp_path)
    assert CheckFormat.load(tmp_path) == fmt
    assert CheckFormat.load(tmp_path / "missing") == CheckFormat()


@pytest.fixture(scope="module")
def tiny_checker(tmp_path_factory, seed_texts_module):
    """A tiny random causal model whose tokenizer has the answer words as tokens, and a checker adapter trained on
    it for two steps by the real training entry point, from a JSON Lines corpus with titles."""
    from summarizer.finetune.checker import main as train
    from tests.tiny_models import build_causal

    root = tmp_path_factory.mktemp("tiny-checker")
    answers = " ".join(CheckFormat().answers.values())
    base = build_causal(root / "base", seed_texts_module + [answers * 50] + ["العنوان: الجواب:" * 20])
    corpus = root / "corpus.jsonl"
    lines = []
    for k, page in enumerate(seed_texts_module * 6):
        paragraphs = [p for p in page.splitlines() if len(p.split()) > 4][:6]
        if len(paragraphs) >= 2:
            lines.append(json.dumps({"id": f"a{k}", "title": " ".join(paragraphs[0].split()[:8]),
                                     "text": "\n".join(paragraphs), "source": "seed"}, ensure_ascii=False))
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    train(["--data", str(corpus), "--out", str(root / "run"), "--base", str(base), "--steps", "2",
           "--batch-size", "2", "--rank", "2", "--save-every", "1", "--eval-pairs", "4"])
    return base, root / "run" / "checkpoints" / "step-000002"


@pytest.fixture(scope="module")
def seed_texts_module():
    from tests.conftest import SEEDS

    return [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]


@pytest.mark.parametrize("backend", ["hf", "ct2"])
def test_a_trained_tiny_checker_loads_on_both_runtimes_and_agrees(tmp_path, monkeypatch, tiny_checker, backend):
    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path / "cache"))
    base, adapter = tiny_checker
    assert (adapter / "summarizer_check.json").is_file() and (adapter / "output_vocab.json").is_file()
    checker = Checker.load(adapter, backend=backend, base=str(base))
    verdict = checker.check(ARTICLE, "كوريا الشمالية تعيد رفات جنود أمريكيين")
    assert verdict.verdict in ("supported", "unsupported", "contradicted")
    assert 0.0 <= verdict.score <= 1.0
    assert verdict.evidence and verdict.evidence[0]["text"] in ARTICLE
    probs = checker.probabilities([("نص", "عنوان"), ("نص آخر", "عنوان آخر")])
    assert all(abs(sum(p.values()) - 1) < 1e-5 for p in probs)


def test_hf_and_ct2_give_the_same_scores(tmp_path, monkeypatch, tiny_checker):
    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path / "cache"))
    base, adapter = tiny_checker
    items = [(ARTICLE.split("\n")[0], "كوريا الشمالية تعيد رفات جنود"), (ARTICLE, "زلزال")]
    hf = Checker.load(adapter, backend="hf", base=str(base)).probabilities(items)
    ct2 = Checker.load(adapter, backend="ct2", base=str(base)).probabilities(items)
    for a, b in zip(hf, ct2):
        assert a["supported"] == pytest.approx(b["supported"], abs=0.05)  # int8 weights


@pytest.fixture
def cli_checker(tiny_checker, monkeypatch, tmp_path):
    """`summarizer check` on the tiny trained checker (the tiny base stands in for the embedded one)."""
    import summarizer.default_model as default_model

    base, adapter = tiny_checker
    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(default_model, "ensure_base_model", lambda: base)
    return adapter


def test_check_command_gives_a_verdict_score_and_evidence_per_field(cli_checker, tmp_path, capsys):
    from summarizer.cli import main

    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    code = main(["check", str(article), "--headline", "كوريا الشمالية تعيد رفات جنود", "--summary",
                 "أعادت كوريا الشمالية رفات جنود. وهبطت الطائرة.", "--checker", str(cli_checker), "--json"])
    record = json.loads(capsys.readouterr().out)
    assert code == 0 and set(record) == {"id", "headline", "summary"}
    for field in ("headline", "summary"):
        assert record[field]["verdict"] in ("supported", "unsupported", "contradicted")
        assert record[field]["evidence"] and all(e["text"] in ARTICLE for e in record[field]["evidence"])


def test_check_pairs_answers_every_line_and_names_the_bad_ones(cli_checker, tmp_path, capsys):
    from summarizer.cli import main

    pairs = tmp_path / "pairs.jsonl"
    good = {"id": "a", "text": ARTICLE, "headline": "كوريا الشمالية تعيد رفات جنود"}
    pairs.write_text("\n".join([json.dumps(good, ensure_ascii=False), "{not json", json.dumps([1, 2]),
                                json.dumps({"id": "b", "text": ARTICLE}), json.dumps({**good, "id": "c"},
                                                                                     ensure_ascii=False)]) + "\n",
                     encoding="utf-8")
    code = main(["check", "--pairs", str(pairs), "--checker", str(cli_checker), "--json"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1 and len(lines) == 5
    assert lines[0]["id"] == "a" and "verdict" in lines[0]["headline"] and lines[4]["id"] == "c"
    assert [("error" in line) for line in lines] == [False, True, True, True, False]
    assert f"{pairs}:2" in lines[1]["error"] and f"{pairs}:4" in lines[3]["error"] and "headline" in lines[3]["error"]


def test_check_command_refuses_what_it_cannot_check_in_one_line(tmp_path, capsys):
    from summarizer.cli import main

    assert main(["check", "--headline", "عنوان"]) == 2
    assert main(["check", str(tmp_path / "a.txt")]) == 2
    assert main(["check", "--pairs", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 3


@pytest.mark.slow
def test_the_shipped_checker_scores_a_role_swapped_headline_below_the_bar_for_showing_it():
    """The trained checker on a fixture article: the same words with the roles swapped (the US returning the
    remains to North Korea) score below the true headline, and below 0.9, the bar the engine showed model
    headlines at until round 4."""
    checker = Checker.load()
    right = checker.check(ARTICLE, "كوريا الشمالية تعيد رفات جنود أمريكيين إلى الولايات المتحدة")
    swapped = checker.check(ARTICLE, "الولايات المتحدة تعيد رفات جنود كوريين إلى كوريا الشمالية")
    assert right.score > swapped.score
    assert swapped.score < 0.9  # the bar the engine showed model headlines at before round 4


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="known limitation, measured: the checker's verdict threshold (0.29) still "
                   "calls the swapped headline supported (score 0.42); only the engine's display bar keeps it "
                   "from being shown. strict: this test fails loudly once a checker gets it right")
def test_the_shipped_checker_does_not_support_a_role_swapped_headline():
    checker = Checker.load()
    swapped = checker.check(ARTICLE, "الولايات المتحدة تعيد رفات جنود كوريين إلى كوريا الشمالية")
    assert swapped.verdict != "supported"


def test_candidates_below_the_bar_are_listed_never_shown_and_unsupported_ones_dropped():
    from summarizer import headlines
    from summarizer.check import Verdict
    from summarizer.reasons import Reason

    class Fixed:  # a checker whose verdicts are given
        def __init__(self, verdicts):
            self.verdicts = verdicts

        def check_many(self, requests):
            return [self.verdicts[text] for _, text in requests]

    options = headlines.unique([("العنوان الأول المدعوم جيدا", True), ("العنوان الثاني المدعوم قليلا", True),
                                ("العنوان الثالث المناقض للمقال", True)], "model")
    checker = Fixed({"العنوان الأول المدعوم جيدا": Verdict("supported", 0.95),
                     "العنوان الثاني المدعوم قليلا": Verdict("supported", 0.5),
                     "العنوان الثالث المناقض للمقال": Verdict("contradicted", 0.1)})
    headlines.check(options, checker, ["جملة"], min_support=0.9)
    assert [o.text for o in headlines.rank(options)] == ["العنوان الأول المدعوم جيدا"]
    assert [o.text for o in headlines.below_bar(options)] == ["العنوان الثاني المدعوم قليلا"]
    # Why each was not shown: the one under the bar says so (supported, listed), not that the article denies it.
    codes = {o.text: [n.code for n in o.rejected] for o in options}
    assert codes["العنوان الثاني المدعوم قليلا"] == [Reason.BELOW_BAR]
    assert codes["العنوان الثالث المناقض للمقال"] == [Reason.NOT_SUPPORTED]
    headlines.check(options := headlines.unique([("العنوان الثاني المدعوم قليلا", True)], "model"), checker,
                    ["جملة"], min_support=0.0)
    assert [o.text for o in headlines.rank(options)] == ["العنوان الثاني المدعوم قليلا"]
    # At 1.0 no model headline is shown, even one the checker scores 1.0; it is listed for the editor.
    certain = Fixed({"العنوان الأول المدعوم جيدا": Verdict("supported", 1.0)})
    headlines.check(options := headlines.unique([("العنوان الأول المدعوم جيدا", True)], "model"), certain,
                    ["جملة"], min_support=1.0)
    assert not headlines.rank(options) and [o.text for o in headlines.below_bar(options)] == ["العنوان الأول المدعوم جيدا"]


def test_a_checker_directory_that_is_not_one_is_named(tmp_path, capsys):
    from summarizer.cli import main

    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    assert main(["check", str(article), "--headline", "عنوان", "--checker", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}: not a checker" in err and "Traceback" not in err


def test_with_the_guard_off_the_checkers_verdict_is_recorded_not_acted_on():
    from summarizer import headlines
    from summarizer.check import Verdict

    class Contradicts:
        def check_many(self, requests):
            return [Verdict("contradicted", 0.05) for _ in requests]

    options = headlines.unique([("العنوان الذي كتبه النموذج", True)], "model")
    headlines.check(options, Contradicts(), ["جملة"], reject=False, min_support=0.9)
    (shown,) = headlines.rank(options)
    assert shown.verdict["verdict"] == "contradicted" and shown.candidate()["score"] == 0.05
