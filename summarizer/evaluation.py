"""Evaluation protocols and the `summarizer evaluate` runner.

Protocols (what the engine sees -> what it is scored against):
- lead:     body without the lead paragraph -> the lead paragraph (summary);
- abstract: whole text -> the corpus ABSTRACT (summary; meaningful where abstracts are independent);
- xlsum:    text without its first paragraph (which restates the abstract) -> the independent abstract (summary;
            how XL-Sum builds its BBC pairs, so numbers read beside published ones);
- headline: body without the lead paragraph -> the title (headline, with BLEU);
- title:    the whole document -> the title (headline, with BLEU; ARGEN-style, for documents without a lead
            paragraph, e.g. `document<TAB>title` files).
Articles unusable for a protocol are skipped and counted. Every engine is also measured for faithfulness: what its
outputs hold that its input does not support (summarizer.faithfulness).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from .article import Article, Summary
from .corpora import deduplicate, read_corpus, select_split
from .engines import Engine
from .errors import InputError
from .generation import GenerationSettings
from .reasons import Reason
from .record import ArticleResult
from .rouge import ROUGE_TYPES, corpus_bleu, rouge_report
from .text import tokens, word_count

PROTOCOLS = ("lead", "abstract", "xlsum", "headline", "title")
HEADLINE_PROTOCOLS = ("headline", "title")
MIN_BODY_WORDS = 30


def repeats_text(abstract: str, text: str) -> bool:
    """True when the abstract is the text's opening words (maybe cut mid-word), not a summary written apart."""
    ref, body = tokens(abstract), tokens(text)
    head = ref[:-1] if len(ref) > 3 else ref  # the corpus cuts some abstracts mid-word
    return bool(head) and body[: len(head)] == head


@dataclass
class Prepared:
    inputs: list[Article]
    references: list[str]
    skipped: dict[str, int] = field(default_factory=dict)


def prepare(articles, protocol: str, *, source: str | None = None) -> Prepared:
    """Build engine inputs and references for a protocol, counting what is skipped and why."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    out = Prepared([], [])

    def skip(reason: str) -> None:
        out.skipped[reason] = out.skipped.get(reason, 0) + 1

    for article in articles:
        if source and (article.source or "").lower() != source.lower():
            continue
        if protocol in ("abstract", "xlsum"):
            ref = article.reference
            if not ref:
                skip("no abstract")
                continue
            if repeats_text(ref, article.text):
                skip("abstract repeats the lead")  # not an independent summary (SkyNews, AlArabiya, France24)
                continue
            if protocol == "xlsum" and len(article.paragraphs) < 2:
                skip("one paragraph only")
                continue
            inputs = article.paragraphs if protocol == "abstract" else article.body
        elif protocol == "title":
            inputs, ref = article.paragraphs, article.title
            if not ref:
                skip("no title")
                continue
        else:
            if len(article.paragraphs) < 2:
                skip("one paragraph only")
                continue
            inputs = article.body
            ref = article.lead if protocol == "lead" else article.title
            if not ref:
                skip("no title")
                continue
        if word_count(" ".join(inputs)) < MIN_BODY_WORDS:
            skip(f"input under {MIN_BODY_WORDS} words")
            continue
        out.inputs.append(Article(id=article.id, paragraphs=list(inputs), title=None, source=article.source,
                                  url=article.url))
        out.references.append(ref)
    return out


def scored_field(protocol: str) -> str:
    return "headline" if protocol in HEADLINE_PROTOCOLS else "summary"


def engine_outputs(engine: Engine, prepared: Prepared, protocol: str, settings: GenerationSettings,
                   *, progress: bool = True) -> tuple[list[Summary], float]:
    """The engine's outputs for a protocol's inputs (only the scored field asked for), with a progress bar;
    returns (summaries, seconds)."""
    from tqdm.auto import tqdm

    summaries: list[Summary] = []
    started = time.perf_counter()
    chunk = max(1, settings.batch_size * 4)
    # The bar stays when done: one cleared on closing leaves its first line, "0%", in any log it is written to.
    with tqdm(total=len(prepared.inputs), desc=engine.name, disable=not progress) as bar:
        for i in range(0, len(prepared.inputs), chunk):
            batch = prepared.inputs[i : i + chunk]
            summaries += engine.summarize(batch, settings=settings, tasks=(scored_field(protocol),))
            bar.update(len(batch))
    return summaries, time.perf_counter() - started


def run_engine(engine: Engine, prepared: Prepared, protocol: str, settings: GenerationSettings,
               *, progress: bool = True) -> tuple[list[str], float]:
    """Predictions for a protocol (the scored field's texts) and the seconds they took."""
    summaries, seconds = engine_outputs(engine, prepared, protocol, settings, progress=progress)
    return [getattr(s, scored_field(protocol)) for s in summaries], seconds


def guard_rates(summaries: list[Summary], field_name: str) -> dict:
    """What the guard replaced, by reason code: the share of outputs whose model text held an unsupported number,
    a novel rare word, or too many novel words (a text can have the first two at once)."""
    codes = [summary.fallback.get(field_name, []) for summary in summaries]
    n = len(codes) or 1
    share = lambda reason: sum(reason in c for c in codes) / n  # noqa: E731
    return {"outputs_replaced": sum(bool(c) for c in codes) / n,
            "replaced_for_a_number": share(Reason.UNSUPPORTED_NUMBER),
            "replaced_for_a_rare_word": share(Reason.NOVEL_RARE_WORD),
            "replaced_for_novel_words": share(Reason.NOVEL_WORDS)}


def prediction_row(article: Article, summary: Summary, *, protocol: str, reference: str, scores: dict) -> dict:
    """One line of predictions-<engine>.jsonl: the record every path writes (summarizer.record, without
    `cleaned_text`: the corpus has it) plus what evaluation adds: `protocol`, `scored` (the field scored),
    `reference`, `scores` (this item's ROUGE F1) and the corpus `source`."""
    record = ArticleResult.from_summary(article, summary, url=article.url).to_dict()
    del record["cleaned_text"]
    return {**record, "protocol": protocol, "scored": scored_field(protocol), "reference": reference,
            "scores": scores, "source": article.source}


def _provenance(engine: Engine, settings: GenerationSettings) -> dict:
    """What produced a row: the model (base, adapter, backend) and the settings it ran with, the adapter's
    recommended ones included, so that a report can be reproduced."""
    from dataclasses import asdict

    from .generation import with_recommended

    backend = getattr(engine, "backend", None)
    if backend is None:
        return {"settings": asdict(settings)}
    return {"model": backend.label, "backend": backend.name,
            "settings": asdict(with_recommended(settings, backend.task_format.generation))}


def evaluate(engines: list[Engine], articles: list[Article], protocol: str, settings: GenerationSettings,
             *, out_dir: str | Path | None = None, stemmer: str = "none", scorer: str = "project",
             source: str | None = None, limit: int | None = None, progress: bool = True) -> dict:
    """Score each engine on one protocol, ROUGE and faithfulness side by side; write report.json and
    predictions-<engine>.jsonl when out_dir is set. InputError when the protocol leaves no article to score."""
    from .faithfulness import SourceIndex, summarize_rates

    prepared = prepare(articles, protocol, source=source)
    if limit:
        prepared.inputs, prepared.references = prepared.inputs[:limit], prepared.references[:limit]
    if not prepared.inputs:
        skipped = ", ".join(f"{k}: {v}" for k, v in sorted(prepared.skipped.items())) or "none"
        raise InputError(f"no articles to score for protocol {protocol!r}"
                         f"{' and source ' + repr(source) if source else ''} (read {len(articles)}; skipped: {skipped})")
    report = {"protocol": protocol, "n": len(prepared.inputs), "skipped": prepared.skipped, "scorer": scorer,
              "stemmer": stemmer if scorer == "project" else "nltk-snowball-arabic", "source": source or "all",
              "rows": []}
    out = Path(out_dir) if out_dir else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    indexes = [SourceIndex(article.text) for article in prepared.inputs]
    field_name = scored_field(protocol)
    for engine in engines:
        summaries, seconds = engine_outputs(engine, prepared, protocol, settings, progress=progress)
        predictions = [getattr(s, field_name) for s in summaries]
        rouge = rouge_report(predictions, prepared.references, stemmer=stemmer, scorer=scorer)
        supports = [index.check(pred) for index, pred in zip(indexes, predictions)]
        row = {"engine": engine.name, "seconds": round(seconds, 2), **{k: rouge["scores"][k] for k in ROUGE_TYPES},
               "faithfulness": summarize_rates(supports), "guard": guard_rates(summaries, field_name),
               **_provenance(engine, settings)}
        if protocol in HEADLINE_PROTOCOLS:
            row["bleu"] = corpus_bleu(predictions, prepared.references)
        report["rows"].append(row)
        if out:
            with open(out / f"predictions-{engine.name.replace('/', '_')}.jsonl", "w", encoding="utf-8") as handle:
                for article, summary, ref, item in zip(prepared.inputs, summaries, prepared.references,
                                                       rouge["items"]):
                    handle.write(json.dumps(prediction_row(article, summary, protocol=protocol, reference=ref,
                                                           scores=item), ensure_ascii=False) + "\n")
    if out:
        (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return report


def format_table(report: dict) -> str:
    """A plain-text table: R1/R2/RL/RLsum F1 x100 with 95% bootstrap CIs, BLEU for headlines, then faithfulness:
    % outputs with an unsupported number, novel content words %, novel rare words per output; counts, seconds."""
    head = (f"protocol={report['protocol']} source={report['source']} n={report['n']} scorer={report['scorer']} "
            f"stemmer={report['stemmer']}")
    skipped = ", ".join(f"{k}: {v}" for k, v in sorted(report["skipped"].items())) or "none"
    headline = report["protocol"] in HEADLINE_PROTOCOLS
    cols = ["engine", *("R1", "R2", "RL", "RLsum"), *(["BLEU"] if headline else []), "num%", "novel%", "rare/out",
            "guard%", "sec"]
    lines = [head, f"skipped: {skipped}", " | ".join(cols)]
    for row in report["rows"]:
        cells = [row["engine"]]
        for k in ROUGE_TYPES:
            s = row[k]
            cells.append(f"{100 * s['mean']:.2f} [{100 * s['low']:.2f}-{100 * s['high']:.2f}]")
        if "bleu" in row:
            cells.append(f"{row['bleu']:.2f}")
        f = row["faithfulness"]
        cells += [f"{100 * f['outputs_with_unsupported_number']:.1f}", f"{100 * f['novel_content_word_rate']:.1f}",
                  f"{f['novel_rare_words_per_output']:.2f}", f"{100 * row['guard']['outputs_replaced']:.1f}"]
        cells.append(f"{row['seconds']:.1f}")
        lines.append(" | ".join(cells))
    lines.append("num% = outputs with a number the input lacks; novel% = content words not in the input; "
                 "rare/out = novel rare words (likely invented names) per output; guard% = model outputs the guard "
                 "replaced with extractive text")
    return "\n".join(lines)


def load_eval_articles(path: str, *, split: str = "dev", seed: int = 13) -> list[Article]:
    """Deduplicated articles of one split, shuffled with a fixed seed so that a --limit sample mixes sources."""
    articles = list(select_split(deduplicate(read_corpus(path)), split, seed=seed))
    random.Random(seed).shuffle(articles)
    return articles
