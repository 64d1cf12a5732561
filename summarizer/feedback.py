"""Editors' feedback: the headline and summary a desk chose or wrote for an article, kept as training data.

A server started with a feedback folder (`summarizer serve --feedback-dir DIR`) appends one JSON Lines line per save
to DIR/feedback.jsonl (the web desk's "حفظ الاختيار" button, or POST /api/feedback); `summarizer train` reads such
files as a data source (`data.feedback`), so a desk's corrections become the next adapter's targets. Without the
folder nothing is saved.

A save is checked first (types, sizes, a candidate index that exists), then written as one write() on a file opened
for appending, under an exclusive lock, and fsync'ed: concurrent saves never interleave, a save that could not be
written whole is cut back off the file, and what was saved before is never touched. The file is bounded: past
MAX_FILE_BYTES a save is refused (move the file away to start a new one; training reads folders of them).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from .clean import MAX_PAGE_CHARS
from .corpora import MAX_LINE_BYTES, LineError, read_lines
from .errors import ConfigError, InputError, SummarizerError
from .settings import build
from .text import has_arabic

FEEDBACK_FILE = "feedback.jsonl"
FORMAT = "summarizer-feedback/1"
MAX_FILE_BYTES = 256 * 2**20
"""A feedback file stops growing here (a thousand saves of the longest pages; a desk's year of typical ones)."""
MAX_HEADLINE_CHARS = 300
MAX_SUMMARY_CHARS = 4000
MAX_CANDIDATES = 10
MAX_EVIDENCE = 10
MAX_SHORT_CHARS = 200
"""Engine names, verdicts."""


class FeedbackOff(SummarizerError):
    """This server was started without a feedback folder: nothing is saved."""


class FeedbackFull(SummarizerError):
    """The feedback file reached MAX_FILE_BYTES."""


@dataclass
class Feedback:
    """One save: an article and what the editor kept for it."""

    article: str = ""
    """The article text the headline and summary are for (the cleaned article the engine saw)."""
    headline: str = ""
    """The headline the editor kept: a candidate as picked, or as edited."""
    summary: str = ""
    """The summary the editor kept, as shown or edited (empty: only the headline is given)."""
    candidates: list[dict] = field(default_factory=list)
    """The headline candidates the editor chose from, best first: {"text", "verdict", "score", "evidence"}."""
    chosen: int | None = None
    """Index in `candidates` of the one picked (absent: none was picked; the headline was written)."""
    engine_summary: str = ""
    """The summary as the engine wrote it (tells an edited summary from a kept one)."""
    summary_length: Literal["sentence", "short", "bullets"] = "sentence"
    """The summary form the editor asked for (training takes summaries of the sentence and short forms)."""
    engine: str = ""
    """The engine that wrote the candidates and the summary."""

    def problem_fields(self) -> dict[str, str]:
        """Field -> what is wrong with it (sizes and shapes; types are checked by settings.build)."""
        out = {}
        if not self.article.strip() or len(self.article) > MAX_PAGE_CHARS or not has_arabic(self.article):
            out["article"] = f"must be the article's Arabic text, at most {MAX_PAGE_CHARS:,} characters"
        if not self.headline.strip() or len(self.headline) > MAX_HEADLINE_CHARS:
            out["headline"] = f"must be a headline of 1 to {MAX_HEADLINE_CHARS} characters"
        for name in ("summary", "engine_summary"):
            if len(getattr(self, name)) > MAX_SUMMARY_CHARS:
                out[name] = f"must be at most {MAX_SUMMARY_CHARS:,} characters"
        if len(self.engine) > MAX_SHORT_CHARS:
            out["engine"] = f"must be at most {MAX_SHORT_CHARS} characters"
        if len(self.candidates) > MAX_CANDIDATES or not all(map(_candidate_ok, self.candidates)):
            out["candidates"] = (f"must be at most {MAX_CANDIDATES} objects with a 'text' of at most "
                                 f"{MAX_HEADLINE_CHARS} characters, an optional 'verdict', 'score' (a number) and "
                                 f"'evidence' (at most {MAX_EVIDENCE} {{'sentence', 'text'}} objects)")
        if self.chosen is not None and not 0 <= self.chosen < len(self.candidates):
            out["chosen"] = "must be the index of one of the candidates"
        return out

    def problems(self) -> list[str]:
        return [f"{name} {problem}" for name, problem in self.problem_fields().items()]

    @property
    def headline_edited(self) -> bool:
        """The editor's headline is not a candidate's text as it was offered."""
        return self.headline.strip() not in {c["text"].strip() for c in self.candidates}

    def record(self, now: dt.datetime | None = None) -> dict:
        """The line saved: this feedback in plain fields (candidates reduced to theirs), when, and what was edited."""
        values = asdict(self)
        values["candidates"] = [_plain_candidate(c) for c in self.candidates]
        return {"format": FORMAT, "time": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
                **values, "headline_edited": self.headline_edited,
                "summary_edited": bool(self.engine_summary) and self.summary.strip() != self.engine_summary.strip()}

    @classmethod
    def from_dict(cls, values: dict) -> "Feedback":
        """From user input: unknown names, wrong types and every problem above in one ConfigError."""
        return build(cls, values, what="field")


def _candidate_ok(candidate) -> bool:
    if not isinstance(candidate, dict) or not isinstance(candidate.get("text"), str):
        return False
    score, verdict, evidence = candidate.get("score"), candidate.get("verdict"), candidate.get("evidence", [])
    return (0 < len(candidate["text"].strip()) and len(candidate["text"]) <= MAX_HEADLINE_CHARS
            and (score is None or isinstance(score, (int, float)) and not isinstance(score, bool))
            and (verdict is None or isinstance(verdict, str) and len(verdict) <= MAX_SHORT_CHARS)
            and isinstance(evidence, list) and len(evidence) <= MAX_EVIDENCE
            and all(isinstance(e, dict) and isinstance(e.get("text", ""), str) and len(e.get("text", "")) <= 2000
                    and isinstance(e.get("sentence", 0), int) for e in evidence))


def _plain_candidate(candidate: dict) -> dict:
    return {"text": candidate["text"], "verdict": candidate.get("verdict"), "score": candidate.get("score"),
            "evidence": [{"sentence": e.get("sentence"), "text": e.get("text", "")}
                         for e in candidate.get("evidence", [])]}


class FeedbackStore:
    """Appends checked feedback to DIR/feedback.jsonl (the folder is made when the store is)."""

    def __init__(self, directory: str | Path):
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"feedback folder {directory}: cannot be created ({exc.strerror})") from None
        if not os.access(directory, os.W_OK | os.X_OK):
            raise ConfigError(f"feedback folder {directory}: not writable")
        self.path = directory / FEEDBACK_FILE
        self._lock = threading.Lock()  # flock is per open file: threads of this process take turns here first

    def save(self, feedback: Feedback, now: dt.datetime | None = None) -> dict:
        """Append one checked save; returns the record written. ConfigError for a bad save, FeedbackFull when the
        file is at its bound; nothing is written then."""
        problems = feedback.problems()
        if problems:
            raise ConfigError("; ".join(problems))
        record = feedback.record(now)
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        if len(data) > MAX_LINE_BYTES:
            raise InputError(f"this save is over {MAX_LINE_BYTES:,} bytes, the longest line training reads")
        with self._lock:
            self._append(data)
        return record

    def _append(self, data: bytes) -> None:
        # O_NOFOLLOW: a link planted at the file's name does not redirect the write elsewhere.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # other processes writing the same file wait
            size = os.fstat(fd).st_size
            if size + len(data) > MAX_FILE_BYTES:
                raise FeedbackFull(f"the feedback file {self.path} is full ({MAX_FILE_BYTES // 2**20} MiB); move it "
                                   "away to start a new one")
            try:
                written = os.write(fd, data)
                if written != len(data):
                    raise OSError(0, f"only {written} of {len(data)} bytes written")
                os.fsync(fd)
            except OSError as exc:
                os.ftruncate(fd, size)  # a torn line would spoil the file for the reader
                raise SummarizerError(f"the feedback could not be saved ({exc.strerror})") from None
        finally:
            os.close(fd)


# --- reading feedback files (training) ------------------------------------------------------------------------
def feedback_files(paths: list[str]) -> list[Path]:
    """The files named, and the *.jsonl files of the folders named, in order."""
    out = []
    for name in paths:
        path = Path(name)
        out += sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    return out


def read_feedback(path: str | Path) -> Iterator[tuple[Feedback | None, LineError | None]]:
    """(feedback, None) for each good line of a feedback file, (None, LineError naming file:line) for a bad one: a
    torn or hand-edited line costs only itself. Lines are read in bounded memory."""
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    with handle:
        try:
            for lineno, raw in read_lines(handle, path):
                try:
                    item = _feedback_from_line(path, lineno, raw)
                except LineError as problem:
                    yield None, problem
                    continue
                if item is not None:
                    yield item, None
        except LineError as problem:
            yield None, problem


def _feedback_from_line(path: Path, lineno: int, raw: bytes | None) -> Feedback | None:
    if raw is None:
        raise LineError(path, lineno, f"line over {MAX_LINE_BYTES:,} bytes, skipped")
    try:
        line = raw.decode("utf-8").strip()
        if not line:
            return None
        values = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise LineError(path, lineno, "not a JSON object on one UTF-8 line") from None
    if not isinstance(values, dict) or values.get("format") != FORMAT:
        raise LineError(path, lineno, f"not a feedback line (its 'format' is not {FORMAT})")
    names = {f for f in Feedback.__dataclass_fields__}
    try:
        return Feedback.from_dict({k: v for k, v in values.items() if k in names})
    except ConfigError as exc:
        raise LineError(path, lineno, str(exc)) from None
