"""One engine interface for the CLI, evaluation, the web demo and batch jobs, and the one registry of engines.

An engine turns articles into Summary objects (headline + summary). Engines:
- `lead`, `lead-K`: the first K sentences, the baseline;
- `extractive`: sentences of the article, ranked by a fitted linear scorer over position and TextRank centrality
  (headlines: TextRank's best early sentence, shortened); no model;
- `default`: the embedded gemma-3-270m + our adapter; `model`: any checkpoint given with --model.
Model engines run on a backend (summarizer.backends: hf or ct2); the engine does input budgets, prompts, cleanup,
candidate choice, the faithfulness guard and fallbacks, the same whatever the backend.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from . import headlines
from .article import Article, Summary
from .backends import DEFAULT_BACKEND, backend_names, load_backend
from .errors import ConfigError
from .cut import model_cutter
from .extractive import BULLET, article_sentences, headline_candidates, rank_article, shorten_headline, \
    summary_by_length
from .faithfulness import guard_passes, guard_problems
from .generation import TASKS, GenerationSettings, select_input, with_recommended
from .reasons import GUARD_REASONS, Note, Reason
from .settings import shown

ENGINES = {
    "default": "gemma-3-270m + our news adapter (embedded), faithfulness-guarded",
    "extractive": "sentences taken from the article (a fitted sentence scorer over position and TextRank "
                  "centrality); no model",
    "lead": "the first sentence (lead-K: the first K sentences)",
    "model": "any seq2seq/causal checkpoint given with --model (hub id or directory)",
}
MODEL_ENGINES = ("default", "model")
MAX_LEAD_K = 20
_LEAD_K = re.compile(r"lead-(\d{1,3})")  # at most 3 digits before int(): a 5,000-digit K is over int()'s limit


def engine_names() -> tuple[str, ...]:
    return tuple(ENGINES)


def check_engine_name(name: str) -> str:
    """The name itself when valid (a registry name or lead-K with 1 <= K <= 20); ConfigError naming the problem.
    A bad name is quoted only when it is a short plain word (settings.shown): never markup or megabytes."""
    if not isinstance(name, str):
        raise ConfigError("engine must be a string")
    if name in ENGINES:
        return name
    match = _LEAD_K.fullmatch(name)
    if match and 1 <= int(match.group(1)) <= MAX_LEAD_K:
        return name
    allowed = f"choose one of {', '.join(ENGINES)} or lead-K"
    if name.startswith("lead-"):
        raise ConfigError(f"engine {shown(name)}: K in lead-K must be a whole number from 1 to {MAX_LEAD_K}; "
                          f"{allowed}")
    raise ConfigError(f"unknown engine {shown(name)}; {allowed} (K from 1 to {MAX_LEAD_K})")


class Engine(Protocol):
    name: str

    def summarize(self, articles: Sequence[Article], *, settings: GenerationSettings,
                  tasks: Sequence[str] = TASKS) -> list[Summary]:
        """One Summary per article, in order. `tasks` may name just one of summary/headline when only it is
        needed (evaluation); an engine may fill the other anyway when it costs nothing."""
        ...


class LeadEngine:
    """Lead-k summary; headline = the first sentence shortened at a clause boundary (its only candidate)."""

    def __init__(self, k: int = 1):
        self.k = k
        self.name = f"lead-{k}"

    def summarize(self, articles, *, settings, tasks=TASKS):
        out = []
        for article in articles:
            sentences = article_sentences(article, limit=self.k)
            headline = shorten_headline(sentences[0], settings.headline_max_words) if sentences else ""
            out.append(_verbatim(self.name, sentences, [(0, headline)] if headline else [],
                                 list(range(len(sentences)))))
        return out


class ExtractiveEngine:
    """TextRank over at most MAX_RANKED sentences per article, ranked once for the headline candidates and the
    summary (its length: settings.summary_length)."""

    name = "extractive"
    cut = None
    """Where its headlines are cut when settings.headline_cut is "model": a model engine passes its model's choice
    (summarizer.cut); None, or "rules", cuts by rule. A class default too: subclasses that skip __init__ have it."""

    def __init__(self, cut=None):
        self.cut = cut

    def summarize(self, articles, *, settings, tasks=TASKS):
        cut = self.cut if settings.headline_cut == "model" else None
        out = []
        for article in articles:
            ranked = rank_article(article)
            found = headline_candidates(ranked, settings.num_headlines, settings.headline_max_words, cut)
            chosen, points = summary_by_length(ranked, settings.summary_length, sentences=settings.summary_sentences,
                                               min_words=settings.summary_min_words)
            out.append(_verbatim(self.name, ranked.sentences, found, chosen, points))
        return out


def _verbatim(engine: str, sentences: list[str], headlines: list[tuple[int, str]], chosen: list[int],
              points: Sequence[str] = ()) -> Summary:
    """A Summary taken from the article's own sentences: the headline candidates (sentence index, text; the
    first is the headline) and the summary's sentences (`points`: a bullets summary's key facts, one a line), each
    with its evidence."""
    summary = "\n".join(BULLET + point for point in points) if points else " ".join(sentences[i] for i in chosen)
    checks = {"headline": _supported([headlines[0][0]], sentences)} if headlines else {}
    if chosen:
        checks["summary"] = _supported(chosen, sentences)
    return Summary(headline=headlines[0][1] if headlines else "", summary=summary, engine=engine,
                   headline_candidates=[{"text": text, **_supported([i], sentences)} for i, text in headlines],
                   summary_points=list(points), checks=checks)


def _supported(indices: Sequence[int], sentences: list[str]) -> dict:
    """The check of a text cut from the article's own sentences: supported by them (the guard's verdict: every
    word of it is the article's)."""
    return {"verdict": "supported", "score": 1.0, "evidence": [{"sentence": i, "text": sentences[i]} for i in indices],
            "by": "guard"}


class ModelEngine:
    """A model on a backend, loaded once by the caller and reused for every call."""

    def __init__(self, backend, *, name: str | None = None, warnings: Sequence[str] = (), checker=None):
        self.backend = backend
        self.name = name or backend.label
        self.warnings = list(warnings)
        # The article's own headline candidates, cut where this model would end a headline (when it can say).
        self._extractive = ExtractiveEngine(cut=model_cutter(backend))
        self._checker = checker
        """A summarizer.check.Checker, a function that loads one (called once, on first use), or None."""

    @property
    def checker(self):
        if callable(self._checker) and not hasattr(self._checker, "check_many"):
            self._checker = self._checker()
        return self._checker

    def prompts(self, articles: Sequence[Article], task: str, settings: GenerationSettings
                ) -> tuple[list[str], list[tuple[str, bool]], int]:
        """Rendered prompts, the fitted article texts with their truncation flags, and the new-token limit."""
        backend, fmt = self.backend, self.backend.task_format
        max_new = settings.max_new_tokens if task == "summary" else settings.headline_max_new_tokens
        overhead = backend.count_tokens(fmt.overhead(task), special=True)
        wanted = settings.max_input_tokens or fmt.input_tokens
        budget = max(16, min(wanted, backend.position_limit(max_new) - overhead))
        fitted = [select_input(a.paragraphs, backend.count_tokens, budget, fmt.input_selection) for a in articles]
        return [fmt.render(task, text) for text, _ in fitted], fitted, max_new

    def generate(self, articles: Sequence[Article], task: str, settings: GenerationSettings
                 ) -> list[tuple[list[str], bool]]:
        """Cleaned candidate texts (best first) and whether the input was cut, per article, in input order."""
        return [([text for text, _ in options], cut)
                for options, cut in self.candidates(articles, task, settings)]

    def candidates(self, articles: Sequence[Article], task: str, settings: GenerationSettings
                   ) -> list[tuple[list[tuple[str, bool]], bool]]:
        """Cleaned candidates (text, finished at a stop token), best first, and whether the input was cut, per
        article, in input order."""
        backend, fmt = self.backend, self.backend.task_format
        prompts, fitted, max_new = self.prompts(articles, task, settings)
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))  # length-sorted batches pad least
        results: list = [None] * len(prompts)
        for start in range(0, len(order), settings.batch_size):
            batch = order[start : start + settings.batch_size]
            candidates = backend.generate([prompts[i] for i in batch], task=task, max_new_tokens=max_new,
                                          settings=settings, sources=[fitted[i][0] for i in batch])
            for i, options in zip(batch, candidates):
                texts = [(fmt.clean(c.text, task=task, finished=c.finished), c.finished) for c in options]
                results[i] = ([(t, done) for t, done in texts if t], fitted[i][1])
        return results

    def model_fields(self, settings: GenerationSettings) -> tuple[str, ...]:
        chosen = [f.strip() for f in settings.model_tasks.split(",") if f.strip()]
        return tuple(chosen or self.backend.task_format.model_fields)

    def summarize(self, articles, *, settings, tasks=TASKS):
        settings = with_recommended(settings, self.backend.task_format.generation)
        written = self.model_fields(settings)
        wanted = [task for task in TASKS if task in tasks and task in written]
        generated = dict.fromkeys(TASKS)
        per_task = {task: headline_search(settings) if task == "headline" else settings for task in wanted}
        # The extractive Summary of every article: the fields the model does not write, the fallbacks, and
        # headline candidates from the article beside the model's (ranking is milliseconds an article; cutting
        # its headlines where the model would end one is a forward pass).
        if self.backend.concurrent:
            # The backend runs calls side by side (ct2: one worker per core): the headline, the summary and the
            # article's own headline cuts at once.
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(len(wanted) + 1) as pool:
                futures = {task: pool.submit(self.candidates, articles, task, per_task[task]) for task in wanted}
                pending = pool.submit(self._extractive.summarize, articles, settings=settings)
                generated.update({task: future.result() for task, future in futures.items()})
                extractive = pending.result()
        else:
            generated.update({task: self.candidates(articles, task, per_task[task]) for task in wanted})
            extractive = self._extractive.summarize(articles, settings=settings)
        results = []
        for k, article in enumerate(articles):
            summary = Summary(headline="", summary="", engine=self.name, warnings=list(self.warnings))
            for task in TASKS:
                if task not in tasks:
                    continue
                if task not in written:  # by design: this model's text is not used here
                    _take(summary, extractive[k], task)
                    summary.notes.append(Note(Reason.EXTRACTIVE_BY_DESIGN, task))
                    continue
                options, cut = generated[task][k]
                summary.truncated |= cut
                if task == "headline":
                    self._headline(summary, article, options, settings, extractive[k])
                else:
                    self._summary(summary, article, [text for text, _ in options], settings, extractive[k])
            if all(_from_article(summary, task) for task in TASKS if task in tasks):
                summary.warnings = []  # the small model's caution is about its text; none of it is shown
            if summary.truncated:
                summary.notes.append(Note(Reason.TRUNCATED_INPUT,
                                          params={"selection": self.backend.task_format.input_selection}))
            results.append(summary)
        return results

    def _summary(self, summary: Summary, article: Article, texts: list[str], settings, extractive: Summary) -> None:
        """The model's summary when the guard keeps it (checked by the checker where installed), else the
        extractive one, saying why."""
        from .faithfulness import SourceIndex, drop_unsupported_weekdays

        index = SourceIndex(article.text)
        repaired = {}
        if settings.guard:  # a weekday the article lacks is deleted, not a reason to drop the whole text
            for original in texts:
                fixed, days = drop_unsupported_weekdays(original, index)
                repaired[fixed] = days
            texts = list(repaired)
        text, support = _choose(texts, index, settings.guard_novel_rate)
        problems = ([Note(Reason.EMPTY_OUTPUT, "summary")] if not text
                    else guard_problems(support, "summary", settings.guard_novel_rate) if settings.guard else [])
        if problems:  # an empty or unsupported answer helps nobody: the extractive text, and say so
            _take(summary, extractive, "summary")
            summary.notes += problems
            return
        summary.summary = text
        if repaired.get(text):
            summary.notes.append(Note(Reason.WEEKDAY_REMOVED, "summary", {"items": repaired[text]}))
        checker = self.checker if settings.check else None
        if checker is not None:
            verdict = checker.check_many([(article_sentences(article), text)])[0]
            summary.checks["summary"] = {**verdict.to_dict(), "by": "checker"}

    def _headline(self, summary: Summary, article: Article, options: list[tuple[str, bool]], settings,
                  extractive: Summary) -> None:
        """Screen, check and rank the model's headline candidates (summarizer.headlines): the best supported one
        is shown and the article's own headline candidates fill the list; when none is supported, the article's
        headline is shown and the most likely candidate's reasons say why."""
        from .faithfulness import SourceIndex, drop_unsupported_weekdays

        index = SourceIndex(article.text)
        repaired: dict[str, list[str]] = {}
        if settings.guard:  # a weekday the article lacks is deleted, not a reason to drop the whole text
            fixed = []
            for text, finished in options:
                text, days = drop_unsupported_weekdays(text, index)
                repaired[text] = days
                fixed.append((text, finished))
            options = fixed
        model = headlines.unique(options, "model")
        sentences = article_sentences(article)  # split once: the screen and the checker read the same sentences
        for option in model:
            headlines.screen(option, index, settings, sentences)
        checker = self.checker if settings.check else None
        headlines.check(model, checker, sentences, reject=settings.guard, min_support=settings.headline_min_support)
        ranked = [o.candidate() for o in headlines.rank(model)]
        # Below the bar for showing but supported by the checker's verdict: the editor may still pick them (listed
        # after the shown headline, with their scores), never shown by default.
        doubtful = [o.candidate() for o in headlines.below_bar(model)]
        if not ranked:
            first = model[0].rejected if model else [Note(Reason.EMPTY_OUTPUT, "headline")]
            summary.notes += [note for k, note in enumerate(first) if note not in first[:k]]  # once each
            _take(summary, extractive, "headline")
            summary.headline_candidates = (summary.headline_candidates[:1] + doubtful
                                           + summary.headline_candidates[1:])[: settings.num_headlines]
            return
        if repaired.get(ranked[0]["text"]):
            summary.notes.append(Note(Reason.WEEKDAY_REMOVED, "headline", {"items": repaired[ranked[0]["text"]]}))
        shown = {c["text"] for c in ranked}
        ranked += doubtful + [{**c, "source": "extractive"} for c in extractive.headline_candidates
                              if c["text"] not in shown]
        summary.headline = ranked[0]["text"]
        summary.headline_candidates = ranked[: settings.num_headlines]
        summary.checks["headline"] = {k: v for k, v in ranked[0].items() if k not in ("text", "source")}


def _take(summary: Summary, extractive: Summary, task: str) -> None:
    """A field from the article (the extractive engine's), with what comes with it: its check, and the summary's
    key facts or the headline candidates."""
    setattr(summary, task, getattr(extractive, task))
    if task in extractive.checks:
        summary.checks[task] = extractive.checks[task]
    if task == "summary":
        summary.summary_points = list(extractive.summary_points)
    else:
        summary.headline_candidates = [{**c, "source": "extractive"} for c in extractive.headline_candidates]


def _from_article(summary: Summary, task: str) -> bool:
    return any(n.field == task and (n.code == Reason.EXTRACTIVE_BY_DESIGN or n.code in GUARD_REASONS)
               for n in summary.notes)


def headline_search(settings: GenerationSettings) -> GenerationSettings:
    """The headline's decoding: for several headlines, beams enough for them and one spare (the checks drop
    some), unless the caller asked for more; for one, the caller's own num_beams."""
    from dataclasses import replace

    if settings.num_headlines == 1:
        return settings
    width = max(settings.num_beams, min(8, settings.num_headlines + 1))
    return replace(settings, num_beams=width, num_candidates=max(settings.num_candidates, width))


def _choose(texts: list[str], index, max_novel_rate: float = 1.0):
    """The most likely candidate the guard would keep, else the most likely one (for the guard to judge)."""
    checked = [(text, index.check(text)) for text in texts]
    for text, support in checked:
        if guard_passes(support, max_novel_rate):
            return text, support
    return checked[0] if checked else ("", None)


@dataclass(kw_only=True)
class EngineSettings:
    """Which engine summarizes, and for a model engine which weights on which runtime (`make_engine` builds it)."""

    engine: str = "default"
    """Which engine summarizes."""
    model: str = field(default="", metadata={"default_text": "no checkpoint"})
    """Hub id or local directory of a seq2seq/causal checkpoint; given, it selects the model engine whatever
    --engine says."""
    adapter: str = field(default="", metadata={"default_text": "the shipped adapter for the default engine, no adapter "
                                                               "for --model"})
    """Directory of a peft (LoRA) adapter for --model or the default base; 'none' runs the default base untuned."""
    backend: str = field(default="", metadata={"choices": backend_names,
                                               "default_text": "ct2 for the default engine, hf for --model"})
    """Runtime for model engines."""
    device: str = "auto"
    """auto (CUDA if present), cpu, cuda or cuda:N."""
    threads: int = field(default=0, metadata={"default_text": "0, the runtime's own choice"})
    """CPU threads for the model runtime."""

    def problems(self) -> list[str]:
        errors = []
        try:
            check_engine_name(self.engine)
        except ConfigError as exc:
            errors.append(str(exc))
        if self.engine == "model" and not self.model:
            errors.append("engine 'model' needs --model PATH_OR_ID")
        if self.backend and self.backend not in backend_names():
            errors.append(f"unknown backend {self.backend!r}; choose one of {', '.join(backend_names())}")
        if not _DEVICE.fullmatch(self.device):
            errors.append(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.threads < 0:
            errors.append(f"threads must be an integer >= 0, got {self.threads}")
        return errors

    def check(self) -> "EngineSettings":
        """These settings, when they have no problems (one ConfigError naming them all otherwise)."""
        problems = self.problems()
        if problems:
            raise ConfigError("; ".join(problems))
        return self


_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")


def make_engine(settings: EngineSettings | None = None, **backend_options) -> Engine:
    """Build the engine `settings` name (the default engine when None). A `model` selects a model engine whatever
    the engine name says. `backend_options` go to the backend's loader (e.g. trim_vocab=False for ct2)."""
    settings = (settings or EngineSettings()).check()
    name, model, device, threads = settings.engine, settings.model or None, settings.device, settings.threads or None
    backend = settings.backend or None
    adapter = None if settings.adapter in ("", "none") and name != "default" else settings.adapter or None
    if model is not None or name == "model":
        loaded = load_backend(backend or "hf", model, adapter=adapter, device=device, threads=threads,
                              **backend_options)
        return ModelEngine(loaded)  # the shipped checker runs on the embedded base: loaded with the default only
    if name == "extractive":
        return ExtractiveEngine()
    if name.startswith("lead"):
        return LeadEngine(int(name.split("-", 1)[1]) if "-" in name else 1)
    from . import default_model

    # --adapter none: the untuned base, for measuring what the adapter adds.
    adapter_dir = None if adapter == "none" else adapter or default_model.default_adapter()
    warnings = [default_model.CAUTION] if adapter_dir else [default_model.UNTUNED_WARNING]
    loaded = load_backend(backend or DEFAULT_BACKEND, str(default_model.ensure_base_model()), adapter=adapter_dir,
                          device=device, threads=threads, **backend_options)
    # The shipped adapter is "news-lora"; another one (a checkpoint under evaluation) is named by its directory, so
    # that tables and prediction files of different adapters never share a name.
    shipped = adapter_dir is not None and Path(adapter_dir).resolve() == default_model.ADAPTER_DIR.resolve()
    label = "gemma-3-270m" + ("+news-lora" if shipped else f"+{Path(adapter_dir).name}" if adapter_dir
                              else " (untuned base)")
    return ModelEngine(loaded, name=label, warnings=warnings,
                       checker=lambda: installed_checker(threads))


def installed_checker(threads: int | None = None):
    """The shipped consistency checker on the default base (CTranslate2), or None where it is not installed; loaded
    when a headline is first checked, so that an engine that never checks never loads it."""
    from .check import Checker, default_checker_dir

    return Checker.load(threads=threads) if default_checker_dir() is not None else None
