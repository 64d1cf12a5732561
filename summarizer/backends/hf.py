"""The `hf` backend: Hugging Face checkpoints (seq2seq or causal, optional LoRA adapter) run by transformers.

Training uses the same loading and generation code (summarizer.finetune.train wraps the model being trained in
HFBackend).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelLoadError
from ..generation import GenerationSettings, TaskFormat, common_token_ids, source_token_ids
from . import Candidate, piece_ids


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


class HFBackend:
    """transformers generate() over a LoadedModel; source-aware decoding through a logits processor."""

    name = "hf"
    concurrent = False  # one torch model: a second thread would only queue behind the first
    variants: dict[str, dict] = {}

    def __init__(self, loaded: LoadedModel):
        self.loaded = loaded
        self.task_format = loaded.task_format
        self.is_seq2seq = loaded.is_seq2seq
        self.label = loaded.name

    @classmethod
    def load(cls, model: str, *, adapter=None, device: str = "auto", threads: int | None = None) -> "HFBackend":
        return cls(load_model(model, adapter=adapter, device=device, threads=threads))

    def count_tokens(self, text: str, *, special: bool = False) -> int:
        return len(self.loaded.tokenizer(text, add_special_tokens=special).input_ids)

    def position_limit(self, max_new_tokens: int) -> int:
        return position_limit(self.loaded, max_new_tokens)

    def generate(self, prompts: list[str], *, task: str, max_new_tokens: int, settings: GenerationSettings,
                 sources: list[str]) -> list[list[Candidate]]:
        import torch

        loaded, tokenizer = self.loaded, self.loaded.tokenizer
        stop_ids = self.task_format.stop_token_ids(tokenizer, task)
        enc = tokenizer(prompts, return_tensors="pt", padding=True).to(loaded.device)
        keep = min(settings.num_candidates, settings.num_beams)
        processors = []
        penalties = dict(no_repeat_ngram_size=settings.no_repeat_ngram_size or None,
                         repetition_penalty=settings.repetition_penalty)
        if not self.is_seq2seq:
            # transformers counts a causal model's prompt among "previous tokens": the article's words would be
            # penalized and its three-word phrases banned, so the model misspells names to avoid copying them
            # ("ريال مدرانيا"). Penalize what the model writes only, as CTranslate2 does.
            processors += generated_only(penalties, enc["input_ids"].shape[1])
            penalties = {}
        if settings.source_boost or settings.strict_source:
            processors.append(SourceBias(tokenizer, sources, settings, stop_ids, loaded.model.config.get_text_config()
                                         .vocab_size, settings.num_beams))
        with torch.inference_mode():
            out = loaded.model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                num_beams=settings.num_beams,
                num_return_sequences=keep,
                length_penalty=settings.length_penalty,
                **penalties,
                do_sample=False,
                eos_token_id=stop_ids,
                pad_token_id=tokenizer.pad_token_id,
                logits_processor=processors or None,
                return_dict_in_generate=True,
                output_scores=settings.num_beams > 1,
            )
        sequences = out.sequences if self.is_seq2seq else out.sequences[:, enc["input_ids"].shape[1] :]
        scores = getattr(out, "sequences_scores", None)
        results: list[list[Candidate]] = []
        for row in range(len(prompts)):
            candidates = []
            for k in range(keep):
                index = row * keep + k
                ids = sequences[index].tolist()
                candidates.append(Candidate(text=tokenizer.decode(ids, skip_special_tokens=True),
                                            finished=any(t in stop_ids for t in ids),
                                            score=float(scores[index]) if scores is not None else 0.0))
            results.append(candidates)
        return results


    def end_scores(self, prompts: list[str], answers: list[list[str]], *, task: str) -> list[list[float]]:
        """See summarizer.cut.EndScoring: one forward pass per prompt, the answer's words fed as the model's own
        answer (a causal model's after its prompt, a seq2seq model's as decoder input)."""
        import torch

        loaded, tokenizer = self.loaded, self.loaded.tokenizer
        stops = self.task_format.stop_token_ids(tokenizer, task)
        out = []
        with torch.inference_mode():
            for prompt, pieces in zip(prompts, answers):
                prompt_ids = tokenizer(prompt, add_special_tokens=True).input_ids
                answer, ends = piece_ids(tokenizer, pieces)
                if not pieces:
                    out.append([])
                    continue
                if self.is_seq2seq:
                    start = loaded.model.config.decoder_start_token_id
                    logits = loaded.model(input_ids=torch.tensor([prompt_ids], device=loaded.device),
                                          decoder_input_ids=torch.tensor([[start] + answer], device=loaded.device)
                                          ).logits[0]
                    positions = [e + 1 for e in ends]  # after the start token, position e + 1 follows answer[e]
                else:
                    logits = loaded.model(input_ids=torch.tensor([prompt_ids + answer], device=loaded.device)).logits[0]
                    positions = [len(prompt_ids) + e for e in ends]
                logp = torch.log_softmax(logits[positions].float(), dim=-1)
                out.append(torch.logsumexp(logp[:, stops], dim=-1).tolist())
        return out


class _GeneratedTokensOnly:
    """A logits processor that sees only the tokens generated so far (the prompt, `prompt_length` tokens of every
    row, cut off)."""

    def __init__(self, inner, prompt_length: int):
        self.inner, self.prompt_length = inner, prompt_length

    def __call__(self, input_ids, scores):
        return self.inner(input_ids[:, self.prompt_length :], scores)


def generated_only(penalties: dict, prompt_length: int) -> list:
    from transformers import NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor

    out = []
    if penalties.get("repetition_penalty") not in (None, 1.0):
        out.append(RepetitionPenaltyLogitsProcessor(float(penalties["repetition_penalty"]),
                                                    prompt_ignore_length=prompt_length))
    if penalties.get("no_repeat_ngram_size"):
        out.append(_GeneratedTokensOnly(NoRepeatNGramLogitsProcessor(penalties["no_repeat_ngram_size"]),
                                        prompt_length))
    return out


class SourceBias:
    """Add `source_boost` to the logits of tokens found in each row's article; with `strict_source`, forbid every
    token outside the article, the function-word list and the stop tokens."""

    def __init__(self, tokenizer, sources: list[str], settings: GenerationSettings, stop_ids: list[int],
                 vocab_size: int, num_beams: int):
        import torch

        common = common_token_ids(tokenizer, stop_ids)
        rows = []
        for source in sources:
            ids = torch.tensor(sorted(source_token_ids(tokenizer, source)), dtype=torch.long)
            row = torch.full((vocab_size,), float("-inf") if settings.strict_source else 0.0)
            if settings.strict_source:
                row[torch.tensor(sorted(common), dtype=torch.long)] = 0.0
                row[ids] = 0.0
            row[ids] += settings.source_boost
            rows.append(row)
        self.bias = torch.stack(rows).repeat_interleave(num_beams, dim=0)

    def __call__(self, input_ids, scores):
        return scores + self.bias.to(scores.device)


def position_limit(loaded: LoadedModel, max_new_tokens: int) -> int:
    """Most input tokens the model can take: BART-family models crash past their 1024 learned positions, and a
    causal model's prompt shares its positions with the tokens it generates. T5's relative positions have no cap."""
    config = loaded.model.config
    limit = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    if not limit or getattr(config, "model_type", "") in ("t5", "mt5", "umt5"):
        return 1 << 30
    return limit - (0 if loaded.is_seq2seq else max_new_tokens) - 2


