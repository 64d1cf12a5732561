"""Batched generation of summaries and headlines with any loaded seq2seq or causal model.

The model side knows nothing about page cleaning: it receives article paragraphs and returns text.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Annotated, Literal

from .extractive import HEADLINE_MAX_WORDS
from .settings import Range, field_problems, shown
from .text import split_sentences, normalize

TASK_FORMAT_FILE = "summarizer_task.json"
TASKS = ("summary", "headline")


@dataclass(kw_only=True)
class GenerationSettings:
    """How to generate. Deterministic by default (greedy or beam search, no sampling).

    Every number has a range (its `Range`, enforced by the settings layer and shown by the CLI, the API and the
    web controls). The ranges bound what one forward pass can hold: at most batch_size × num_beams = 512
    sequences of max_input_tokens + max_new_tokens ≤ 2,304 positions; a server also caps their product per request
    (service.check_work), because each factor in range does not make the product small.
    """

    max_new_tokens: Annotated[int, Range(1, 256)] = 96
    """Most new tokens for a summary (at most 256: several times a two-sentence news summary)."""
    headline_max_new_tokens: Annotated[int, Range(1, 64)] = 32
    """Most new tokens for a headline (at most 64: twice what a 14-word headline takes)."""
    num_beams: Annotated[int, Range(1, 8)] = 1
    """Beam width; 1 is greedy decoding (fastest on a CPU). Memory and time grow with it (at most 8)."""
    num_candidates: Annotated[int, Range(1, 8)] = 1
    """Candidates kept from the beams and reranked by likelihood and faithfulness (at most num_beams)."""
    length_penalty: Annotated[float, Range(0.1, 5.0)] = 1.0
    """Beam-search length penalty (>1 favours longer outputs; further out, length outweighs likelihood)."""
    no_repeat_ngram_size: Annotated[int, Range(0, 10)] = 3
    """Forbid repeating any n-gram of this size (0 disables)."""
    repetition_penalty: Annotated[float, Range(1.0, 3.0)] = 1.1
    """Penalty on tokens already generated (1.0 disables; below 1 would reward repeating)."""
    source_boost: Annotated[float, Range(0.0, 10.0)] = 0.0
    """Logit bonus for tokens that occur in the article (source-aware decoding; 0 disables)."""
    strict_source: bool = False
    """Allow only tokens of the article and a short list of function words and punctuation."""
    guard: bool = True
    """Replace a model headline or summary holding a number or a rare word the article lacks with the
    extractive one, and say so in the result."""
    guard_novel_rate: Annotated[float, Range(0.0, 1.0)] = 0.34
    """The guard also replaces a model text when more than this share of its content words are absent from the
    article (1 = never): a headline a third new is likely to assert what the article does not (chosen on the ANT
    dev split: see docs/measurements.md)."""
    model_tasks: str = ""
    """Fields a model engine writes, comma-separated (headline, summary); the others are the extractive engine's.
    Empty: what the model's adapter recommends (chosen on the dev split, saved with it), else both."""
    max_input_tokens: Annotated[int, Range(0, 2048)] = 0
    """Token budget for the article text (0 = the budget the model was trained with, saved with it); longer
    articles are cut at paragraph/sentence boundaries. At most 2,048: the shipped adapter was trained on 128, and
    attention memory grows with the square of this."""
    batch_size: Annotated[int, Range(1, 64)] = 8
    """Articles per forward pass (batches are formed from length-sorted inputs); memory grows with it (at most
    64)."""
    summary_sentences: Annotated[int, Range(1, 10)] = 2
    """Most sentences in an extractive summary (a summary of more than 10 is the article)."""
    summary_min_words: Annotated[int, Range(0, 200)] = 25
    """An extractive summary adds its next-best sentence only while it is shorter than this many words (0: always
    summary_sentences sentences). News leads run 25-30 words: one full sentence, or two short ones."""
    num_headlines: Annotated[int, Range(1, 5)] = 3
    """Headline candidates returned, best first (the editor picks one; `headline` is the first). A model engine
    writes this many or more, checks each against the article and ranks the supported ones first."""
    headline_max_words: Annotated[int, Range(4, 30)] = HEADLINE_MAX_WORDS
    """Most words in a headline (a model headline over it is not shown; one from the article's sentences is cut to
    it)."""
    headline_cut: Literal["model", "rules"] = "model"
    """Where a headline taken from the article's sentences is cut: "rules", at the clause or phrase boundary nearest
    headline_max_words; "model", the same unless a model engine's model would not end a headline there, then where
    it would (summarizer.cut; the words stay the article's). The extractive engine has no model: rules."""
    summary_length: Literal["sentence", "short", "bullets"] = "sentence"
    """sentence: one sentence (or two short ones, see summary_min_words); short: a paragraph of 2-3 sentences;
    bullets: 3-5 key facts, one sentence each (the record's summary_points; summary joins them)."""
    headline_min_support: Annotated[float, Range(0.0, 1.0)] = 1.0
    """Show a model headline only when the checker gives at least this probability that the article supports it;
    else the article's own headline-shaped sentence (a wrong headline costs more than a dull one). 1 (the default):
    never; the model's candidates are listed for the editor with their checks. Judged by reading, the model
    headlines the checker passed at 0.9 were right less often and wrong more often than the article's own headline
    for the same articles (36 articles, dev and held-out: benchmarks/judged, docs/measurements.md, round 4)."""
    check: bool = True
    """Check headlines and summaries with the trained consistency checker (summarizer.check) where it is
    installed: each gets a verdict (supported, unsupported, contradicted), a score and the article sentences that
    support it; a model headline the checker does not support is not shown."""

    def problems(self) -> list[str]:
        """Every bad value (type, range) and every bad combination; user values are never echoed."""
        errors = field_problems(self)
        if isinstance(self.model_tasks, str) and \
                any(f.strip() and f.strip() not in TASKS for f in self.model_tasks.split(",")):
            errors.append(f"model_tasks: unknown field(s); name only {' and '.join(TASKS)}, comma-separated, or "
                          "leave it empty")
        if isinstance(self.num_candidates, int) and isinstance(self.num_beams, int) and \
                self.num_candidates > self.num_beams >= 1:
            errors.append(f"num_candidates ({shown(self.num_candidates)}) cannot exceed num_beams "
                          f"({shown(self.num_beams)})")
        return errors

    def pass_tokens(self, articles: int, model_input_tokens: int) -> int:
        """Token positions one forward pass holds, which generation memory grows with (the KV cache; attention
        besides): min(batch_size, articles) × num_beams sequences of input + new tokens. `model_input_tokens` is
        the model's own budget, used where max_input_tokens is 0."""
        inputs = self.max_input_tokens or model_input_tokens
        new = max(self.max_new_tokens, self.headline_max_new_tokens)
        return min(self.batch_size, max(1, articles)) * self.num_beams * (inputs + new)

    def decode_steps(self, articles: int) -> int:
        """Sequence-steps of decoding `articles` articles, which generation time grows with: each article's beams
        run for up to the summary's and the headline's new tokens. Candidates come from the beams and add none."""
        return articles * self.num_beams * (self.max_new_tokens + self.headline_max_new_tokens)

    @classmethod
    def from_dict(cls, values: dict) -> "GenerationSettings":
        """Build from user input; unknown names and bad values raise ConfigError listing every problem."""
        from .settings import build

        return build(cls, values)


def source_token_ids(tokenizer, text: str) -> set[int]:
    """Token ids that spell the text, as it appears mid-sentence and at a line start."""
    ids = set(tokenizer(text, add_special_tokens=False).input_ids)
    for line in text.splitlines():
        ids.update(tokenizer(" " + line, add_special_tokens=False).input_ids)
    return ids


# Words and marks any Arabic summary may use whatever the article says (strict mode allows only these + the article).
FUNCTION_WORDS = ("في من على إلى عن مع أن إن أو ثم كما لكن بل حتى إذا لم لن لا ما قد كان كانت هذا هذه ذلك تلك "
                  "الذي التي الذين هو هي هم و ف ب ل بعد قبل خلال بين حول منذ عند ضد دون غير كل بعض أي أيضا وفق "
                  "حيث بسبب إثر وسط نحو عبر يوم اليوم أمس قال قالت أعلن أعلنت أكد أكدت , . ، : ؛ ؟ ! \" « » ( ) -")


def common_token_ids(tokenizer, stop_ids) -> set[int]:
    """What strict decoding allows besides the article's own tokens: the function words and the stop tokens."""
    return source_token_ids(tokenizer, FUNCTION_WORDS.replace(" ", "\n")) | set(stop_ids)


@dataclass
class TaskFormat:
    """Everything about how a task is put to a model, in one object saved next to the weights/adapter, so that
    training and serving read the same thing: rendering, the input budget, stop strings, output cleanup."""

    kind: str = "causal"
    """'seq2seq' (source prefixes) or 'causal' (prompt templates, target follows the prompt)."""
    prefixes: dict[str, str] = field(default_factory=lambda: {"summary": "summarize: ", "headline": "headline: "})
    templates: dict[str, str] = field(
        default_factory=lambda: {
            "summary": "{text}\n\nملخص الخبر:",
            "headline": "{text}\n\nعنوان الخبر:",
        }
    )
    input_tokens: int = 384
    """Tokens of article text the model sees (the template not counted); training cuts inputs to the same."""
    stop_strings: list[str] = field(default_factory=lambda: ["<end_of_turn>"])
    """Tokens that end an answer besides the tokenizer's eos (chat-tuned bases end turns with these)."""
    one_line: list[str] = field(default_factory=lambda: ["headline"])
    """Tasks whose answer is a single line: a causal model stops at the newline."""
    model_fields: list[str] = field(default_factory=lambda: list(TASKS))
    """Fields this model should write by default, as measured on dev against the extractive engine; the others
    are taken from the article (GenerationSettings.model_tasks overrides)."""
    input_selection: str = "start"
    """What of the article fills the input budget: 'start' (whole paragraphs from the top) or 'central' (the
    extractive ranker's best sentences, in article order: the model rewrites the most central sentences)."""
    generation: dict = field(default_factory=dict)
    """Generation settings chosen on the dev split for this model (GenerationSettings fields, e.g. the guard's
    novel-word threshold); they apply wherever a call does not set its own (see with_recommended)."""

    def render(self, task: str, text: str) -> str:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
        if self.kind == "seq2seq":
            return self.prefixes[task] + text
        return self.templates[task].format(text=text)

    def overhead(self, task: str) -> str:
        return self.render(task, "")

    def labels(self) -> list[str]:
        """The answer cues of this format ("ملخص الخبر:"), which a model sometimes echoes before its answer."""
        cues = [t.replace("{text}", "").strip() for t in self.templates.values()]
        return [c for c in cues + [p.strip() for p in self.prefixes.values()] if c]

    def stop_token_ids(self, tokenizer, task: str) -> list[int]:
        ids = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
        for token in self.stop_strings:
            tid = tokenizer.convert_tokens_to_ids(token)
            if isinstance(tid, int) and tid != tokenizer.unk_token_id and tid not in ids:
                ids.append(tid)
        if self.kind == "causal" and task in self.one_line:
            newline = tokenizer("\n", add_special_tokens=False).input_ids
            if len(newline) == 1 and newline[0] not in ids:
                ids.append(newline[0])
        return ids

    def clean(self, text: str, *, task: str, finished: bool) -> str:
        return clean_output(text, task=task, finished=finished, labels=self.labels())

    def save(self, directory: str | Path) -> Path:
        return save_beside(self, directory, TASK_FORMAT_FILE)

    @classmethod
    def load(cls, directory: str | Path) -> "TaskFormat | None":
        return load_beside(cls, directory, TASK_FORMAT_FILE)


def save_beside(obj, directory: str | Path, name: str) -> Path:
    """A format dataclass as the JSON file `name` beside a model's weights (the file serving reads back)."""
    path = Path(directory) / name
    path.write_text(json.dumps(asdict(obj), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def load_beside(cls, directory: str | Path, name: str):
    """The format dataclass saved as `name` in `directory` (keys it no longer has are ignored), or None."""
    path = Path(directory) / name
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})


RENAMED_SETTINGS = {"model_fields": "model_tasks"}
"""Old GenerationSettings names -> new ones, for files written before a rename (an adapter's
TaskFormat.generation, a run's config.yaml). `model_fields` shadowed pydantic's BaseModel.model_fields in the API's
request schema."""


def renamed_settings(values: dict) -> dict:
    """`values` with old GenerationSettings names (RENAMED_SETTINGS) read as the new ones; a new name wins."""
    if not isinstance(values, dict) or not any(old in values for old in RENAMED_SETTINGS):
        return values
    out = {RENAMED_SETTINGS[key]: value for key, value in values.items() if key in RENAMED_SETTINGS}
    out.update({key: value for key, value in values.items() if key not in RENAMED_SETTINGS})
    return out


def with_recommended(settings: GenerationSettings, recommended: dict) -> GenerationSettings:
    """`settings` with a model's recommended values (TaskFormat.generation) for every field the caller left unset;
    what the caller set always wins. A bad recommendation is a ConfigError naming the model's file."""
    if not recommended:
        return settings
    from .errors import ConfigError
    from .settings import build, explicit_values, mark_explicit

    chosen = explicit_values(settings)
    try:
        merged = build(GenerationSettings, {**renamed_settings(recommended), **chosen})
    except ConfigError as exc:
        raise ConfigError(f"the model's recommended settings ({TASK_FORMAT_FILE} 'generation'): {exc}") from None
    return mark_explicit(merged, chosen)


def leading_sentences(text: str, count_tokens, budget: int) -> list[str]:
    """The text's first whole sentences whose tokens (+1 separator each) fit `budget`."""
    kept, used = [], 0
    for sentence in split_sentences(text):
        cost = count_tokens(sentence) + 1
        if used + cost > budget:
            break
        kept.append(sentence)
        used += cost
    return kept


def fit_to_budget(paragraphs: list[str], count_tokens, budget: int) -> tuple[str, bool]:
    """Keep the article start (news is front-loaded): whole paragraphs, then whole sentences, within `budget`.

    `count_tokens(text) -> int`. Returns (text, truncated). A first sentence over the budget alone is cut at a
    word boundary, so the model always sees something.
    """
    kept: list[str] = []
    used = 0
    for paragraph in paragraphs:
        cost = count_tokens(paragraph) + 1  # +1 for the newline between paragraphs
        if used + cost <= budget:
            kept.append(paragraph)
            used += cost
            continue
        sentences_kept = leading_sentences(paragraph, count_tokens, budget - used)
        if sentences_kept:
            kept.append(" ".join(sentences_kept))
        if not kept:
            words = paragraph.split()
            while words and count_tokens(" ".join(words)) > budget:
                words = words[: max(1, int(len(words) * 0.8))] if len(words) > 1 else []
            kept.append(" ".join(words))
        return "\n".join(kept), True
    return "\n".join(kept), False


INPUT_SELECTIONS = ("start", "central")


def select_input(paragraphs: list[str], count_tokens, budget: int, selection: str = "start") -> tuple[str, bool]:
    """The model's view of an article within `budget` tokens: its start, or its central sentences (see
    TaskFormat.input_selection). Returns (text, truncated); training and serving both call this."""
    if selection not in INPUT_SELECTIONS:
        raise ValueError(f"input_selection must be one of {', '.join(INPUT_SELECTIONS)}, got {selection!r}")
    if selection == "start":
        return fit_to_budget(paragraphs, count_tokens, budget)
    from .article import Article
    from .extractive import rank_article

    ranked = rank_article(Article(id="", paragraphs=list(paragraphs)))
    chosen, used = [], 0
    for i in sorted(range(len(ranked.sentences)), key=lambda i: -ranked.scores[i])[:40]:
        cost = count_tokens(ranked.sentences[i]) + 1
        if used + cost <= budget:
            chosen.append(i)
            used += cost
    if not chosen:  # even the best sentence is over the budget: cut the start instead
        return fit_to_budget(paragraphs, count_tokens, budget)
    return " ".join(ranked.sentences[i] for i in sorted(chosen)), len(chosen) < len(ranked.sentences)


_REPEAT_SPLIT = re.compile(r"(?<=[.!؟?؛])\s+")


_COMMON_LABELS = ("ملخص الخبر:", "عنوان الخبر:", "الملخص:", "العنوان:", "summary:", "headline:", "summarize:")


def clean_output(text: str, *, task: str, finished: bool, labels: list[str] | tuple[str, ...] = ()) -> str:
    """Tidy generated text: first line only, no echoed labels, no repeated sentences, no cut-off words."""
    text = re.sub(r"<[^>]{1,40}>", " ", text).strip()  # stray HTML tags the base model learned from the web
    for label in (*labels, *_COMMON_LABELS):
        if label and text.lower().startswith(label.lower()):
            text = text[len(label) :].strip()
    text = text.split("\n", 1)[0].strip() if task == "headline" else " ".join(text.split("\n")).strip()
    seen: set[str] = set()
    sentences = []
    for sentence in _REPEAT_SPLIT.split(text):
        key = " ".join(normalize(sentence).split())
        if key and key not in seen:
            seen.add(key)
            sentences.append(sentence)
    text = " ".join(sentences)
    if not finished:
        # Generation stopped at the token limit: drop the unfinished sentence, or at least the last half-word.
        complete = [m.end() for m in re.finditer(r"[.!؟?؛](?=\s|$)", text)]
        if task == "summary" and complete:
            text = text[: complete[-1]]
        elif " " in text:
            text = text.rsplit(" ", 1)[0]
    if task == "headline":
        text = text.strip().rstrip(".،,:؛").strip()
    return " ".join(text.split()) if task == "headline" else re.sub(r"[ \t]+", " ", text).strip()
