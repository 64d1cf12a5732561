import json
import subprocess
import sys

import pytest

from summarizer.cli import main
from tests.conftest import SCRAPED_PAGE


def run_cli(*args, stdin: str | None = None):
    """The installed entry point in a subprocess: what a user sees, tracebacks included."""
    return subprocess.run([sys.executable, "-m", "summarizer.cli", *args], input=stdin, capture_output=True,
                          text=True, timeout=60)


def test_summarize_seed_page_extractive_lists_both_articles():
    proc = run_cli("summarize", "--engine", "extractive", str(SCRAPED_PAGE))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("العنوان:") == 2 and "another article on the same page" in out
    main_part, second_part = out.split("another article on the same page")
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
    (b"", "empty"),
    (b"Only English here, nothing else at all.", "no Arabic"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("نص عربي".encode("cp1256"), "not valid UTF-8"),
])
def test_bad_files_give_one_clear_line(tmp_path, content, message):
    path = tmp_path / "page.txt"
    path.write_bytes(content)
    proc = run_cli("summarize", "--engine", "extractive", str(path))
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_missing_oversized_and_directory_inputs(tmp_path, capsys):
    big = tmp_path / "big.txt"
    big.write_text("خبر " * 300_000, encoding="utf-8")
    assert main(["summarize", "--engine", "extractive", str(big)]) == 2
    assert "over the size limit" in capsys.readouterr().err
    assert main(["summarize", "--engine", "extractive", str(tmp_path / "nope.txt")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["clean", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_bad_settings_and_engine_are_clear_errors(capsys):
    assert main(["summarize", "--engine", "extractive", "--sentences", "0", str(SCRAPED_PAGE)]) == 2
    assert "summary_sentences must be a positive integer" in capsys.readouterr().err
    assert main(["summarize", "--engine", "nonsense", str(SCRAPED_PAGE)]) == 2
    assert "unknown engine" in capsys.readouterr().err
