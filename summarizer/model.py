"""Loading Hugging Face checkpoints (seq2seq or causal, optional LoRA adapter) and generating with them."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelLoadError
from .generation import GenerationSettings, TaskFormat, clean_output, fit_to_budget


@dataclass
class LoadedModel:
    model: object
    tokenizer: object
    task_format: TaskFormat
    name: str
    device: str

    @property
    def is_seq2seq(self) -> bool:
        return self.task_format.kind == "seq2seq"


def pick_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def pick_dtype(device: str):
    """bf16 on GPU (T5 overflows in fp16), fp32 on CPU (bf16 matmuls are slow on most CPUs)."""
    import torch

    return torch.bfloat16 if device.startswith("cuda") else torch.float32


def _describe_failure(name: str, exc: Exception) -> str:
    local = Path(name).exists()
    hint = "" if local else " (not a local directory; loading by hub id needs network access to the Hugging Face hub)"
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"cannot load model {name!r}{hint}: {first_line}"


def load_model(name_or_path: str | os.PathLike, *, adapter: str | os.PathLike | None = None, device: str = "auto",
               threads: int | None = None) -> LoadedModel:
    """Load a seq2seq or causal checkpoint by hub id or local directory, with an optional peft adapter.

    The task format is read from the adapter directory, then the model directory, else the default for its kind.
    """
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    name = str(name_or_path)
    if threads:
        torch.set_num_threads(threads)
    device = pick_device(device)
    try:
        config = AutoConfig.from_pretrained(name)
        seq2seq = bool(getattr(config, "is_encoder_decoder", False))
        model_class = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
        model = model_class.from_pretrained(name, dtype=pick_dtype(device))
        tokenizer = AutoTokenizer.from_pretrained(name)
    except Exception as exc:  # transformers raises OSError, ValueError, KeyError... depending on what is missing
        raise ModelLoadError(_describe_failure(name, exc)) from exc

    task_format = None
    if adapter is not None:
        task_format = TaskFormat.load(adapter)
        model = _attach_adapter(model, str(adapter))
    task_format = task_format or TaskFormat.load(name) or TaskFormat(kind="seq2seq" if seq2seq else "causal")
    if not seq2seq:
        tokenizer.padding_side = "left"  # generation continues from the right edge of each prompt
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.to(device).eval()
    label = name if adapter is None else f"{name}+{Path(str(adapter)).name}"
    return LoadedModel(model=model, tokenizer=tokenizer, task_format=task_format, name=label, device=device)


def _attach_adapter(model, adapter: str):
    from peft import PeftModel

    if not (Path(adapter) / "adapter_config.json").is_file():
        raise ModelLoadError(f"cannot load adapter {adapter!r}: no adapter_config.json in that directory")
    try:
        # Merged weights generate as fast as the base model; the adapter is not trained further here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # a transformers deprecation inside peft, not ours
            return PeftModel.from_pretrained(model, adapter).merge_and_unload()
    except Exception as exc:
        raise ModelLoadError(f"cannot load adapter {adapter!r}: {exc}") from exc


def generate(loaded: LoadedModel, paragraph_lists: list[list[str]], *, task: str,
             settings: GenerationSettings) -> list[tuple[str, bool]]:
    """Generate one output per article (given as its paragraphs), in input order.

    Returns (text, truncated) pairs: truncated is True when the article was cut to fit `max_input_tokens`.
    Inputs are sorted by length into batches so that padding is small.
    """
    import torch

    tokenizer, fmt = loaded.tokenizer, loaded.task_format
    overhead = len(tokenizer(fmt.overhead(task), add_special_tokens=True).input_ids)
    max_new = settings.max_new_tokens if task == "summary" else settings.headline_max_new_tokens
    budget = max(16, min(settings.max_input_tokens, position_limit(loaded, max_new)) - overhead)

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False).input_ids)

    fitted = [fit_to_budget(paragraphs, count, budget) for paragraphs in paragraph_lists]
    prompts = [fmt.render(task, text) for text, _ in fitted]
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    stop_ids = _stop_token_ids(tokenizer, task, loaded.is_seq2seq)
    outputs: list[str] = [""] * len(prompts)
    for start in range(0, len(order), settings.batch_size):
        batch = order[start : start + settings.batch_size]
        enc = tokenizer([prompts[i] for i in batch], return_tensors="pt", padding=True, truncation=True,
                        max_length=budget + overhead).to(loaded.device)
        with torch.inference_mode():
            generated = loaded.model.generate(
                **enc,
                max_new_tokens=max_new,
                num_beams=settings.num_beams,
                length_penalty=settings.length_penalty,
                no_repeat_ngram_size=settings.no_repeat_ngram_size or None,
                repetition_penalty=settings.repetition_penalty,
                do_sample=False,
                eos_token_id=stop_ids,
                pad_token_id=tokenizer.pad_token_id,
            )
        new_tokens = generated if loaded.is_seq2seq else generated[:, enc["input_ids"].shape[1] :]
        for row, i in enumerate(batch):
            ids = new_tokens[row].tolist()
            finished = any(t in stop_ids for t in ids)
            text = tokenizer.decode(ids, skip_special_tokens=True)
            outputs[i] = clean_output(text, task=task, finished=finished)
    return [(outputs[i], fitted[i][1]) for i in range(len(prompts))]


def position_limit(loaded: LoadedModel, max_new_tokens: int) -> int:
    """Most input tokens the model can take: BART-family models crash past their 1024 learned positions, and a
    causal model's prompt shares its positions with the tokens it generates. T5's relative positions have no cap."""
    config = loaded.model.config
    limit = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    if not limit or getattr(config, "model_type", "") in ("t5", "mt5", "umt5"):
        return 1 << 30
    return limit - (0 if loaded.is_seq2seq else max_new_tokens) - 2


def _stop_token_ids(tokenizer, task: str, seq2seq: bool) -> list[int]:
    ids = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    extra = getattr(tokenizer, "convert_tokens_to_ids", None)
    if extra is not None:
        for token in ("<end_of_turn>",):
            tid = tokenizer.convert_tokens_to_ids(token)
            if isinstance(tid, int) and tid != tokenizer.unk_token_id and tid not in ids:
                ids.append(tid)
    if not seq2seq and task == "headline":
        # A headline is one line: stop a causal model at the newline.
        newline = tokenizer("\n", add_special_tokens=False).input_ids
        if len(newline) == 1 and newline[0] not in ids:
            ids.append(newline[0])
    return ids
