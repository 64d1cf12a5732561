"""Copy a run's best adapter into the package as the embedded default.

    summarizer ship runs/gemma3-270m-news [--model-fields headline] [--settings '{guard_novel_rate: 0.34}']
        [--dest summarizer/adapters/gemma3-270m-news]
    summarizer ship runs/gemma3-270m-news/checkpoints/step-000250 --dest runs/eval/step-250   # to evaluate

Everything is checked before anything is written (the adapter's config and weights load, its task format and
training config parse, the options are known); the new adapter is assembled in a temporary folder beside the
destination and renamed into place, so the packaged adapter is whole whatever fails. The model card (README.md in
the destination) is written by hand from measured numbers and kept.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

from ..default_model import ADAPTER_DIR, resolve_model
from ..errors import ConfigError, SummarizerError
from ..generation import TASK_FORMAT_FILE, TASKS, GenerationSettings, TaskFormat
from ..settings import build
from ..vocab import OUTPUT_VOCAB_FILE, load_output_vocab, save_output_vocab
from .config import Config, load_config
from .data import build_data, restricted_ids

WEIGHTS, ADAPTER_CONFIG = "adapter_model.safetensors", "adapter_config.json"
FILES = (WEIGHTS, ADAPTER_CONFIG, TASK_FORMAT_FILE, "config.yaml")
OPTIONAL = ("scores.json", OUTPUT_VOCAB_FILE)  # scores: in `best`, not in every checkpoint; vocabulary: restricted runs
MAX_BYTES = 20 * 1024 * 1024


def ship(run: Path, dest: Path = ADAPTER_DIR, model_fields: list[str] | None = None,
         settings: dict | None = None) -> Path:
    """Copy `run/best` (or `run` itself when it is an adapter directory, e.g. `run/checkpoints/step-000250`) into
    `dest`. `model_fields` and `settings`, chosen by measuring on dev against the extractive engine, are written
    into the task format the engine reads. Raises ConfigError naming the first file or option at fault."""
    best = run / "best" if (run / "best").is_dir() else run
    config = check_adapter(best)
    check_options(model_fields, settings, names=("model_fields", "settings"))
    if dest.exists() and not dest.is_dir():
        raise ConfigError(f"{dest} is not a directory")
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in [*dest.parent.glob(f".{dest.name}.shipping-*"), *dest.parent.glob(f".{dest.name}.replaced-*")]:
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed ship
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.shipping-", dir=dest.parent))
    try:
        _assemble(best, dest, tmp, config, model_fields, settings)
        _swap(tmp, dest)
    except OSError as exc:
        raise ConfigError(f"cannot ship to {dest}: {exc} (the adapter there is unchanged)") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


# --- checks: nothing is written before they pass ------------------------------------------------------------
def check_adapter(best: Path) -> Config:
    """Every file of the adapter directory parses and the weights load; returns its training config."""
    missing = [name for name in FILES if not (best / name).is_file()]
    if missing:
        raise ConfigError(f"{best} lacks {', '.join(missing)}")
    size = (best / WEIGHTS).stat().st_size
    if size > MAX_BYTES:
        raise ConfigError(f"{best / WEIGHTS}: {size / 2**20:.1f} MB, over the 20 MB the package allows")
    rank = _check_adapter_config(best / ADAPTER_CONFIG)
    _check_weights(best / WEIGHTS, rank)
    task_values = _json(best / TASK_FORMAT_FILE)
    try:
        build(TaskFormat, task_values, what="task format field")
    except ConfigError as exc:
        raise ConfigError(f"{best / TASK_FORMAT_FILE}: {exc}") from None
    try:
        load_output_vocab(best)
    except (ValueError, UnicodeDecodeError) as exc:  # its own message names the file; JSON errors do not
        raise ConfigError(str(exc) if OUTPUT_VOCAB_FILE in str(exc) else f"{best / OUTPUT_VOCAB_FILE}: {exc}") \
            from None
    if (best / "scores.json").is_file():
        _json(best / "scores.json")
    return load_config(best / "config.yaml")  # a ConfigError names the file


def _json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not JSON ({exc})") from None


def _check_adapter_config(path: Path) -> int | None:
    """A peft adapter config of a known kind; returns its LoRA rank (None for other kinds)."""
    from peft import PeftConfig

    data = _json(path)
    if not isinstance(data, dict) or not data.get("peft_type"):
        raise ConfigError(f"{path}: not a peft adapter config (no peft_type)")
    try:
        config = PeftConfig.from_pretrained(str(path.parent))
    except Exception as exc:  # noqa: BLE001 - peft raises TypeError, KeyError, ValueError... for a bad file
        raise ConfigError(f"{path}: not a peft adapter config ({type(exc).__name__}: {exc})") from None
    rank = getattr(config, "r", None)
    if rank is not None and (not isinstance(rank, int) or isinstance(rank, bool) or rank < 1):
        raise ConfigError(f"{path}: r must be a positive integer, got {rank!r}")
    return None if getattr(config, "rank_pattern", None) else rank


def _check_weights(path: Path, rank: int | None) -> None:
    """The weights load, are finite, and are LoRA pairs of the config's rank."""
    import torch
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - SafetensorError derives from Exception only
        raise ConfigError(f"{path}: not a safetensors file ({exc})") from None
    if not tensors:
        raise ConfigError(f"{path}: holds no tensors")
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ConfigError(f"{path}: {name} holds NaN or infinite values")
        if rank is not None and ".lora_A." in name and tensor.shape[0] != rank:
            raise ConfigError(f"{path}: {name} has rank {tensor.shape[0]}, the config says r={rank}")
    if rank is not None and not any(".lora_A." in name for name in tensors):
        raise ConfigError(f"{path}: holds no LoRA weights (lora_A/lora_B)")


def check_options(model_fields: list[str] | None, settings: dict | None, *, names: tuple[str, str]) -> None:
    """Known model fields and valid generation settings; `names`: what to call them in the message."""
    if model_fields is not None and not model_fields:
        raise ConfigError(f"{names[0]}: name at least one of {', '.join(TASKS)}")
    unknown = [f for f in model_fields or [] if f not in TASKS]
    if unknown:
        raise ConfigError(f"{names[0]}: unknown field(s) {', '.join(map(repr, unknown))} ({', '.join(TASKS)})")
    if settings is not None:
        try:
            build(GenerationSettings, settings)  # every bad name or value named now, not at a user's first call
        except ConfigError as exc:
            raise ConfigError(f"{names[1]}: {exc}") from None


# --- writing: into a temporary folder, then one rename ------------------------------------------------------
MANAGED = FILES + OPTIONAL


def _assemble(best: Path, dest: Path, tmp: Path, config: Config, model_fields, settings) -> None:
    if dest.is_dir():  # the model card and anything else written by hand stays
        for kept in dest.iterdir():
            if kept.name not in MANAGED and kept.is_file():
                shutil.copy2(kept, tmp / kept.name)
    for name in MANAGED:
        if (best / name).is_file():
            shutil.copy2(best / name, tmp / name)
    if not (tmp / OUTPUT_VOCAB_FILE).is_file() and config.train.restricted_vocab:
        rebuild_output_vocab(tmp, config)  # trained before the ids were saved with the adapter
    adapter_config = json.loads((tmp / ADAPTER_CONFIG).read_text())
    # The base is resolved at run time (the converted GGUF in the user's cache), not from this machine's path.
    adapter_config["base_model_name_or_path"] = "gemma-3-270m (summarizer embedded default)"
    (tmp / ADAPTER_CONFIG).write_text(json.dumps(adapter_config, indent=2) + "\n")
    if model_fields or settings is not None:
        task_format = TaskFormat.load(tmp)
        if model_fields:
            task_format.model_fields = list(model_fields)
        if settings is not None:
            task_format.generation = dict(settings)
        task_format.save(tmp)


def _swap(tmp: Path, dest: Path) -> None:
    """`tmp` becomes `dest`; the old `dest` is put back if the second rename fails."""
    if not dest.exists():
        os.replace(tmp, dest)
        return
    old = dest.with_name(f".{dest.name}.replaced-{os.getpid()}")
    os.replace(dest, old)
    try:
        os.replace(tmp, dest)
    except OSError:
        os.replace(old, dest)
        raise
    shutil.rmtree(old, ignore_errors=True)


def rebuild_output_vocab(adapter_dir: Path, config: Config | None = None) -> int:
    """Write `output_vocab.json` for an adapter trained before it was saved: the same ids, recomputed from the
    training data its config.yaml describes (same seed, same selection). Returns the number of ids."""
    from transformers import AutoConfig, AutoTokenizer

    config = config or load_config(adapter_dir / "config.yaml")
    name = resolve_model(config.model.name)
    tokenizer = AutoTokenizer.from_pretrained(name)
    encoded, _ = build_data(config, tokenizer, TaskFormat.load(adapter_dir), SimpleNamespace(print=lambda *a: None))
    ids = restricted_ids(encoded, tokenizer)
    save_output_vocab(adapter_dir, ids, AutoConfig.from_pretrained(name).get_text_config().vocab_size)
    return len(ids)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="summarizer ship", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--dest", type=Path, default=ADAPTER_DIR)
    parser.add_argument("--model-fields", help="fields the model should write by default, comma-separated "
                        "(headline, summary), as measured on dev; default: both")
    parser.add_argument("--settings", help="generation settings chosen on dev, saved with the adapter and used "
                        "wherever a call sets none, as a YAML mapping: '{guard_novel_rate: 0.34, num_beams: 1}'")
    args = parser.parse_args(argv)
    try:
        fields = [f.strip() for f in args.model_fields.split(",") if f.strip()] \
            if args.model_fields is not None else None
        settings = _parse_settings(args.settings) if args.settings is not None else None
        check_options(fields, settings, names=("--model-fields", "--settings"))
        print(f"shipped {args.run} -> {ship(args.run, args.dest, fields, settings)}")
    except SummarizerError as exc:
        print(f"summarizer ship: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _parse_settings(text: str) -> dict:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--settings is not YAML: {' '.join(str(exc).split())}") from None


if __name__ == "__main__":
    sys.exit(main())
