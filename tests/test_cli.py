import json
import subprocess
import sys

import pytest

from summarizer.cli import main
from summarizer.text import has_arabic
from tests.conftest import SCRAPED_PAGE
from tests.test_batch import site  # noqa: F401  (the loopback site: article pages, feeds, failures)

SECOND = "مقال آخر في الصفحة نفسها"


def run_cli(*args, stdin: str | None = None):
    """The installed entry point in a subprocess: what a user sees, tracebacks included."""
    return subprocess.run([sys.executable, "-m", "summarizer.cli", *args], input=stdin, capture_output=True,
                          text=True, timeout=60)


def test_summarize_seed_page_extractive_lists_both_articles():
    proc = run_cli("summarize", "--engine", "extractive", str(SCRAPED_PAGE))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("العنوان:") == 2 and SECOND in out and "another article" not in out
    assert "في الصفحة مقالان" in out and "2 مقالات" not in out  # the number agrees with the noun
    main_part, second_part = out.split(SECOND)
    assert "السفارة الروسية" in main_part and "درعا" not in main_part
    for furniture in ("المصدر", "كلمات دلالية", "مقالات مشابهة", "http"):
        assert furniture not in out


def test_summarize_json_lines_from_stdin():
    proc = run_cli("summarize", "--engine", "lead-2", "--json", stdin=SCRAPED_PAGE.read_text("utf-8"))
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["secondary"] for r in records] == [False, True]
    assert all(r["headline"] and r["summary"] and r["engine"] == "lead-2" for r in records)


def test_clean_json():
    proc = run_cli("clean", "--json", str(SCRAPED_PAGE))
    assert proc.returncode == 0
    titles = [json.loads(line)["title"] for line in proc.stdout.splitlines()]
    assert titles[1] == "قتلى مدنيون بأول أيام العيد في سوريا"


@pytest.mark.parametrize("content, message", [
    (b"", "النص فارغ"),
    (b"Only English here, nothing else at all.", "لا نص عربي"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "ملف ثنائي"),
    ("نص عربي".encode("cp1256"), "UTF-8"),
])
def test_bad_files_give_one_clear_line(tmp_path, content, message):
    path = tmp_path / "page.txt"
    path.write_bytes(content)
    proc = run_cli("summarize", "--engine", "extractive", str(path))
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert str(path) in proc.stderr and has_arabic(proc.stderr.split(str(path), 1)[1], minimum=5)  # Arabic for users


def test_missing_oversized_and_directory_inputs(tmp_path, capsys):
    big = tmp_path / "big.txt"
    big.write_text("خبر " * 300_000, encoding="utf-8")
    assert main(["summarize", "--engine", "extractive", str(big)]) == 2
    assert "أكبر من حد الصفحة الواحدة (200,000 حرف)" in capsys.readouterr().err
    assert main(["summarize", "--engine", "extractive", str(tmp_path / "nope.txt")]) == 2
    assert "لا يوجد ملف بهذا الاسم" in capsys.readouterr().err
    assert main(["clean", str(tmp_path)]) == 2
    assert "مجلد، لا ملف نصي" in capsys.readouterr().err


def test_bad_settings_and_engine_are_clear_errors(capsys):
    assert main(["summarize", "--engine", "extractive", "--sentences", "0", str(SCRAPED_PAGE)]) == 2
    assert "summary_sentences must be from 1 to 10" in capsys.readouterr().err
    assert main(["summarize", "--engine", "nonsense", str(SCRAPED_PAGE)]) == 2
    assert "unknown engine" in capsys.readouterr().err


def test_endless_inputs_are_read_up_to_the_limit_only(tmp_path):
    import os
    import threading

    proc = subprocess.run([sys.executable, "-m", "summarizer.cli", "summarize", "--engine", "extractive",
                           "/dev/zero"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "/dev/zero" in proc.stderr and "Traceback" not in proc.stderr
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def feed():  # a writer that would go on for ever
        try:
            with open(fifo, "wb") as handle:
                while True:
                    handle.write("خبر ".encode() * 10_000)
        except (BrokenPipeError, OSError):
            pass

    threading.Thread(target=feed, daemon=True).start()
    proc = run_cli("summarize", "--engine", "extractive", str(fifo))
    assert proc.returncode == 2 and "أكبر من حد الصفحة" in proc.stderr and "Traceback" not in proc.stderr
    endless = subprocess.Popen([sys.executable, "-m", "summarizer.cli", "summarize", "--engine", "extractive", "-"],
                               stdin=subprocess.PIPE, stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        for _ in range(200):
            endless.stdin.write("خبر ".encode() * 10_000)
    except BrokenPipeError:
        pass  # it stopped reading at the limit, as it should
    _, err = endless.communicate(timeout=60)
    assert endless.returncode == 2 and b"standard input" in err and b"Traceback" not in err


def test_binary_stdin_and_html_source():
    proc = subprocess.run([sys.executable, "-m", "summarizer.cli", "summarize", "--engine", "extractive", "-"],
                          input=b"\xff\xfe\x00\x01binary", capture_output=True, timeout=60)
    assert proc.returncode == 2 and "standard input: ملف ثنائي".encode() in proc.stderr
    html = ("<!DOCTYPE html><html><head><script>var tracker = 1;</script><style>p{}</style></head><body><nav>الرئيسية"
            "</nav><article>" + "".join(f"<p>{p}</p>" for p in SCRAPED_PAGE.read_text("utf-8").splitlines()[:12]
                                         if p.strip()) + "</article></body></html>")
    proc = run_cli("summarize", "--engine", "extractive", "--json", stdin=html)
    assert proc.returncode == 0, proc.stderr
    first = json.loads(proc.stdout.splitlines()[0])
    assert "<" not in first["headline"] and "script" not in first["summary"] and "tracker" not in proc.stdout


@pytest.mark.parametrize("engine, message", [("lead-0", "from 1 to 20"), ("lead-x", "from 1 to 20"),
                                              ("lead-99", "from 1 to 20")])
def test_lead_k_names_are_checked(engine, message):
    proc = run_cli("summarize", "--engine", engine, str(SCRAPED_PAGE))
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_a_bad_file_among_several_is_named_and_the_others_are_summarized(tmp_path):
    bad = tmp_path / "english.txt"
    bad.write_text("no Arabic here", encoding="utf-8")
    proc = run_cli("summarize", "--engine", "extractive", "--json", str(SCRAPED_PAGE), str(bad))
    assert proc.returncode == 2
    assert str(bad) in proc.stderr and "لا نص عربي" in proc.stderr
    assert len(proc.stdout.splitlines()) == 2  # the good page's two articles were still written


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_settings_are_refused(value):
    proc = run_cli("summarize", "--engine", "extractive", f"--length-penalty={value}", str(SCRAPED_PAGE))
    assert proc.returncode == 2 and "not a finite number" in proc.stderr


def test_every_generation_setting_has_a_flag():
    from summarizer.cli import build_parser
    from summarizer.generation import GenerationSettings
    from summarizer.settings import describe, flag

    text = build_parser()._subparsers._group_actions[0].choices["summarize"].format_help()
    for info in describe(GenerationSettings):
        assert flag(info.name) in text, info.name


def test_weightless_engines_import_no_model_runtime():
    code = ("import sys; from summarizer.cli import main; "
            f"main(['summarize', '--engine', 'extractive', {str(SCRAPED_PAGE)!r}]); "
            "print(sorted(m for m in ('torch', 'transformers', 'ctranslate2', 'peft') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip().splitlines()[-1] == "[]"


def test_evaluate_scores_several_engines_in_one_table(tmp_path):
    from tests.test_corpora import write_ant_dir

    corpus = write_ant_dir(tmp_path / "ant")
    proc = run_cli("evaluate", "--data", str(corpus), "--split", "all", "--protocol", "headline",
                   "--engine", "extractive,lead-2,extractive", "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    assert [row["engine"] for row in report["rows"]] == ["lead-1", "lead-3", "extractive", "lead-2"]


def test_evaluate_names_every_bad_engine_at_once(tmp_path):
    proc = run_cli("evaluate", "--data", str(tmp_path / "absent"), "--engine", "extractive,lead-0,nope")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "lead-0" in proc.stderr and "'nope'" in proc.stderr


def test_cache_prune_removes_only_converted_models_unused_for_the_given_days(tmp_path, monkeypatch):
    import os
    import time

    from summarizer.cache import build_once, entries, prune

    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path))
    now = time.time()

    def make(path):
        return build_once(path, lambda tmp: (tmp / "config.json").write_text("{}"), what=path.name)

    old, recent, base = make(tmp_path / "ct2" / "old"), make(tmp_path / "ct2" / "recent"), make(tmp_path / "base")
    for path in (old, recent, base):
        os.utime(path, (now - 40 * 86400, now - 40 * 86400))
    make(tmp_path / "ct2" / "recent")  # loading an entry marks it used
    assert [e.path for e in entries()][0] == recent
    removed = prune(30, now=now)
    assert [e.path for e in removed] == [old]
    assert not old.exists() and (recent / "config.json").is_file() and base.is_dir()

    proc = run_cli("cache", "--prune-days", "0")
    assert proc.returncode == 0, proc.stderr
    assert "removed 1 converted model(s)" in proc.stdout and not recent.exists() and base.is_dir()
    bad = run_cli("cache", "--prune-days", "nan")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--prune-days" in bad.stderr


def subcommand_help(name: str) -> str:
    from summarizer.cli import build_parser

    return " ".join(build_parser()._subparsers._group_actions[0].choices[name].format_help().split())


def test_serve_help_says_what_each_default_means():
    text = subcommand_help("serve")
    assert "(default: )" not in text and "(default: 0)" not in text
    assert "(default: 127.0.0.1 or $SUMMARIZER_HOST)" in text and "(default: 7860 or $SUMMARIZER_PORT)" in text
    for flag in ("--model", "--adapter", "--backend", "--engine", "--device", "--threads"):
        assert flag in text, flag


@pytest.mark.parametrize("command", ["summarize", "evaluate", "batch", "bench", "serve"])
def test_every_engine_setting_has_a_flag(command):
    from summarizer.engines import EngineSettings
    from summarizer.settings import describe, flag

    text = subcommand_help(command)
    for info in describe(EngineSettings):
        assert flag(info.name) in text, info.name
    assert "(default: )" not in text


def test_backend_choices_come_from_the_registry_when_parsing(monkeypatch, capsys):
    from summarizer import backends
    from summarizer.cli import build_parser

    parser = build_parser()
    monkeypatch.setitem(backends.BACKENDS, "fake", "tests.test_cli:NoSuchBackend")  # registered after the build
    assert parser.parse_args(["summarize", "--backend", "fake"]).backend == "fake"
    with pytest.raises(SystemExit):
        parser.parse_args(["summarize", "--backend", "onnx"])
    assert "fake" in capsys.readouterr().err


def test_bad_engine_settings_are_named_at_once(capsys):
    assert main(["summarize", "--engine", "model", "--device", "tpu", "--threads", "-1", str(SCRAPED_PAGE)]) == 2
    err = capsys.readouterr().err
    assert "--model" in err and "device" in err and "threads" in err and len(err.strip().splitlines()) == 1


def test_evaluate_offers_the_protocols_evaluation_defines():
    from summarizer import cli, evaluation

    assert cli.PROTOCOLS is evaluation.PROTOCOLS  # one definition: a new protocol needs no second edit


# --- the editor's desk: URLs, Arabic counts and help ------------------------------------------------------------
def test_summarize_a_url_fetches_the_page_by_the_batch_fetchers_rules(site, capsys):
    url = f"{site}/article/1"
    assert main(["summarize", "--engine", "extractive", "--json", "--allow-private", url]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records and records[0]["url"] == url and records[0]["id"] == url and records[0]["headline"]
    assert "الرئيسية" not in records[0]["summary"]  # the page's main text, not its menu
    # The same rules as batch: loopback is refused without the flag that opens it, never fetched.
    assert main(["summarize", "--engine", "extractive", url]) == 2
    err = capsys.readouterr().err
    assert "loopback" in err and "--allow-private" in err and len(err.strip().splitlines()) == 1
    assert main(["summarize", "--engine", "extractive", "--allow-private", f"{site}/missing", url]) == 2
    captured = capsys.readouterr()
    assert "HTTP 404" in captured.err and f"{site}/missing" in captured.err and "العنوان:" in captured.out
    assert main(["summarize", "--engine", "extractive", "--allow-private", "--timeout", "1", f"{site}/slow"]) == 2
    assert "timeout" in capsys.readouterr().err


@pytest.mark.parametrize("typed, fixed", [("https:/www.example.com/news/1", "https://www.example.com/news/1"),
                                          ("http:/example.com", "http://example.com"),
                                          ("www.example.com/news", "https://www.example.com/news")])
def test_a_url_that_lost_a_slash_gets_a_hint_not_just_no_such_file(typed, fixed, capsys):
    assert main(["summarize", "--engine", "extractive", typed]) == 2
    err = capsys.readouterr().err
    assert fixed in err and "رابط" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("count, words", [(1, "مقال واحد"), (2, "مقالان"), (3, "3 مقالات"), (10, "10 مقالات"),
                                          (11, "11 مقالا"), (99, "99 مقالا"), (100, "100 مقال"), (102, "102 مقال"),
                                          (103, "103 مقالات"), (111, "111 مقالا"), (1000, "1,000 مقال")])
def test_arabic_counts_agree_with_their_noun(count, words):
    from summarizer.reasons import ARTICLE, Note, Reason, counted

    assert counted(count, ARTICLE) == words
    if count > 1:
        assert words in Note(Reason.SEVERAL_ARTICLES, params={"count": count}).text


def test_every_option_of_every_command_has_help():
    import argparse

    from summarizer.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    missing = [f"{name} {action.option_strings or action.dest}" for name, command in commands.items()
               for action in command._actions if not action.help and not isinstance(action, argparse._HelpAction)]
    assert not missing
    assert "dev" in commands["evaluate"].format_help().split("--split", 2)[2][:400]


@pytest.mark.parametrize("command", ["ship", "train"])
def test_delegated_commands_name_themselves_in_their_usage(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert capsys.readouterr().out.startswith(f"usage: summarizer {command} ")


def test_a_reader_that_goes_away_ends_the_output_quietly():
    import subprocess
    import sys

    from tests.conftest import ROOT, SEEDS

    pages = [str(p) for p in sorted(SEEDS.glob("*.txt"))] * 20
    command = (f"{sys.executable} -m summarizer.cli summarize --engine extractive --json {' '.join(pages)} "
               "| head -c 100 > /dev/null")
    done = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr[-500:]
