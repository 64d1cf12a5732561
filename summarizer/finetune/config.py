"""Typed experiment configs: defaults here, YAML files in configs/ hold only the differences.

The config is a tree of settings dataclasses (summarizer.settings): field docstrings become `--help`, command-line
overrides use dotted names (`--train.lr 3e-4`), every problem is reported at once, and the resolved config is
saved beside every checkpoint. How a task is put to the model is the `task` section: the same TaskFormat that is
saved with the weights and read when serving.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from ..generation import INPUT_SELECTIONS, TASKS, GenerationSettings, TaskFormat, renamed_settings
from ..settings import dotted_help, load_layered


def _below(obj, **minimums) -> list[str]:
    return [f"{name} must be >= {low}, got {getattr(obj, name)!r}" for name, low in minimums.items()
            if getattr(obj, name) < low]


@dataclass
class ModelConfig:
    name: str = "default"
    """Hub id or local directory of the base model; 'default' is the embedded gemma-3-270m."""
    lora: bool = True
    """Train a LoRA adapter (True) or all weights (False)."""
    lora_r: int = 16
    """LoRA rank."""
    lora_alpha: int = 32
    """LoRA scaling numerator (scale = alpha / r)."""
    lora_dropout: float = 0.05
    """Dropout on the LoRA input."""
    lora_targets: list[str] = field(default_factory=lambda: ["all-linear"])
    """Module names to adapt; 'all-linear' adapts every linear layer but the output layer."""
    lora_layers: int = 0
    """Adapt only the top N transformer layers (0 = all): the backward pass then stops below them (cheaper)."""

    def problems(self) -> list[str]:
        errors = _below(self, lora_r=1, lora_alpha=1, lora_layers=0)
        if not 0 <= self.lora_dropout < 1:
            errors.append(f"lora_dropout must be from 0 to below 1, got {self.lora_dropout!r}")
        if not self.lora_targets:
            errors.append("lora_targets must name at least one module (or all-linear)")
        return errors


@dataclass
class DataConfig:
    paths: list[str] = field(default_factory=lambda: ["../shared/data/ant-multisource-v2.1.tar.gz"])
    """Corpora to read (ANT .tar.gz/dir, SaudiNewsNet dir, JSON Lines, text)."""
    tasks: list[str] = field(default_factory=lambda: ["summary", "headline"])
    """Tasks to train: summary (body -> lead), headline (body -> title)."""
    use_abstracts: bool = False
    """Also train whole text -> ABSTRACT where the corpus has independent abstracts (BBC, CNN)."""
    max_target_tokens: int = 64
    """Summary targets keep the lead's whole sentences that fit this budget; longer first sentences are skipped."""
    faithful_targets: bool = True
    """Drop examples whose target holds a number or a rare word the model input lacks: they teach inventing."""
    max_train_articles: int = 0
    """Cap on training articles (0 = all)."""
    dev_articles: int = 48
    """Dev articles used for periodic evaluation."""
    split_seed: int = 13
    """Seed of the id-hash train/dev/test split (shared with `summarizer evaluate`)."""
    dev_fraction: float = 0.05
    """Share of articles in the dev split (0.05 matches `summarizer evaluate --split dev`)."""
    feedback: list[str] = field(default_factory=list)
    """Editors' feedback files, or folders of them (`summarizer serve --feedback-dir`): each saved headline (as
    picked or edited) and summary is a target for its whole article. Training data only, never dev."""
    feedback_repeat: int = 1
    """Times each feedback example is used per pass over the data (a desk's few corrections among many corpus
    articles)."""

    def problems(self) -> list[str]:
        errors = _below(self, max_target_tokens=1, max_train_articles=0, dev_articles=0, feedback_repeat=1)
        if not self.paths and not self.feedback:
            errors.append("paths must name at least one corpus (or feedback at least one feedback file)")
        if not self.tasks:
            errors.append(f"tasks must name at least one of {', '.join(TASKS)}")
        errors += [f"tasks: unknown task {task!r} ({', '.join(TASKS)})" for task in self.tasks if task not in TASKS]
        if not 0 <= self.dev_fraction < 1:
            errors.append(f"dev_fraction must be from 0 to below 1, got {self.dev_fraction!r}")
        return errors

    def missing_paths(self) -> list[str]:
        """Corpora that are not there: found before a model is loaded, not after."""
        return [f"data.{name}: {path} does not exist" for name in ("paths", "feedback")
                for path in getattr(self, name) if not Path(path).exists()]


SCHEDULES = ("cosine", "linear", "constant")


@dataclass
class TrainConfig:
    output_dir: str = "runs/gemma3-270m-lora"
    """Run directory: checkpoints, metrics.jsonl, config.yaml, best/."""
    steps: int = 300
    """Optimizer steps."""
    batch_size: int = 8
    """Examples per micro-batch (per process)."""
    grad_accum: int = 1
    """Micro-batches per optimizer step."""
    lr: float = 2e-4
    """Peak learning rate."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    warmup_steps: int = 20
    """Linear warmup steps."""
    schedule: str = "cosine"
    """Decay after warmup: cosine, linear or constant."""
    max_grad_norm: float = 1.0
    """Gradient clipping norm."""
    log_every: int = 10
    """Steps between metrics.jsonl lines."""
    eval_every: int = 100
    """Steps between dev evaluations (0 = only at the end)."""
    save_every: int = 100
    """Steps between checkpoints (0 = only at the end)."""
    seed: int = 0
    """Seed for data order, initialization and dropout."""
    threads: int = 0
    """CPU threads for torch (0 = torch's default)."""
    restricted_vocab: bool = False
    """Causal models: softmax over the tokens the training targets use only (the 262k-token output layer
    dominates a small model's step); the model and its output layer are unchanged."""

    def problems(self) -> list[str]:
        errors = _below(self, steps=1, batch_size=1, grad_accum=1, warmup_steps=0, log_every=1, eval_every=0,
                        save_every=0, seed=0, threads=0, weight_decay=0)
        if self.seed >= 2**32:  # numpy's seed range, which accelerate's set_seed feeds
            errors.append(f"seed must be below 2**32, got {self.seed}")
        if not self.lr > 0:
            errors.append(f"lr must be > 0, got {self.lr!r}")
        if not self.max_grad_norm > 0:
            errors.append(f"max_grad_norm must be > 0, got {self.max_grad_norm!r}")
        if self.schedule not in SCHEDULES:
            errors.append(f"schedule must be {', '.join(SCHEDULES)}, got {self.schedule!r}")
        return errors


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    task: TaskFormat = field(default_factory=TaskFormat)
    """How each task is put to the model (saved with the weights; `kind` follows the model)."""
    train: TrainConfig = field(default_factory=TrainConfig)
    generation: GenerationSettings = field(default_factory=lambda: GenerationSettings(max_new_tokens=64))

    def problems(self) -> list[str]:
        """The task section's (TaskFormat checks nothing itself: it is read from files written here)."""
        task, errors = self.task, []
        if task.input_tokens < 1:
            errors.append(f"task.input_tokens must be >= 1, got {task.input_tokens}")
        if task.input_selection not in INPUT_SELECTIONS:
            errors.append(f"task.input_selection must be one of {', '.join(INPUT_SELECTIONS)}, "
                          f"got {task.input_selection!r}")
        for name in self.data.tasks:
            if name not in task.prefixes:
                errors.append(f"task.prefixes has no {name!r} entry")
            if "{text}" not in task.templates.get(name, ""):
                errors.append(f"task.templates must have a {name!r} entry holding {{text}}")
        return errors


def upgrade(values: dict) -> dict:
    """Configs written before the task format became a section (runs' config.yaml, the packaged adapter's): the
    prefixes, the input budget and the input selection moved from `model` and `data` into `task`; generation
    settings renamed since (RENAMED_SETTINGS) are read under their new names."""
    if isinstance(values.get("generation"), dict):
        values = {**values, "generation": renamed_settings(values["generation"])}
    model, data = values.get("model"), values.get("data")
    model = dict(model) if isinstance(model, dict) else model  # a wrong type stays for merge to report
    data = dict(data) if isinstance(data, dict) else data
    moved: dict = {}
    if isinstance(model, dict):
        prefixes = {name: model.pop(f"{name}_prefix") for name in TASKS if f"{name}_prefix" in model}
        if prefixes:
            moved["prefixes"] = {**TaskFormat().prefixes, **prefixes}
    if isinstance(data, dict):
        for old, new in (("max_source_tokens", "input_tokens"), ("input_selection", "input_selection")):
            if old in data:
                moved[new] = data.pop(old)
    if not moved:
        return values
    task = values.get("task", {})
    out = {**values, "task": {**moved, **task} if isinstance(task, dict) else task}
    out.update({key: value for key, value in (("model", model), ("data", data)) if key in values})
    return out


def load_config(path: str | Path | None = None, overrides: list[str] | None = None, *,
                check_paths: bool = False) -> Config:
    """Defaults, then the YAML file, then command-line overrides; every problem is reported at once (with
    `check_paths`, missing corpora too)."""
    return load_layered(Config, path, overrides, upgrade=upgrade,
                        checks=(lambda config: config.data.missing_paths()) if check_paths else None)


def save_config(config: Config, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(asdict(config), allow_unicode=True, sort_keys=False), encoding="utf-8")


def help_text() -> str:
    return dotted_help(Config)
