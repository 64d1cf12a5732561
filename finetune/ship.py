"""Copy a run's best adapter into the package as the embedded default.

    python -m finetune.ship runs/gemma3-270m-news [--model-fields headline] [--settings '{guard_novel_rate: 0.34}']
        [--dest summarizer/adapters/gemma3-270m-news]
    python -m finetune.ship runs/gemma3-270m-news/checkpoints/step-000250 --dest runs/eval/step-250   # to evaluate

The model card (README.md in the destination) is written by hand from measured numbers and kept.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from summarizer.default_model import ADAPTER_DIR

FILES = ("adapter_model.safetensors", "adapter_config.json", "summarizer_task.json", "config.yaml")
OPTIONAL = ("scores.json",)  # the run's in-training dev scores: in `best`, not in every checkpoint
MAX_BYTES = 20 * 1024 * 1024


def ship(run: Path, dest: Path = ADAPTER_DIR, model_fields: list[str] | None = None,
         settings: dict | None = None) -> Path:
    """Copy `run/best` (or `run` itself when it is an adapter directory, e.g. `run/checkpoints/step-000250`) into
    the package. `model_fields`, chosen by measuring on dev against the extractive engine, is written into the task
    format the engine reads."""
    best = run / "best" if (run / "best").is_dir() else run
    missing = [name for name in FILES if not (best / name).is_file()]
    if missing:
        raise SystemExit(f"ship: {best} lacks {', '.join(missing)}")
    size = (best / "adapter_model.safetensors").stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"ship: adapter is {size / 2**20:.1f} MB, over the 20 MB the package allows")
    dest.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copy2(best / name, dest / name)
    for name in OPTIONAL:
        if (best / name).is_file():
            shutil.copy2(best / name, dest / name)
        else:
            (dest / name).unlink(missing_ok=True)  # never leave another run's scores beside this adapter
    from summarizer.vocab import OUTPUT_VOCAB_FILE

    if (best / OUTPUT_VOCAB_FILE).is_file():
        shutil.copy2(best / OUTPUT_VOCAB_FILE, dest / OUTPUT_VOCAB_FILE)
    else:  # trained before the ids were saved with the adapter: recompute them from its config
        from finetune.config import load_config

        if load_config(dest / "config.yaml", []).train.restricted_vocab:
            from finetune.train import rebuild_output_vocab

            rebuild_output_vocab(dest)
    config = json.loads((dest / "adapter_config.json").read_text())
    # The base is resolved at run time (the converted GGUF in the user's cache), not from this machine's path.
    config["base_model_name_or_path"] = "gemma-3-270m (summarizer embedded default)"
    (dest / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n")
    if model_fields or settings is not None:
        from summarizer.generation import GenerationSettings, TaskFormat
        from summarizer.settings import build

        task_format = TaskFormat.load(dest)
        if model_fields:
            task_format.model_fields = list(model_fields)
        if settings is not None:
            build(GenerationSettings, settings)  # every bad name or value named now, not at a user's first call
            task_format.generation = dict(settings)
        task_format.save(dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--dest", type=Path, default=ADAPTER_DIR)
    parser.add_argument("--model-fields", help="fields the model should write by default, comma-separated "
                        "(headline, summary), as measured on dev; default: both")
    parser.add_argument("--settings", help="generation settings chosen on dev, saved with the adapter and used "
                        "wherever a call sets none, as a YAML mapping: '{guard_novel_rate: 0.34, num_beams: 1}'")
    args = parser.parse_args(argv)
    fields = [f.strip() for f in args.model_fields.split(",")] if args.model_fields else None
    settings = None
    if args.settings is not None:
        import yaml

        try:
            settings = yaml.safe_load(args.settings)
        except yaml.YAMLError as exc:
            raise SystemExit(f"ship: --settings is not YAML: {exc}") from None
    try:
        print(f"shipped {args.run} -> {ship(args.run, args.dest, fields, settings)}")
    except ValueError as exc:  # ConfigError: every bad setting in one line
        raise SystemExit(f"ship: --settings: {exc}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
