import io
import json
import tarfile
import zipfile

import pytest

from summarizer.corpora import deduplicate, read_corpus, split_of
from summarizer.errors import InputError
from summarizer.evaluation import evaluate, format_table, prepare
from summarizer.engines import ExtractiveEngine, LeadEngine
from summarizer.generation import GenerationSettings

LEAD = "أعلنت وزارة الصحة اليوم عن حملة تطعيم وطنية جديدة تستهدف الأطفال في جميع المحافظات."
BODY = ("وقالت الوزارة في بيان إن الحملة ستستمر أسبوعين وتشمل أكثر من مليون طفل في المدارس والمراكز الصحية.\n"
        "وأضافت أن فرقا طبية متنقلة ستزور القرى النائية لضمان وصول اللقاح إلى جميع الأطفال دون استثناء.")

ANT_GOOD = f"""<DOC>
<DOCNO>BB-health-1-20180101</DOCNO>
<URL>http://example.com/a</URL>
<SRC>BBC</SRC>
<TITLE>حملة تطعيم وطنية للأطفال</TITLE>
<ABSTRACT>
تطلق وزارة الصحة حملة لتطعيم الأطفال.
</ABSTRACT>
<TEXT>
{LEAD}
{BODY}
-----------------------------------------------------
يمكنكم استلام إشعارات بأهم الموضوعات
</TEXT>
</DOC>"""
# Malformed: no closing tags at all, as some corpus files are.
ANT_MALFORMED = f"<DOC>\n<DOCNO>SK-x-2-20180101\n<TITLE>عنوان آخر مختلف\n<TEXT>\n{LEAD}\n{BODY}\n"


def write_ant_dir(root):
    (root / "BBC" / "health").mkdir(parents=True)
    (root / "BBC" / "health" / "a.txt").write_text(ANT_GOOD, encoding="utf-8")
    (root / "BBC" / "health" / "b.txt").write_text(ANT_MALFORMED, encoding="utf-8")
    return root


def test_ant_directory_and_malformed_file(tmp_path):
    articles = list(read_corpus(write_ant_dir(tmp_path / "ant")))
    good, bad = articles
    assert good.id == "BB-health-1-20180101" and good.source == "BBC" and good.url == "http://example.com/a"
    assert good.title == "حملة تطعيم وطنية للأطفال" and good.reference == "تطلق وزارة الصحة حملة لتطعيم الأطفال."
    assert good.paragraphs[0] == LEAD and len(good.paragraphs) == 3  # BBC footer dropped
    assert bad.id == "SK-x-2-20180101" and bad.title == "عنوان آخر مختلف" and bad.lead == LEAD


def test_ant_tarball(tmp_path):
    path = tmp_path / "ant.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        data = ANT_GOOD.encode()
        info = tarfile.TarInfo("ant/BBC/health/a.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (article,) = read_corpus(path)
    assert article.title == "حملة تطعيم وطنية للأطفال"


def test_ant_file_without_text_names_the_file(tmp_path):
    root = tmp_path / "ant"
    root.mkdir()
    (root / "x.txt").write_text("<DOC><DOCNO>1</DOCNO><TITLE>عنوان</TITLE></DOC>", encoding="utf-8")
    with pytest.raises(InputError, match=r"x\.txt: no <TEXT>"):
        list(read_corpus(root, fmt="ant"))


def test_saudinewsnet_zip_dir(tmp_path):
    items = [{"source": "alriyadh", "url": "http://r.com/1", "date_extracted": "2015-08-01 10:00:00",
              "title": "عنوان الخبر", "author": "", "content": f"{LEAD}\n{BODY}"},
             {"source": "okaz", "url": "http://o.com/2", "title": "", "content": ""}]
    with zipfile.ZipFile(tmp_path / "2015-08-01.zip", "w") as z:
        z.writestr("2015-08-01.json", json.dumps(items, ensure_ascii=False))
    (article,) = read_corpus(tmp_path)  # the empty article is skipped
    assert article.source == "alriyadh" and article.title == "عنوان الخبر" and len(article.paragraphs) == 3


def test_saudinewsnet_bad_zip_and_bad_json_name_the_file(tmp_path):
    (tmp_path / "2015-08-02.zip").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="2015-08-02.zip: not a valid zip"):
        list(read_corpus(tmp_path))
    (tmp_path / "2015-08-02.zip").unlink()
    with zipfile.ZipFile(tmp_path / "2015-08-03.zip", "w") as z:
        z.writestr("2015-08-03.json", "[{broken")
    with pytest.raises(InputError, match="2015-08-03.json: invalid JSON"):
        list(read_corpus(tmp_path))


def test_jsonl_reader_and_errors(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"id": "1", "title": "ع", "text": f"{LEAD}\n{BODY}", "summary": "م"},
                               ensure_ascii=False) + "\n\n", encoding="utf-8")
    (article,) = read_corpus(path)
    assert article.id == "1" and article.reference == "م" and len(article.paragraphs) == 3
    path.write_text('{"id": 1}\n{oops\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"a\.jsonl:1: no `text`"):
        list(read_corpus(path))


def test_text_files_and_missing_path(tmp_path):
    (tmp_path / "p.txt").write_text(f"{LEAD}\n{BODY}", encoding="utf-8")
    (article,) = read_corpus(tmp_path / "p.txt")
    assert article.id == "p"
    with pytest.raises(InputError, match="no such file"):
        read_corpus(tmp_path / "missing")


def test_dedup_by_url_and_normalized_title():
    from summarizer.article import Article

    a = Article(id="1", paragraphs=["x"], title="إطلاق حملة", url="http://a/1")
    b = Article(id="2", paragraphs=["x"], title="اطلاق حمله", url="http://a/2")  # same title after normalization
    c = Article(id="3", paragraphs=["x"], title="خبر آخر", url="http://a/1/")  # same url
    d = Article(id="4", paragraphs=["x"], title="خبر ثالث", url=None)
    assert [x.id for x in deduplicate([a, b, c, d])] == ["1", "4"]


def test_splits_are_deterministic_and_proportioned():
    ids = [f"doc-{i}" for i in range(4000)]
    first = [split_of(i) for i in ids]
    assert first == [split_of(i) for i in ids]
    assert 0.03 < first.count("dev") / len(ids) < 0.07
    assert first != [split_of(i, seed=99) for i in ids]


def test_protocols_skip_and_count(tmp_path):
    good, bad = read_corpus(write_ant_dir(tmp_path / "ant"))
    lead = prepare([good, bad], "lead")
    assert len(lead.inputs) == 2 and lead.references[0] == LEAD and lead.inputs[0].paragraphs == good.body
    headline = prepare([good], "headline")
    assert headline.references == [good.title]
    abstract = prepare([good, bad], "abstract")
    assert len(abstract.inputs) == 1 and abstract.skipped == {"no abstract": 1}
    assert abstract.inputs[0].paragraphs == good.paragraphs


def test_evaluate_writes_report_and_predictions(tmp_path):
    articles = list(read_corpus(write_ant_dir(tmp_path / "ant")))
    report = evaluate([LeadEngine(1), ExtractiveEngine()], articles, "headline", GenerationSettings(),
                      out_dir=tmp_path / "out", progress=False)
    assert [r["engine"] for r in report["rows"]] == ["lead-1", "extractive"]
    assert "bleu" in report["rows"][0]
    assert (tmp_path / "out" / "report.json").is_file()
    lines = (tmp_path / "out" / "predictions-extractive.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == 2 and "rouge1" in json.loads(lines[0])["scores"]
    table = format_table(report)
    assert "BLEU" in table and "lead-1" in table


def test_abstract_that_repeats_the_lead_is_skipped():
    from summarizer.article import Article
    from summarizer.evaluation import repeats_text

    text = LEAD + "\n" + BODY
    assert repeats_text(LEAD, text)
    assert repeats_text(LEAD[:40], text)  # cut mid-word, as AlArabiya abstracts are
    assert not repeats_text("تطلق وزارة الصحة حملة لتطعيم الأطفال.", text)
    article = Article(id="x", paragraphs=text.split("\n"), reference=LEAD[:50])
    assert prepare([article], "abstract").skipped == {"abstract repeats the lead": 1}


def test_an_over_long_json_lines_line_is_one_error_naming_it_and_reading_goes_on(tmp_path, monkeypatch):
    import summarizer.corpora as corpora
    from summarizer.corpora import read_jsonl

    monkeypatch.setattr(corpora, "MAX_LINE_BYTES", 1000, raising=False)
    path = tmp_path / "a.jsonl"
    good = {"text": f"{LEAD}\n{BODY}"}
    path.write_text("\n".join(json.dumps({"id": name, **good}, ensure_ascii=False) for name in ("1", "long", "3"))
                    .replace('"long", "text": "', '"long", "text": "' + "كلمة " * 400) + "\n", encoding="utf-8")
    results = list(read_jsonl(path, errors="collect"))
    assert [a.id if a else p.line for a, p in results] == ["1", 2, "3"]  # line 3 keeps its number
    problem = results[1][1]
    assert str(problem).startswith(f"{path}:2: ") and "1,000 bytes" in str(problem)
    with pytest.raises(InputError, match=r"a\.jsonl:2: .*1,000 bytes"):
        list(read_corpus(path))


def run_cli_with_capped_memory(args, cap=1 << 30):
    """The CLI in a child process whose heap cannot grow past `cap`: an unbounded read fails there, not here."""
    import resource
    import subprocess
    import sys
    from pathlib import Path

    def limit():
        resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))

    return subprocess.run([sys.executable, "-m", "summarizer.cli", *args], cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, text=True, timeout=120, preexec_fn=limit)


def test_dev_zero_as_json_lines_is_one_clean_error_in_bounded_memory(tmp_path):
    zero = tmp_path / "zero.jsonl"
    zero.symlink_to("/dev/zero")
    out = tmp_path / "out.jsonl"
    batch = run_cli_with_capped_memory(["batch", str(zero), "--out", str(out), "--engine", "extractive"])
    assert batch.returncode == 1, batch.stderr[-2000:]  # an item failed
    assert "Traceback" not in batch.stderr and "MemoryError" not in batch.stderr
    (record,) = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert record["status"] == "error" and record["error"].startswith(f"{zero}:1: ")
    evaluate = run_cli_with_capped_memory(["evaluate", "--data", str(zero), "--engine", "extractive"])
    assert evaluate.returncode == 2 and "Traceback" not in evaluate.stderr
    assert evaluate.stderr.strip().splitlines()[-1].startswith(f"summarizer: error: {zero}:1: ")
