"""Multi-task training examples from the corpus readers, in the same task format the engine uses."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..article import Article
from ..corpora import deduplicate, read_corpus, split_of
from ..errors import SummarizerError
from ..feedback import Feedback, feedback_files, read_feedback
from ..generation import TaskFormat, leading_sentences, select_input
from ..text import split_paragraphs, word_count
from .config import Config, DataConfig

DEFAULT_CORPORA = ("../shared/data/ant-multisource-v2.1.tar.gz", "../shared/data/ant-jawharafm-v1.1.tar.gz",
                   "../shared/data/saudinewsnet")
"""The corpora the shipped weights and word lists were built from (background, extractive: their defaults)."""


@dataclass
class Example:
    task: str
    source: str  # the rendered prompt / prefixed source
    target: str


def load_articles(config: DataConfig) -> tuple[list[Article], list[Article]]:
    """Deduplicated train and dev articles (split by id hash, the same split `summarizer evaluate` uses)."""
    train, dev = [], []
    for path in config.paths:
        for article in deduplicate(read_corpus(path)):
            if len(article.paragraphs) < 2 or word_count(article.text) < 50:
                continue  # too short for the lead protocol (CNN video blurbs and the like)
            split = split_of(article.id, seed=config.split_seed, dev=config.dev_fraction)
            if split == "train":
                train.append(article)
            elif split == "dev":
                dev.append(article)
    # Shuffle before capping so a capped run still mixes every source and category.
    random.Random(config.split_seed).shuffle(train)
    random.Random(config.split_seed + 1).shuffle(dev)
    if config.max_train_articles:
        train = train[: config.max_train_articles]
    return train, dev[: config.dev_articles]


def lead_target(lead: str, count_tokens, budget: int) -> str | None:
    """The lead's whole sentences that fit `budget` tokens (complete sentences teach the model to stop)."""
    kept = leading_sentences(lead, count_tokens, budget)
    return " ".join(kept) or None


def build_examples(articles: list[Article], config: DataConfig, task_format: TaskFormat, count_tokens,
                   stats: dict | None = None) -> list[Example]:
    """Examples for each task; with `faithful_targets`, a target the input does not support (a number or rare
    word absent from what the model sees) is dropped and counted in `stats`."""
    from ..evaluation import repeats_text

    stats = {} if stats is None else stats
    examples = []

    def add(task: str, source: str, target: str) -> None:
        example = _example(task, source, target, config, task_format, stats)
        if example is not None:
            examples.append(example)

    for article in articles:
        body, _ = select_input(article.body, count_tokens, task_format.input_tokens, task_format.input_selection)
        if "summary" in config.tasks:
            target = lead_target(article.lead, count_tokens, config.max_target_tokens)
            if target and word_count(target) >= 6:
                add("summary", body, target)
        if "headline" in config.tasks and article.title and 3 <= word_count(article.title) <= 25:
            add("headline", body, article.title)
        if (config.use_abstracts and article.reference and article.source in ("BBC", "CNN")
                and not repeats_text(article.reference, article.text)):
            whole, _ = select_input(article.paragraphs, count_tokens, task_format.input_tokens,
                                    task_format.input_selection)
            target = lead_target(article.reference, count_tokens, config.max_target_tokens)
            if target:
                add("summary", whole, target)
    return examples


def _example(task: str, source: str, target: str, config: DataConfig, task_format: TaskFormat,
             stats: dict) -> Example | None:
    """The example, or None (counted in `stats`) for a target the input does not support, with faithful_targets."""
    from ..faithfulness import SourceIndex

    if config.faithful_targets and not SourceIndex(source).check(target).supported:
        stats[f"{task}: unsupported target"] = stats.get(f"{task}: unsupported target", 0) + 1
        return None
    return Example(task, task_format.render(task, source), target)


FEEDBACK_SUMMARY_FORMS = ("sentence", "short")
"""Summary forms that teach the summary task (a bullets summary is a list of facts, not the prose it writes)."""


def load_feedback(config: DataConfig, stats: dict | None = None) -> list[Feedback]:
    """Every good save in the feedback files (data.feedback); a bad line is skipped and counted in `stats`."""
    stats = {} if stats is None else stats
    items = []
    for path in feedback_files(config.feedback):
        for item, problem in read_feedback(path):
            if problem is not None:
                stats["feedback: bad line"] = stats.get("feedback: bad line", 0) + 1
            else:
                items.append(item)
    return items


def build_feedback_examples(items: list[Feedback], config: DataConfig, task_format: TaskFormat, count_tokens,
                            stats: dict | None = None) -> list[Example]:
    """The editor's headline (and summary, in the sentence or short form) as targets for the whole article, as
    the engine shows it to the model when serving; each `feedback_repeat` times. Held to `faithful_targets` like
    corpus targets."""
    stats = {} if stats is None else stats
    examples = []
    for item in items:
        source, _ = select_input(split_paragraphs(item.article), count_tokens, task_format.input_tokens,
                                 task_format.input_selection)
        targets = {"headline": item.headline}
        if item.summary.strip() and item.summary_length in FEEDBACK_SUMMARY_FORMS:
            targets["summary"] = item.summary
        for task, target in targets.items():
            example = _example(task, source, target, config, task_format, stats) if task in config.tasks else None
            if example is not None:
                examples += [example] * config.feedback_repeat
    return examples


def build_data(config: Config, tokenizer, task_format: TaskFormat, accelerator):
    """Encoded training examples and the dev articles; `accelerator.print` reports what was kept."""
    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False).input_ids)

    train_articles, dev_articles = load_articles(config.data)
    dropped: dict = {}
    examples = build_examples(train_articles, config.data, task_format, count, dropped)
    feedback = load_feedback(config.data, dropped)
    examples += build_feedback_examples(feedback, config.data, task_format, count, dropped)
    if dropped:
        accelerator.print(f"data: dropped {dropped}")
    if task_format.kind == "seq2seq":
        encoded = [encode_seq2seq(e, tokenizer, task_format.input_tokens, config.data.max_target_tokens)
                   for e in examples]
    else:
        encoded = [encode_causal(e, tokenizer, config.data.max_target_tokens) for e in examples]
    if not encoded:
        raise SummarizerError("no training examples could be built from data.paths and data.feedback")
    accelerator.print(f"data: {len(train_articles)} train articles and {len(feedback)} feedback saves -> "
                      f"{len(encoded)} examples; {len(dev_articles)} dev articles")
    return encoded, dev_articles


def restricted_ids(encoded: list[dict], tokenizer) -> set[int]:
    """The tokens the training corpora use (inputs and targets) plus every single-character and byte token, so
    the model can still write any text."""
    from ..vocab import single_character_ids

    used = {t for example in encoded for t in example["input_ids"] if t >= 0}
    return used | single_character_ids(tokenizer) | {tokenizer.eos_token_id}


def encode_causal(example: Example, tokenizer, max_target_tokens: int) -> dict:
    """Prompt ids + target ids + eos; labels mask the prompt out of the loss."""
    prompt = tokenizer(example.source, add_special_tokens=True).input_ids
    target = tokenizer(" " + example.target, add_special_tokens=False).input_ids[:max_target_tokens]
    target = target + [tokenizer.eos_token_id]
    return {"input_ids": prompt + target, "labels": [-100] * len(prompt) + target}


def encode_seq2seq(example: Example, tokenizer, max_source_tokens: int, max_target_tokens: int) -> dict:
    source = tokenizer(example.source, truncation=True, max_length=max_source_tokens + 16).input_ids
    target = tokenizer(text_target=example.target, truncation=True, max_length=max_target_tokens + 1).input_ids
    return {"input_ids": source, "labels": target}


def collate_causal(batch: list[dict], pad_id: int) -> dict:
    """Left-pad so every target ends at the right edge: the loss then needs logits only for the last positions."""
    import torch

    width = max(len(b["input_ids"]) for b in batch)
    ids, labels, mask = [], [], []
    for b in batch:
        pad = width - len(b["input_ids"])
        ids.append([pad_id] * pad + b["input_ids"])
        labels.append([-100] * pad + b["labels"])
        mask.append([0] * pad + [1] * len(b["input_ids"]))
    return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "attention_mask": torch.tensor(mask)}


def collate_seq2seq(batch: list[dict], pad_id: int) -> dict:
    import torch

    src_w = max(len(b["input_ids"]) for b in batch)
    tgt_w = max(len(b["labels"]) for b in batch)
    return {
        "input_ids": torch.tensor([b["input_ids"] + [pad_id] * (src_w - len(b["input_ids"])) for b in batch]),
        "attention_mask": torch.tensor([[1] * len(b["input_ids"]) + [0] * (src_w - len(b["input_ids"])) for b in batch]),
        "labels": torch.tensor([b["labels"] + [-100] * (tgt_w - len(b["labels"])) for b in batch]),
    }
