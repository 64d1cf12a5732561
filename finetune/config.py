"""Typed experiment configs: defaults here, YAML files in configs/ hold only the differences.

Field docstrings become `--help`; `validate` gathers every problem into one message; command-line overrides use
dotted names (`--train.lr 3e-4`); the resolved config is saved beside every checkpoint.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml

from summarizer.errors import ConfigError
from summarizer.generation import GenerationSettings
from summarizer.settings import field_docs, merge, yaml_float


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
    summary_prefix: str = "summarize: "
    """Seq2seq source prefix for summaries."""
    headline_prefix: str = "headline: "
    """Seq2seq source prefix for headlines."""


@dataclass
class DataConfig:
    paths: list[str] = field(default_factory=lambda: ["../shared/data/ant-multisource-v2.1.tar.gz"])
    """Corpora to read (ANT .tar.gz/dir, SaudiNewsNet dir, JSON Lines, text)."""
    tasks: list[str] = field(default_factory=lambda: ["summary", "headline"])
    """Tasks to train: summary (body -> lead), headline (body -> title)."""
    use_abstracts: bool = False
    """Also train whole text -> ABSTRACT where the corpus has independent abstracts (BBC, CNN)."""
    max_source_tokens: int = 192
    """Token budget for the input article (cut at paragraph/sentence boundaries)."""
    input_selection: str = "start"
    """What fills that budget: 'start' (the article's top) or 'central' (the extractive ranker's best sentences,
    in article order). Saved with the adapter; serving selects the same way."""
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


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    generation: GenerationSettings = field(default_factory=lambda: GenerationSettings(max_new_tokens=64))


def validate(config: Config) -> list[str]:
    errors = [f"generation: {p}" for p in config.generation.problems()]
    if config.train.schedule not in ("cosine", "linear", "constant"):
        errors.append(f"train.schedule must be cosine, linear or constant, got {config.train.schedule!r}")
    for task in config.data.tasks:
        if task not in ("summary", "headline"):
            errors.append(f"data.tasks: unknown task {task!r} (summary, headline)")
    from summarizer.generation import INPUT_SELECTIONS

    if config.data.input_selection not in INPUT_SELECTIONS:
        errors.append(f"data.input_selection must be one of {', '.join(INPUT_SELECTIONS)}, "
                      f"got {config.data.input_selection!r}")
    for name in ("steps", "batch_size", "grad_accum", "max_source_tokens", "max_target_tokens"):
        section = config.train if hasattr(config.train, name) else config.data
        if getattr(section, name) < 1:
            errors.append(f"{name} must be >= 1")
    if config.train.lr <= 0:
        errors.append("train.lr must be > 0")
    return errors


def parse_overrides(args: list[str]) -> dict:
    """['--train.lr', '3e-4', '--model.lora=false'] -> {'train': {'lr': 0.0003}, 'model': {'lora': False}}."""
    out: dict = {}
    errors = []
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or arg == "--":
            errors.append(f"unexpected argument {arg!r} (overrides look like --train.lr 3e-4)")
            i += 1
            continue
        if "=" in arg:
            key, raw = arg[2:].split("=", 1)
            i += 1
        elif i + 1 < len(args):
            key, raw = arg[2:], args[i + 1]
            i += 2
        else:
            errors.append(f"{arg} needs a value")
            break
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml_float(yaml.safe_load(raw))
    if errors:
        raise ConfigError("; ".join(errors))
    return out


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Defaults, then the YAML file, then command-line overrides; every problem is reported at once."""
    config = Config()
    errors: list[str] = []
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: invalid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level")
        merge(config, data, "", errors)
    if overrides:
        merge(config, parse_overrides(overrides), "", errors)
    errors += validate(config)
    if errors:
        where = f"{path}: " if path is not None else ""
        raise ConfigError(where + f"{len(errors)} problem(s): " + "; ".join(errors))
    return config


def save_config(config: Config, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(asdict(config), allow_unicode=True, sort_keys=False), encoding="utf-8")


def help_text() -> str:
    lines = ["Settings (YAML keys or --section.key VALUE overrides):"]
    for section in fields(Config):
        cls = type(getattr(Config(), section.name))
        docs = field_docs(cls)
        for f in fields(cls):
            default = getattr(getattr(Config(), section.name), f.name)
            lines.append(f"  --{section.name}.{f.name} (default {default!r}): {docs.get(f.name, '')}")
    return "\n".join(lines)
