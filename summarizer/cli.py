"""The `summarizer` command: clean, summarize, evaluate, batch, bench, serve, train, ship. Logic lives in the
package modules; each command here reads arguments and calls one function."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from .errors import InputError, SummarizerError
from .evaluation import PROTOCOLS
from .fetch import FetchSettings
from .generation import GenerationSettings
from .settings import ServeSettings, add_arguments, values_from_args

STDIN = "-"
SECOND_ARTICLE = "مقال آخر في الصفحة نفسها"
"""How the text output marks an article found after the page's main one (a record's `secondary`)."""


def _engine_flags(parser: argparse.ArgumentParser, note: str = "", **defaults) -> None:
    """One flag per EngineSettings field; --engine's help lists the registry's engines."""
    from .engines import ENGINES, EngineSettings

    names = "; ".join(f"{name}: {what}" for name, what in ENGINES.items())
    add_arguments(parser, EngineSettings, group_title="engine settings", defaults=defaults,
                  notes={"engine": f"{names}{note}."})


def engine_settings(args, **overrides):
    """The EngineSettings the flags give (and `overrides`); ConfigError naming every problem."""
    from .engines import EngineSettings
    from .settings import build

    return build(EngineSettings, {**values_from_args(args, EngineSettings), **overrides})


def _batch_settings():
    from .batch import BatchSettings

    return BatchSettings


def _settings_args(parser: argparse.ArgumentParser) -> None:
    """One flag per GenerationSettings field, generated from the dataclass (a new setting appears here by itself)."""
    add_arguments(parser, GenerationSettings, aliases=SETTING_ALIASES, group_title="generation settings")


SETTING_ALIASES = {"summary_sentences": ("--sentences",), "num_beams": ("--beams",)}


def settings_from(args) -> GenerationSettings:
    return GenerationSettings.from_dict(values_from_args(args, GenerationSettings))


def engine_from(args):
    from .engines import make_engine

    return make_engine(engine_settings(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="summarizer", description="Arabic news headlines and summaries, offline.")
    sub = parser.add_subparsers(dest="command", required=True)

    clean = sub.add_parser("clean", help="page -> clean articles (furniture removed)")
    clean.add_argument("files", nargs="*", default=[STDIN], help="text files ('-' or none = stdin)")
    clean.add_argument("--json", action="store_true", help="JSON Lines output")

    summarize = sub.add_parser("summarize", help="page(s) -> headline + summary per article")
    summarize.add_argument("files", nargs="*", default=[STDIN], help="text files, or http(s) URLs of pages to fetch "
                           "by the batch fetcher's rules ('-' or none = stdin)")
    summarize.add_argument("--json", action="store_true", help="JSON Lines output, one record per article")
    add_arguments(summarize, FetchSettings, group_title="fetch settings (pages given by URL)")
    _engine_flags(summarize)
    _settings_args(summarize)

    evaluate = sub.add_parser("evaluate", help="Arabic ROUGE of an engine (and the Lead baselines) on a corpus")
    evaluate.add_argument("--data", required=True, help="corpus path (ANT dir/.tar.gz, SaudiNewsNet dir, .jsonl)")
    evaluate.add_argument("--protocol", default="lead", choices=PROTOCOLS,
                          help="lead, abstract, xlsum (text minus first paragraph -> independent abstract), headline, "
                          "title (whole document -> title)")
    evaluate.add_argument("--split", default="dev", choices=("train", "dev", "test", "all"),
                          help="which articles: dev (5%%), test (5%%) or train (90%%) of a fixed split by a hash of each "
                          "article's id (the same on every run and machine; training fits on train and chooses on "
                          "dev), or all")
    evaluate.add_argument("--source", help="only articles of this source (e.g. BBC)")
    evaluate.add_argument("--limit", type=int, help="evaluate at most N articles")
    evaluate.add_argument("--stemmer", default="none", choices=("none", "light", "isri"),
                          help="stemming for the project scorer")
    evaluate.add_argument("--scorer", default="project", choices=("project", "xlsum"),
                          help="project: Arabic-normalized tokens; xlsum: XL-Sum's own scorer (multilingual-rouge, "
                          "lang=arabic, stemming on), for numbers comparable with published tables")
    evaluate.add_argument("--out", help="directory for report.json and per-item predictions")
    _engine_flags(evaluate, note="; several, comma-separated (extractive,default), share one table",
                  engine="extractive")
    _settings_args(evaluate)

    batch = sub.add_parser("batch", help="feeds, JSON Lines, text files or folders -> results.jsonl (resumable)")
    batch.add_argument("inputs", nargs="+", help="feed URLs or files, .jsonl files, .txt files, folders")
    batch.add_argument("--out", required=True, help="JSON Lines output; a rerun completes what is not yet written "
                       "(exit status 1 when any item failed: the failures by kind are listed on stderr)")
    batch.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                       help="run on Ray Data: no ADDRESS starts a local Ray; auto, HOST:PORT or ray://HOST:PORT joins "
                       "a cluster (--out DIR/ then writes part files)")
    add_arguments(batch, _batch_settings(), group_title="batch settings")
    _engine_flags(batch)
    _settings_args(batch)

    serve = sub.add_parser("serve", help="the web demo and JSON API (http://127.0.0.1:7860)")
    add_arguments(serve, ServeSettings)
    _engine_flags(serve)

    train = sub.add_parser("train", help="fine-tune from a YAML config (python -m summarizer.finetune.train)",
                           add_help=False)
    train.add_argument("rest", nargs=argparse.REMAINDER, help="summarizer train's own options (--help lists them)")
    ship = sub.add_parser("ship", help="copy a run's best adapter into the package as the default", add_help=False)
    ship.add_argument("rest", nargs=argparse.REMAINDER, help="summarizer ship's own options (--help lists them)")

    cache = sub.add_parser("cache", help="list the prepared models in the cache; --prune-days removes old ones")
    cache.add_argument("--prune-days", type=float, metavar="DAYS",
                       help="remove converted (CTranslate2) models not used for DAYS days; 0 removes all but those "
                       "a running process has loaded (rebuilt in seconds when next needed)")

    check = sub.add_parser("check", help="does an article support a headline or summary? (the consistency "
                           "checker: verdict, score, evidence sentences)")
    check.add_argument("article", nargs="?", help="the article's text file ('-' = stdin)")
    check.add_argument("--headline", help="the headline to check")
    check.add_argument("--summary", help="the summary to check (sentence by sentence)")
    check.add_argument("--pairs", help="JSON Lines of {\"id\", \"text\", \"headline\"[, \"summary\"]}: one output "
                       "line per input line, the model loaded once")
    check.add_argument("--json", action="store_true", help="JSON output")
    check.add_argument("--checker", help="a checker directory (default: the shipped one)")
    check.add_argument("--backend", choices=("ct2", "hf"), default="ct2", help="runtime (default: ct2)")

    bench = sub.add_parser("bench", help="backends side by side: a plain transformers loop, hf and ct2")
    bench.add_argument("--n", type=int, default=8, help="articles (sample pages, repeated as needed)")
    bench.add_argument("--data", help="corpus to draw articles from instead of the sample pages")
    bench.add_argument("--variants", default="plain,hf,ct2", help="comma-separated: plain, hf, ct2, ct2-full "
                       "(ct2 with the full output layer)")
    bench.add_argument("--quality", type=int, default=0,
                       help="also score dev ROUGE-1 (lead protocol) of hf and ct2 on the first N dev articles of --data")
    bench.add_argument("--fresh-cache", action="store_true",
                       help="also time ct2's first-run conversion in an empty cache")
    bench.add_argument("--json", help="write the numbers to this file")
    _engine_flags(bench)
    _settings_args(bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (["train"], ["ship"]):  # their own parsers (config overrides are free-form)
        return _delegate(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except SummarizerError as exc:
        print(f"summarizer: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # bad settings (GenerationSettings.from_dict) or names
        print(f"summarizer: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("summarizer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as shell tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 141


def _read_inputs(files: list[str], fetch: FetchSettings | None = None
                 ) -> tuple[list[tuple[str, str]], dict[str, str], list[str]]:
    """(page_id, text) pairs, page id -> file name or URL, and one error line per input that could not be read. A
    URL is fetched by `fetch`'s rules and is its page's id."""
    from .article import content_id
    from .fetch import fetch_page, is_url
    from .pipeline import read_limited, read_page_file

    pages, names, errors = [], {}, []
    for name in files:
        try:
            if name == STDIN:
                text = read_limited(sys.stdin.buffer, "standard input")
                page_id = content_id(text)
            elif is_url(name):
                text, page_id = fetch_page(name, fetch), name
            else:
                text = read_page_file(name)
                page_id = os.path.splitext(os.path.basename(name))[0]
        except SummarizerError as exc:
            errors.append(str(exc) if name in str(exc) else f"{name}: {exc}")  # every line names its input
            continue
        if page_id in names:  # two files with one stem: keep both, apart
            page_id = f"{page_id}-{content_id(text)}"
        pages.append((page_id, text))
        names[page_id] = "standard input" if name == STDIN else name
    return pages, names, errors


def _report_errors(errors: list[str]) -> int:
    for error in errors:
        print(f"summarizer: error: {error}", file=sys.stderr)
    return 2 if errors else 0


def cmd_clean(args) -> int:
    from .clean import clean_page

    pages, names, errors = _read_inputs(args.files)
    for page_id, text in pages:
        try:
            page = clean_page(text, page_id=page_id)
        except SummarizerError as exc:
            errors.append(f"{names[page_id]}: {exc}")
            continue
        for k, article in enumerate(page.articles):
            if args.json:
                print(json.dumps({**article.to_dict(), "secondary": k > 0}, ensure_ascii=False))
            else:
                print(f"# {article.id}" + (f" ({SECOND_ARTICLE})" if k else ""))
                if article.title:
                    print(f"العنوان: {article.title}")
                print(article.text + "\n")
    return _report_errors(errors)


def cmd_summarize(args) -> int:
    from .fetch import is_url
    from .pipeline import summarize_pages
    from .settings import build

    settings = settings_from(args)  # bad settings are one line before any page is fetched
    fetch = build(FetchSettings, values_from_args(args, FetchSettings))
    pages, names, errors = _read_inputs(args.files, fetch)
    if not pages:
        return _report_errors(errors)
    engine = engine_from(args)
    urls = {page_id: name for page_id, name in names.items() if is_url(name)}
    for page in summarize_pages(pages, engine, settings, urls=urls):
        if page.error:
            errors.append(f"{names[page.page]}: {page.error}")
            continue
        for result in page.articles:
            if args.json:
                print(json.dumps(result.to_dict(), ensure_ascii=False))
                continue
            tag = f" ({SECOND_ARTICLE})" if result.secondary else ""
            print(f"# {result.id}{tag}  [{result.engine}, {result.timings['summarize']:.2f} s]")
            if result.title:
                print(f"العنوان الأصلي: {result.title}")
            print(f"العنوان: {result.headline}")
            for candidate in result.headline_candidates[1:]:
                print(f"عنوان بديل: {candidate['text']}")
            print(f"الملخص:\n{result.summary}" if result.summary_points else f"الملخص: {result.summary}")
            for warning in result.warnings:
                print(f"ملاحظة: {warning}")
            for task, label in (("headline", "العنوان"), ("summary", "الملخص")):
                unsupported = [*result.faithfulness[task]["unsupported_numbers"],
                               *result.faithfulness[task]["novel_rare_words"]]
                if unsupported:
                    print(f"تحقق ({label}): غير وارد في المقال: {'، '.join(unsupported)}")
                novel = [w for w in result.faithfulness[task]["novel_words"] if w not in unsupported]
                if novel:
                    print(f"كلمات ({label}) لا ترد في المقال: {'، '.join(novel)}")
            print()
    return _report_errors(errors)


def cmd_evaluate(args) -> int:
    from .engines import LeadEngine, make_engine
    from .errors import ConfigError
    from .evaluation import evaluate, format_table, load_eval_articles

    names = list(dict.fromkeys(n.strip() for n in args.engine.split(",") if n.strip()))
    base = engine_settings(args, engine="extractive")  # the other engine settings, checked once
    problems = [] if names else ["--engine: name at least one engine"]
    for name in names:  # every bad name at once, before a corpus is read or a model loaded
        problems += replace(base, engine=name).problems()
    if problems:
        raise ConfigError("; ".join(problems))
    articles = load_eval_articles(args.data, split=args.split)
    engines = [LeadEngine(1), LeadEngine(3)]
    for name in names:
        chosen = make_engine(replace(base, engine=name))
        if chosen.name not in {e.name for e in engines}:
            engines.append(chosen)
    report = evaluate(engines, articles, args.protocol, settings_from(args), out_dir=args.out, stemmer=args.stemmer,
                      scorer=args.scorer, source=args.source, limit=args.limit)
    print(format_table(report))
    if args.out:
        print(f"wrote {os.path.join(args.out, 'report.json')} and per-item predictions")
    return 0


def cmd_batch(args) -> int:
    from pathlib import Path

    from .batch import BatchSettings, check_output, run_batch
    from .settings import build

    options = build(BatchSettings, values_from_args(args, BatchSettings))
    settings = settings_from(args)
    if args.ray:
        from .scale import run_batch_ray

        return run_batch_ray(args.inputs, out=args.out, engine=engine_settings(args), settings=settings,
                             address=None if args.ray == "local" else args.ray, workers=options.workers,
                             num_gpus=options.num_gpus, fetcher_options=options.fetcher_options(),
                             chunk_size=max(8, settings.batch_size * 2), retry_errors=options.retry_errors)
    check_output(Path(args.out))  # an unwritable --out is one line before a model is loaded
    return run_batch(args.inputs, out=args.out, engine=engine_from(args), settings=settings,
                     retry_errors=options.retry_errors, **options.fetcher_options())


def cmd_cache(args) -> int:
    from .cache import cache_dir, entries, prune

    if args.prune_days is not None:
        if not args.prune_days >= 0:  # also refuses NaN
            raise SummarizerError(f"--prune-days must be a number of days >= 0, got {args.prune_days}")
        in_use: list = []
        try:
            removed = prune(args.prune_days, in_use=in_use)
        except OSError as exc:  # a read-only or vanished cache
            raise SummarizerError(f"cannot prune {cache_dir()}: {exc}") from None
        print(f"removed {len(removed)} converted model(s), {sum(e.size for e in removed) / 2**20:.0f} MiB"
              + (f"; kept {len(in_use)} in use by a running process" if in_use else ""))
    found = entries()
    print(f"{cache_dir()}: {len(found)} prepared model(s), {sum(e.size for e in found) / 2**20:.0f} MiB")
    now = time.time()
    for entry in found:
        print(f"{entry.size / 2**20:8.0f} MiB  used {(now - entry.last_used) / 86400:5.1f} days ago  "
              f"{entry.kind if entry.path.name == entry.kind else entry.kind + '/' + entry.path.name}")
    return 0


def cmd_bench(args) -> int:
    from .bench import run_bench

    print(run_bench(args, settings_from(args), engine_settings(args)))
    return 0


def cmd_serve(args) -> int:
    from .service import Engines

    engines = Engines(engine_settings(args))  # bad settings are refused before the web stack is imported
    options = ServeSettings.from_values(values_from_args(args, ServeSettings))
    from .webapp import serve

    serve(engines, options)
    return 0


def _delegate(command: str, rest: list[str]) -> int:
    # Imported here: training pulls in torch, accelerate and peft, which no other command needs at start-up.
    if command == "train":
        from .finetune.train import main as train_main

        return train_main(rest)
    from .finetune.ship import main as ship_main

    return ship_main(rest)


def cmd_check(args) -> int:
    """One article and its headline/summary, or a --pairs file; every bad line is an error line, the rest go on."""
    from .check import Checker, check_record, format_verdict
    from .corpora import decode_text, read_lines

    if (args.pairs is None) == (args.article is None):
        raise InputError("give an article file with --headline/--summary, or --pairs FILE")
    if args.article is not None and args.headline is None and args.summary is None:
        raise InputError("give --headline and/or --summary to check against the article")
    if args.pairs is not None:
        path = Path(args.pairs)
        if not path.is_file():
            raise InputError(f"{path}: no such file")
    else:
        pages, _, errors = _read_inputs([args.article])
        if errors:
            return _report_errors(errors)
    checker = Checker.load(args.checker, backend=args.backend)
    if args.pairs is None:
        item = {"id": args.article, "text": pages[0][1],
                **{k: v for k, v in (("headline", args.headline), ("summary", args.summary)) if v is not None}}
        record = check_record(checker, item, args.article)
        print(json.dumps(record, ensure_ascii=False) if args.json else format_verdict(record))
        return 0
    failed = 0
    with open(path, "rb") as handle:
        for lineno, raw in read_lines(handle, path):
            where = f"{path}:{lineno}"
            try:
                line = decode_text(raw, where).strip() if raw is not None else None
                item = json.loads(line) if line else None
            except (InputError, ValueError) as exc:
                item, line = exc, True
            if line == "":
                continue
            record = ({"id": None, "error": f"{where}: line too long"} if line is None else
                      {"id": None, "error": f"{where}: not JSON ({item})"} if isinstance(item, Exception) else
                      check_record(checker, item, where))
            failed += "error" in record
            print(json.dumps(record, ensure_ascii=False) if args.json else format_verdict(record))
    return 1 if failed else 0


COMMANDS = {"check": cmd_check, "clean": cmd_clean, "summarize": cmd_summarize, "evaluate": cmd_evaluate, "batch": cmd_batch,
            "bench": cmd_bench, "cache": cmd_cache, "serve": cmd_serve}

if __name__ == "__main__":
    sys.exit(main())
