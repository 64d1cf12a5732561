"""Corpus readers: each yields Article objects, whatever the format on disk.

Formats: JSON Lines, TSV (ARGEN's layout with its header, or bare `document<TAB>title`), the ANT corpus (TREC-like
files, in a directory or a .tar.gz; parsed tolerantly since not every file is well-formed XML), SaudiNewsNet (a
directory of its daily zip files), plain text files.
Errors name the file.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
import tarfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from .article import Article, content_id
from .errors import InputError
from .text import collapse_spaces, normalize, split_paragraphs

_TAG = re.compile(r"<(DOCNO|URL|SRC|CAT|TITLE|TIME|AUTHOR|ABSTRACT|TEXT)>(.*?)(?=</\1>|<(?:DOCNO|URL|SRC|CAT|TITLE|TIME|AUTHOR|ABSTRACT|TEXT|/DOC)>|\Z)", re.S)
# Footers some ANT sources append to every TEXT (BBC's app notice after a dashed rule).
_ANT_FOOTER = re.compile(r"\n-{5,}.*\Z", re.S)


def parse_ant(raw: str, *, name: str = "<ant>") -> Article:
    """Parse one ANT corpus file. Missing closing tags are tolerated; a file without a TEXT tag is an error.

    An empty TEXT (the corpus has some) gives an article with no paragraphs, which readers skip.
    """
    fields: dict[str, str] = {}
    for tag, value in _TAG.findall(raw):
        fields.setdefault(tag, html.unescape(value).strip())
    if "TEXT" not in fields:
        raise InputError(f"{name}: no <TEXT> element found (not an ANT corpus file?)")
    paragraphs = split_paragraphs(_ANT_FOOTER.sub("", fields["TEXT"]))
    return Article(
        id=fields.get("DOCNO") or Path(name).stem,
        paragraphs=paragraphs,
        title=collapse_spaces(fields.get("TITLE", "")) or None,
        reference=collapse_spaces(fields.get("ABSTRACT", "")) or None,
        source=(fields.get("SRC") or None),
        url=(fields.get("URL") or None),
    )


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text (a BOM is dropped); InputError naming `name` for binary or non-UTF-8 data."""
    if b"\x00" in data[:4096]:
        raise InputError(f"{name}: ملف ثنائي (فيه بايتات NUL)، لا ملف نصي")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: ليس نصا بترميز UTF-8 (بايت غير صالح في الموضع {exc.start})") from None


def read_ant(path: str | Path) -> Iterator[Article]:
    """ANT corpus files from a directory tree or a .tar.gz archive (files ending in .txt)."""
    path = Path(path)
    if path.is_dir():
        for file in sorted(path.rglob("*.txt")):
            if file.name != "README.txt":
                article = parse_ant(decode_text(file.read_bytes(), str(file)), name=str(file))
                if article.paragraphs:
                    yield article
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            for member in archive:
                if member.isfile() and member.name.endswith(".txt") and "/README" not in member.name:
                    name = f"{path}:{member.name}"
                    article = parse_ant(decode_text(archive.extractfile(member).read(), name), name=name)
                    if article.paragraphs:
                        yield article
    else:
        raise InputError(f"{path}: not a directory or .tar.gz of ANT corpus files")


def read_saudinewsnet(path: str | Path) -> Iterator[Article]:
    """SaudiNewsNet: a directory of YYYY-MM-DD.zip files (or one zip), each holding one JSON array."""
    path = Path(path)
    zips = sorted(path.glob("*.zip")) if path.is_dir() else [path]
    if not zips:
        raise InputError(f"{path}: no SaudiNewsNet .zip files found")
    for zpath in zips:
        try:
            with zipfile.ZipFile(zpath) as archive:
                for member in archive.namelist():
                    if not member.endswith(".json"):
                        continue
                    name = f"{zpath}:{member}"
                    try:
                        items = json.loads(decode_text(archive.read(member), name))
                    except json.JSONDecodeError as exc:
                        raise InputError(f"{name}: invalid JSON ({exc.msg}, line {exc.lineno})") from None
                    for item in items:
                        paragraphs = split_paragraphs(item.get("content") or "")
                        if not paragraphs:
                            continue
                        url = item.get("url") or None
                        yield Article(
                            id=url and "snn-" + hashlib.sha256(url.encode()).hexdigest()[:16] or content_id(item["content"]),
                            paragraphs=paragraphs,
                            title=collapse_spaces(item.get("title") or "") or None,
                            source=item.get("source") or "saudinewsnet",
                            url=url,
                        )
        except zipfile.BadZipFile:
            raise InputError(f"{zpath}: not a valid zip file") from None


class LineError(InputError):
    """A bad line of a JSON Lines file; `line` is its number (the message names the file and line)."""

    def __init__(self, path, line: int, problem: str):
        super().__init__(f"{path}:{line}: {problem}")
        self.line = line


def _text_field(item: dict, name: str) -> str | None:
    value = item.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"`{name}` must be a string, got {type(value).__name__}")
    return value


def article_from_json(item) -> Article:
    """An Article from one JSON object; ValueError naming the field for anything of the wrong type."""
    if not isinstance(item, dict):
        raise ValueError("expected a JSON object")
    paragraphs = item.get("paragraphs")
    if paragraphs is not None:
        if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
            raise ValueError("`paragraphs` must be a list of strings")
        paragraphs = [p for p in (collapse_spaces(p) for p in paragraphs) if p]
    if not paragraphs:
        text = _text_field(item, "text") or _text_field(item, "content") or ""
        paragraphs = split_paragraphs(text)
    if not paragraphs:
        raise ValueError("no `text` or `paragraphs` field")
    raw_id = item.get("id")
    if raw_id is not None and not isinstance(raw_id, (str, int)):
        raise ValueError("`id` must be a string or a number")
    url = _text_field(item, "url")
    return Article(
        id=str(raw_id) if raw_id not in (None, "") else url or content_id("\n".join(paragraphs)),
        paragraphs=paragraphs,
        title=_text_field(item, "title"),
        reference=_text_field(item, "summary") or _text_field(item, "abstract"),
        source=_text_field(item, "source"),
        url=url,
    )


MAX_LINE_BYTES = 8 * 2**20
"""The longest JSON Lines line read: one article (the page limit, 200,000 characters, is 1.2 MB even as \\u
escapes) with room for its other fields. A longer line is skipped without being held in memory."""
_SKIP_BYTES = 2**20


def read_lines(handle: BinaryIO, name, *, limit: int | None = None) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for each line of a binary stream, in bounded memory: a line over `limit` bytes
    (default MAX_LINE_BYTES) is read past a chunk at a time, never held, and given as None. NUL bytes in such a
    line mean binary data, not lines (/dev/zero has no line end to skip to): a LineError, and reading stops."""
    limit = limit or MAX_LINE_BYTES
    for lineno in itertools.count(1):
        raw = handle.readline(limit + 1)
        if not raw:
            return
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield lineno, raw
            continue
        while raw and not raw.endswith(b"\n"):
            if b"\x00" in raw:
                raise LineError(name, lineno, "binary data (NUL bytes), not lines of text")
            raw = handle.readline(_SKIP_BYTES)
        yield lineno, None


def _article_from_line(path: Path, lineno: int, raw: bytes | None) -> Article | None:
    """The article on one line (None for a blank line); LineError naming the file and line for anything else."""
    if raw is None:
        raise LineError(path, lineno, f"line over {MAX_LINE_BYTES:,} bytes, skipped")
    try:
        line = decode_text(raw, f"{path}:{lineno}").strip()
    except InputError as exc:
        raise LineError(path, lineno, str(exc).split(": ", 1)[-1]) from None
    if not line:
        return None
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LineError(path, lineno, f"invalid JSON ({exc.msg})") from None
    try:
        return article_from_json(item)
    except ValueError as exc:
        raise LineError(path, lineno, str(exc)) from None


def read_jsonl(path: str | Path, *, errors: str = "raise"):
    """JSON Lines: one object per line with `text` (or `paragraphs`), optional id/title/summary/source/url.

    errors="raise": the first bad line raises a LineError naming the file and line (corpora for training and
    evaluation must be clean). errors="collect": yields (article, None) or (None, LineError) per line, so one bad
    line costs only itself (batch jobs, uploads). Lines are read in bounded memory (read_lines): an over-long line
    is a bad line, binary data ends the file with one.
    """
    path = Path(path)
    with path.open("rb") as handle:
        try:
            for lineno, raw in read_lines(handle, path):
                try:
                    article = _article_from_line(path, lineno, raw)
                except LineError as problem:
                    if errors == "raise":
                        raise
                    yield None, problem
                    continue
                if article is not None:
                    yield (article, None) if errors == "collect" else article
        except LineError as problem:  # from read_lines: binary data, nothing more to read
            if errors == "raise":
                raise
            yield None, problem


TSV_COLUMNS = {"document": ("document", "text", "article", "source"), "title": ("title", "headline", "target"),
               "summary": ("summary", "abstract"), "id": ("id",)}
"""Header names a TSV column may have, per Article field (the first one present wins; others are ignored, e.g.
ARGEN's document_count and title_count)."""
_HEADER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _tsv_header(fields: list[str], where: str) -> dict[str, int] | None:
    """Article field -> column index when the line is a header (every field a bare ASCII name), else None."""
    names = [f.strip().lower() for f in fields]
    if not all(_HEADER_NAME.fullmatch(n) for n in names):
        return None
    columns = {key: next(names.index(n) for n in options if n in names)
               for key, options in TSV_COLUMNS.items() if any(n in names for n in options)}
    if "document" not in columns or not ({"title", "summary"} & set(columns)):
        raise InputError(f"{where}: the header ({', '.join(names)}) needs a document column (one of "
                         f"{', '.join(TSV_COLUMNS['document'])}) and a title or summary column (one of "
                         f"{', '.join(TSV_COLUMNS['title'] + TSV_COLUMNS['summary'])})")
    return columns


def _tsv_row(fields: list[str], header: list[str] | None, columns: dict[str, int], where: str) -> dict[str, str]:
    """The Article fields of one data line; InputError naming the line when it does not fit the layout."""
    if header is None:
        if len(fields) != 2 or not fields[0].strip() or not fields[1].strip():
            raise InputError(f"{where}: expected document<TAB>title, got {len(fields)} field(s)"
                             + ("" if len(fields) != 2 else " with an empty one"))
    elif len(fields) != len(header):
        raise InputError(f"{where}: expected {len(header)} tab-separated fields ({', '.join(header)}), "
                         f"got {len(fields)}")
    row = {key: fields[index].strip() for key, index in columns.items()}
    if not row["document"] or not (row.get("title") or row.get("summary")):
        empty = "document" if not row["document"] else " and ".join(k for k in ("title", "summary") if k in row)
        raise InputError(f"{where}: empty {empty}")
    return row


def read_tsv(path: str | Path) -> Iterator[Article]:
    """Tab-separated documents with their titles (or summaries): a header row naming the columns (ARGEN's title
    generation files: document, title, document_count, title_count), or no header and exactly
    `document<TAB>title`. A line that does not fit is an InputError naming the file and line."""
    path = Path(path)
    header: list[str] | None = None
    columns = {"document": 0, "title": 1}
    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, 1):
            where = f"{path}:{lineno}"
            line = decode_text(raw, where).rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if lineno == 1 and (named := _tsv_header(fields, where)) is not None:
                header, columns = [f.strip() for f in fields], named
                continue
            row = _tsv_row(fields, header, columns, where)
            yield Article(id=row.get("id") or f"{path.stem}-{lineno}",
                          paragraphs=split_paragraphs(row["document"].replace("\\n", "\n")),
                          title=collapse_spaces(row.get("title", "")) or None,
                          reference=collapse_spaces(row.get("summary", "")) or None, source=path.stem)


def read_text_file(path: str | Path) -> Article:
    """A plain text file as one raw article (no cleaning: see clean.clean_page for scraped pages)."""
    path = Path(path)
    text = decode_text(path.read_bytes(), str(path))
    return Article(id=path.stem, paragraphs=split_paragraphs(text), source=str(path))


INPUT_TYPES = {
    "jsonl": "JSON Lines: one object per line with text or paragraphs (.jsonl, .ndjson)",
    "tsv": "tab-separated documents and titles, with a header naming the columns (ARGEN) or without (.tsv)",
    "feed": "an RSS or Atom feed (.xml, .rss, .atom)",
    "ant": "ANT corpus files, a directory or .tar.gz",
    "saudinewsnet": "SaudiNewsNet daily .zip files, a directory or one zip",
    "text": "a plain text page (.txt), or a folder of any of these",
}
"""The one registry of input types: corpora, batch and the web demo decide what a file is with `detect_format`."""
FEED_SUFFIXES = (".xml", ".rss", ".atom")


def detect_format(path: Path) -> str:
    """One of INPUT_TYPES, from the name (and for a directory, its contents)."""
    name = path.name.lower()
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(FEED_SUFFIXES):
        return "feed"
    if name.endswith(".tsv"):
        return "tsv"
    if name.endswith((".tar.gz", ".tgz")):
        return "ant"
    if name.endswith(".zip"):
        return "saudinewsnet"
    if path.is_dir():
        if any(path.glob("*.zip")):
            return "saudinewsnet"
        first = next(path.rglob("*.txt"), None)
        if first is not None and first.read_text("utf-8", errors="replace").lstrip().startswith("<DOC>"):
            return "ant"
        return "text"
    return "text"


def read_corpus(path: str | Path, *, fmt: str = "auto") -> Iterator[Article]:
    """Articles from any supported corpus; `fmt` is auto, jsonl, ant, saudinewsnet or text."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "jsonl":
        return read_jsonl(path)
    if fmt == "ant":
        return read_ant(path)
    if fmt == "saudinewsnet":
        return read_saudinewsnet(path)
    if fmt == "tsv":
        return read_tsv(path)
    if fmt == "feed":
        raise InputError(f"{path}: a feed, not a corpus (summarize it with `summarizer batch`)")
    if fmt == "text":
        files = sorted(path.rglob("*.txt")) if path.is_dir() else [path]
        return (read_text_file(f) for f in files)
    raise InputError(f"unknown corpus format {fmt!r} (use auto, {', '.join(INPUT_TYPES)})")


def deduplicate(articles: Iterable[Article]) -> Iterator[Article]:
    """Drop repeats by url and by normalized title (the corpora carry reposted articles)."""
    seen_urls: set[str] = set()
    seen_titles: set[str] = set()
    for article in articles:
        url = (article.url or "").strip().rstrip("/")
        title = " ".join(normalize(article.title or "").split())
        if (url and url in seen_urls) or (title and title in seen_titles):
            continue
        if url:
            seen_urls.add(url)
        if title:
            seen_titles.add(title)
        yield article


def split_of(article_id: str, *, seed: int = 13, dev: float = 0.05, test: float = 0.05) -> str:
    """Deterministic train/dev/test assignment by hashing the id with a seed (stable across runs and machines)."""
    bucket = int(hashlib.sha256(f"{seed}:{article_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    if bucket < dev:
        return "dev"
    if bucket < dev + test:
        return "test"
    return "train"


def select_split(articles: Iterable[Article], split: str, **kwargs) -> Iterator[Article]:
    if split == "all":
        yield from articles
        return
    for article in articles:
        if split_of(article.id, **kwargs) == split:
            yield article
