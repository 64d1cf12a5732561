"""One engine interface for the CLI, evaluation, the web demo and batch jobs.

An engine turns articles into Summary objects (headline + summary). Engines:
- `lead`: the first sentence(s), the baseline;
- `extractive`: TextRank centrality, no weights;
- a model engine: any Hugging Face seq2seq/causal checkpoint, or the embedded default (gemma-3-270m + our adapter).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .article import Article, Summary
from .extractive import headline_candidate, lead_summary, shorten_headline, textrank_summary
from .generation import TASKS, GenerationSettings

ENGINE_NAMES = ("default", "extractive", "lead", "model")


class Engine(Protocol):
    name: str

    def summarize(self, articles: Sequence[Article], *, settings: GenerationSettings,
                  tasks: Sequence[str] = TASKS) -> list[Summary]:
        """One Summary per article, in order. `tasks` may name just one of summary/headline when only it is
        needed (evaluation); an engine may fill the other anyway when it costs nothing."""
        ...


class LeadEngine:
    """Lead-k summary; headline = the first sentence shortened at a clause boundary."""

    def __init__(self, k: int = 1):
        self.k = k
        self.name = f"lead-{k}"

    def summarize(self, articles, *, settings, tasks=TASKS):
        return [Summary(headline=shorten_headline(lead_summary(a, 1)), summary=lead_summary(a, self.k),
                        engine=self.name) for a in articles]


class ExtractiveEngine:
    name = "extractive"

    def summarize(self, articles, *, settings, tasks=TASKS):
        return [Summary(headline=headline_candidate(a), summary=textrank_summary(a, sentences=settings.summary_sentences),
                        engine=self.name) for a in articles]


class ModelEngine:
    """A loaded model; the model is loaded by the caller once and reused for every call."""

    def __init__(self, loaded, *, warnings: Sequence[str] = ()):
        self.loaded = loaded
        self.name = loaded.name
        self.warnings = list(warnings)

    def summarize(self, articles, *, settings, tasks=TASKS):
        from .model import generate

        paragraphs = [a.paragraphs for a in articles]
        skipped = [("", False)] * len(articles)
        summaries, headlines = (
            generate(self.loaded, paragraphs, task=task, settings=settings) if task in tasks else skipped
            for task in ("summary", "headline")
        )
        results = []
        for article, (summary, cut_s), (headline, cut_h) in zip(articles, summaries, headlines):
            warnings = list(self.warnings)
            if cut_s or cut_h:
                warnings.append(f"the article was longer than the model's input budget "
                                f"({settings.max_input_tokens} tokens) and was truncated; its start was kept")
            # An empty answer helps nobody: fall back to the extractive engine for that part, and say so.
            if "summary" in tasks and not summary:
                summary = textrank_summary(article, sentences=settings.summary_sentences)
                warnings.append("the model returned no summary; an extractive summary is shown instead")
            if "headline" in tasks and not headline:
                headline = headline_candidate(article)
                warnings.append("the model returned no headline; an extractive headline is shown instead")
            results.append(Summary(headline=headline, summary=summary, engine=self.name,
                                   truncated=cut_s or cut_h, warnings=warnings))
        return results


def make_engine(name: str = "default", *, model: str | None = None, adapter: str | None = None,
                device: str = "auto", threads: int | None = None) -> Engine:
    """Build an engine by name. `model` (a hub id or directory) selects a model engine whatever `name` says."""
    if model is not None or name == "model":
        if model is None:
            from .errors import ModelLoadError

            raise ModelLoadError("engine 'model' needs --model PATH_OR_ID")
        from .model import load_model

        return ModelEngine(load_model(model, adapter=adapter, device=device, threads=threads))
    if name == "extractive":
        return ExtractiveEngine()
    if name.startswith("lead"):
        k = int(name.split("-", 1)[1]) if "-" in name else 1
        return LeadEngine(k)
    if name == "default":
        from . import default_model
        from .model import load_model

        # --adapter none: the untuned base, for measuring what the adapter adds.
        adapter_dir = None if adapter == "none" else adapter or default_model.default_adapter()
        warnings = [default_model.CAUTION] if adapter_dir else [default_model.UNTUNED_WARNING]
        loaded = load_model(default_model.ensure_base_model(), adapter=adapter_dir, device=device, threads=threads)
        loaded.name = "gemma-3-270m" + ("+news-lora" if adapter_dir else " (untuned base)")
        return ModelEngine(loaded, warnings=warnings)
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_NAMES)} or lead-K")
