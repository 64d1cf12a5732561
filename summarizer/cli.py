"""The `summarizer` command: clean, summarize, evaluate, batch, bench. Logic lives in the package modules."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .errors import SummarizerError
from .generation import GenerationSettings

STDIN = "-"


def _engine_args(parser: argparse.ArgumentParser, default: str = "default") -> None:
    parser.add_argument("--engine", default=default,
                        help="default (gemma-3-270m + our adapter), extractive, lead, lead-K, or model (with --model)")
    parser.add_argument("--model", help="hub id or local directory of a seq2seq/causal checkpoint")
    parser.add_argument("--adapter", help="directory of a peft (LoRA) adapter for --model or the default base; "
                        "'none' runs the default base untuned")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu or cuda")
    parser.add_argument("--threads", type=int, help="CPU threads for torch")


def _settings_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sentences", type=int, default=2, help="sentences in an extractive summary")
    parser.add_argument("--beams", type=int, default=1, help="beam width for model engines (1 = greedy)")
    parser.add_argument("--max-new-tokens", type=int, default=96, help="most new tokens for a model summary")
    parser.add_argument("--max-input-tokens", type=int, default=384, help="model input budget (article cut to fit)")
    parser.add_argument("--batch-size", type=int, default=8, help="articles per model batch")


def settings_from(args) -> GenerationSettings:
    return GenerationSettings.from_dict({
        "summary_sentences": args.sentences, "num_beams": args.beams, "max_new_tokens": args.max_new_tokens,
        "max_input_tokens": args.max_input_tokens, "batch_size": args.batch_size,
    })


def engine_from(args):
    from .engines import make_engine

    return make_engine(args.engine, model=args.model, adapter=args.adapter, device=args.device, threads=args.threads)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="summarizer", description="Arabic news headlines and summaries, offline.")
    sub = parser.add_subparsers(dest="command", required=True)

    clean = sub.add_parser("clean", help="page -> clean articles (furniture removed)")
    clean.add_argument("files", nargs="*", default=[STDIN], help="text files ('-' or none = stdin)")
    clean.add_argument("--json", action="store_true", help="JSON Lines output")

    summarize = sub.add_parser("summarize", help="page(s) -> headline + summary per article")
    summarize.add_argument("files", nargs="*", default=[STDIN], help="text files ('-' or none = stdin)")
    summarize.add_argument("--json", action="store_true", help="JSON Lines output, one record per article")
    _engine_args(summarize)
    _settings_args(summarize)

    evaluate = sub.add_parser("evaluate", help="Arabic ROUGE of an engine (and the Lead baselines) on a corpus")
    evaluate.add_argument("--data", required=True, help="corpus path (ANT dir/.tar.gz, SaudiNewsNet dir, .jsonl)")
    evaluate.add_argument("--protocol", default="lead", choices=("lead", "abstract", "headline"))
    evaluate.add_argument("--split", default="dev", choices=("train", "dev", "test", "all"))
    evaluate.add_argument("--source", help="only articles of this source (e.g. BBC)")
    evaluate.add_argument("--limit", type=int, help="evaluate at most N articles")
    evaluate.add_argument("--stemmer", default="none", choices=("none", "light", "isri"))
    evaluate.add_argument("--out", help="directory for report.json and per-item predictions")
    _engine_args(evaluate, default="extractive")
    _settings_args(evaluate)

    batch = sub.add_parser("batch", help="feeds, JSON Lines, text files or folders -> results.jsonl (resumable)")
    batch.add_argument("inputs", nargs="+", help="feed URLs or files, .jsonl files, .txt files, folders")
    batch.add_argument("--out", required=True, help="JSON Lines output; a rerun skips ids already written")
    batch.add_argument("--allow-private", action="store_true", help="allow fetching loopback/private addresses")
    batch.add_argument("--concurrency", type=int, default=4, help="concurrent page fetches")
    batch.add_argument("--timeout", type=float, default=15.0, help="seconds per HTTP request")
    _engine_args(batch)
    _settings_args(batch)

    bench = sub.add_parser("bench", help="our engine vs a plain transformers generate loop, side by side")
    bench.add_argument("--n", type=int, default=8, help="articles (seed pages, repeated as needed)")
    bench.add_argument("--data", help="corpus to draw articles from instead of seeds/")
    _engine_args(bench)
    _settings_args(bench)
    return parser


def main(argv: list[str] | None = None) -> int:
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


def _read_inputs(files: list[str]) -> list[tuple[str, str]]:
    from .article import content_id
    from .pipeline import read_page_file

    pages = []
    for name in files:
        if name == STDIN:
            text = sys.stdin.read()
            pages.append((content_id(text), text))
        else:
            pages.append((os.path.splitext(os.path.basename(name))[0], read_page_file(name)))
    return pages


def cmd_clean(args) -> int:
    from .clean import clean_page

    for page_id, text in _read_inputs(args.files):
        page = clean_page(text, page_id=page_id)
        for k, article in enumerate(page.articles):
            if args.json:
                print(json.dumps({**article.to_dict(), "secondary": k > 0}, ensure_ascii=False))
            else:
                print(f"# {article.id}" + (" (secondary article)" if k else ""))
                if article.title:
                    print(f"العنوان: {article.title}")
                print(article.text + "\n")
    return 0


def cmd_summarize(args) -> int:
    from .pipeline import summarize_pages

    pages = _read_inputs(args.files)
    settings = settings_from(args)
    engine = engine_from(args)
    for page in summarize_pages(pages, engine, settings):
        for result in page.articles:
            if args.json:
                print(json.dumps(result.to_dict(), ensure_ascii=False))
                continue
            tag = " (another article on the same page)" if result.secondary else ""
            print(f"# {result.id}{tag}  [{result.engine}, {result.seconds:.2f} s]")
            if result.title:
                print(f"العنوان الأصلي: {result.title}")
            print(f"العنوان: {result.headline}")
            print(f"الملخص: {result.summary}")
            for warning in result.warnings:
                print(f"note: {warning}")
            print()
    return 0


def cmd_evaluate(args) -> int:
    from .engines import LeadEngine
    from .evaluation import evaluate, format_table, load_eval_articles

    articles = load_eval_articles(args.data, split=args.split)
    engines = [LeadEngine(1), LeadEngine(3)]
    chosen = engine_from(args)
    if chosen.name not in {e.name for e in engines}:
        engines.append(chosen)
    report = evaluate(engines, articles, args.protocol, settings_from(args), out_dir=args.out, stemmer=args.stemmer,
                      source=args.source, limit=args.limit)
    print(format_table(report))
    if args.out:
        print(f"wrote {os.path.join(args.out, 'report.json')} and per-item predictions")
    return 0


def cmd_batch(args) -> int:
    from .batch import run_batch

    return run_batch(args.inputs, out=args.out, engine=engine_from(args), settings=settings_from(args),
                     allow_private=args.allow_private, concurrency=args.concurrency, timeout=args.timeout)


def cmd_bench(args) -> int:
    from .bench import run_bench

    print(run_bench(args, settings_from(args)))
    return 0


COMMANDS = {"clean": cmd_clean, "summarize": cmd_summarize, "evaluate": cmd_evaluate, "batch": cmd_batch,
            "bench": cmd_bench}

if __name__ == "__main__":
    sys.exit(main())
