"""Fine-tune a summarization/headline model (LoRA or full; causal or seq2seq) with a short accelerate loop.

    summarizer train --config configs/gemma3-270m-lora.yaml [--resume] [--train.steps 500 ...]
    accelerate launch --num_processes 8 -m summarizer.finetune.train --config configs/gemma3-270m-news-8gpu.yaml
    accelerate launch --multi_gpu --num_processes 2 -m summarizer.finetune.train ...   # 2 CPU processes (gloo)
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

from ..errors import SummarizerError
from ..generation import TaskFormat
from .config import Config, help_text, load_config, save_config
from .data import build_data, collate_causal, collate_seq2seq, restricted_ids


def main(argv: list[str] | None = None) -> int:
    args, overrides = parse_args(argv)
    try:
        config = load_config(args.config, overrides, check_paths=True)  # every problem before a model loads
        run = Path(config.train.output_dir)
        if args.resume:
            latest_checkpoint(run)
        accelerator = make_accelerator(config)
        model, tokenizer, task_format = build_model(config)
        train_set, dev_articles = build_data(config, tokenizer, task_format, accelerator)
        vocab = restricted_vocab(train_set, tokenizer, model) if config.train.restricted_vocab and \
            task_format.kind == "causal" else None
        loader = make_loader(train_set, config, tokenizer, task_format, accelerator)
        optimizer, scheduler = make_optimizer(model, config)
        model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
        state = load_checkpoint(run, model, optimizer, scheduler, accelerator) if args.resume else new_state(run, config)
        train_loop(config, run, state, model, tokenizer, task_format, loader, optimizer, scheduler, accelerator,
                   dev_articles, vocab)
    except SummarizerError as exc:
        print(f"summarizer train: error: {exc}", file=sys.stderr)
        return 2
    return 0


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="summarizer train", description=__doc__, epilog=help_text(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="YAML file with the differences from the defaults")
    parser.add_argument("--resume", action="store_true", help="continue from the run's latest checkpoint")
    return parser.parse_known_args(argv)


# --- setup -----------------------------------------------------------------------------------------------------
def make_accelerator(config: Config):
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    # cpu=True without CUDA: several processes (torchrun, or accelerate's multi-process launcher) then train
    # together over gloo instead of each believing it is alone.
    gpu = torch.cuda.is_available()
    accelerator = Accelerator(gradient_accumulation_steps=config.train.grad_accum, cpu=not gpu,
                              mixed_precision="bf16" if gpu else "no")
    set_seed(config.train.seed)
    return accelerator


def build_model(config: Config):
    """The base model through the hf backend's loader (fp32 on the CPU; accelerate places and casts it), with a
    LoRA adapter when asked; the task format is the config's, of the model's kind (saved with the config)."""
    from ..backends.hf import load_model
    from ..default_model import resolve_model

    loaded = load_model(resolve_model(config.model.name), device="cpu")
    model, tokenizer = loaded.model, loaded.tokenizer
    config.task = task_format = replace(config.task, kind="seq2seq" if loaded.is_seq2seq else "causal")
    if config.model.lora:
        from peft import LoraConfig, TaskType, get_peft_model

        targets = "all-linear" if config.model.lora_targets == ["all-linear"] else config.model.lora_targets
        layers = None
        if config.model.lora_layers:
            total = model.config.get_text_config().num_hidden_layers
            layers = list(range(max(0, total - config.model.lora_layers), total))
            if targets == "all-linear":  # peft takes a layer range only with module names
                targets = _linear_module_names(model)
        lora = LoraConfig(task_type=TaskType.SEQ_2_SEQ_LM if loaded.is_seq2seq else TaskType.CAUSAL_LM,
                          r=config.model.lora_r, lora_alpha=config.model.lora_alpha,
                          lora_dropout=config.model.lora_dropout, layers_to_transform=layers,
                          target_modules=targets)
        model = get_peft_model(model, lora)
    return model, tokenizer, task_format


def _linear_module_names(model) -> list[str]:
    """Names of the linear layers inside the transformer blocks (what peft's 'all-linear' adapts)."""
    import torch

    output = model.get_output_embeddings()
    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, torch.nn.Linear) and module is not output and ".layers." in name})


def restricted_vocab(encoded: list[dict], tokenizer, model):
    """The softmax runs over `restricted_ids` only."""
    from ..vocab import RestrictedVocab

    size = model.get_output_embeddings().weight.shape[0]
    vocab = RestrictedVocab.from_ids(restricted_ids(encoded, tokenizer), size)
    print(f"vocab: training softmax over {len(vocab)} of {size} tokens (those the corpora use + single characters)")
    return vocab


def make_loader(encoded: list[dict], config: Config, tokenizer, task_format: TaskFormat, accelerator):
    """A fixed, seeded order over as many epochs as the run needs, so a resumed run sees the same batches."""
    from torch.utils.data import DataLoader

    needed = config.train.steps * config.train.grad_accum * config.train.batch_size * accelerator.num_processes
    order: list[int] = []
    epoch = 0
    while len(order) < needed:
        perm = list(range(len(encoded)))
        random.Random(config.train.seed * 1000 + epoch).shuffle(perm)
        order.extend(perm)
        epoch += 1
    data = [encoded[i] for i in order[:needed]]
    collate = collate_seq2seq if task_format.kind == "seq2seq" else collate_causal
    return DataLoader(data, batch_size=config.train.batch_size, shuffle=False,
                      collate_fn=lambda batch: collate(batch, tokenizer.pad_token_id))


def make_optimizer(model, config: Config):
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.train.lr, weight_decay=config.train.weight_decay)
    warmup, total, kind = config.train.warmup_steps, config.train.steps, config.train.schedule

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        if kind == "cosine":
            return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
        if kind == "linear":
            return max(0.0, 1 - progress)
        return 1.0

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


# --- loss ------------------------------------------------------------------------------------------------------
def compute_loss(model, batch, seq2seq: bool, vocab=None):
    """Seq2seq: the model's own loss. Causal: logits only at target positions.

    The 262k-token output layer dominates a small causal model's cost; batches are left-padded so targets sit at
    the right edge, and `logits_to_keep` asks for the last K+1 positions only. With `vocab` (a RestrictedVocab),
    the softmax runs over the tokens the targets use only: hidden states times those rows of the output layer.
    """
    import torch.nn.functional as F

    if seq2seq:
        return model(**batch).loss
    labels = batch["labels"]
    keep = int((labels != -100).sum(dim=1).max())
    position_ids = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], position_ids=position_ids,
                logits_to_keep=1 if vocab is not None else keep + 1, output_hidden_states=vocab is not None)
    targets = labels[:, -keep:]
    if vocab is not None:
        logits = vocab.logits(model, out.hidden_states[-1][:, -(keep + 1) : -1])
        targets = vocab.remap(targets)
    else:
        logits = out.logits[:, -(keep + 1) : -1]
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)


# --- loop ------------------------------------------------------------------------------------------------------
def new_state(run: Path, config: Config) -> dict:
    run.mkdir(parents=True, exist_ok=True)
    save_config(config, run / "config.yaml")
    (run / "metrics.jsonl").unlink(missing_ok=True)
    return {"step": 0, "best_score": None, "best_step": None}


def train_loop(config, run, state, model, tokenizer, task_format, loader, optimizer, scheduler, accelerator,
               dev_articles, vocab=None):
    from tqdm.auto import tqdm

    seq2seq = task_format.kind == "seq2seq"
    train = config.train
    if state["step"]:
        loader = accelerator.skip_first_batches(loader, state["step"] * train.grad_accum)
    batches = iter(loader)
    if "rng" in state:
        # Starting a DataLoader iterator draws from the global RNG (the uninterrupted run did so at step 0), and
        # accelerate starts it lazily: fetch the first batch, then restore, so dropout masks match exactly.
        first = next(batches, None)
        _set_rng_state(state.pop("rng"))
        batches = itertools.chain([first] if first is not None else [], batches)
    bar = tqdm(total=train.steps, initial=state["step"], desc="train", disable=not accelerator.is_main_process)
    model.train()
    window, started = [], time.time()
    for batch in batches:
        with accelerator.accumulate(model):
            loss = compute_loss(model, batch, seq2seq, vocab)
            accelerator.backward(loss)
            if accelerator.sync_gradients:
                accelerator.clip_grad_norm_(model.parameters(), train.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        window.append(accelerator.gather_for_metrics(loss.detach()).mean().item())
        if not accelerator.sync_gradients:
            continue
        state["step"] += 1
        step = state["step"]
        bar.update(1)
        bar.set_postfix(loss=f"{window[-1]:.3f}")
        if step % train.log_every == 0 or step == train.steps:
            log_metrics(run, accelerator, {"step": step, "loss": sum(window) / len(window),
                                           "lr": scheduler.get_last_lr()[0], "seconds": time.time() - started})
            window = []
        if (train.eval_every and step % train.eval_every == 0) or step == train.steps:
            scores = evaluate_dev(model, tokenizer, task_format, dev_articles, config, accelerator)
            log_metrics(run, accelerator, {"step": step, **scores})
            if state["best_score"] is None or scores["score"] > state["best_score"]:
                state.update(best_score=scores["score"], best_step=step)
                save_model(run / "best", model, task_format, config, accelerator, extra={"step": step, **scores},
                           vocab=vocab)
            model.train()
        if (train.save_every and step % train.save_every == 0) or step == train.steps:
            save_checkpoint(run, state, model, optimizer, scheduler, task_format, config, accelerator, vocab)
        if step >= train.steps:
            break
    bar.close()


def log_metrics(run: Path, accelerator, record: dict) -> None:
    if accelerator.is_main_process:
        with open(run / "metrics.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        accelerator.print(json.dumps(record))


def evaluate_dev(model, tokenizer, task_format, dev_articles, config, accelerator) -> dict:
    """Dev ROUGE exactly as `summarizer evaluate` computes it: the same protocols (lead, headline), filters,
    engine code and scorer, on the model being trained. Each process scores its share; results are gathered."""
    from ..backends.hf import HFBackend, LoadedModel
    from ..engines import ModelEngine
    from ..evaluation import prepare, run_engine
    from ..rouge import score_pairs

    if not dev_articles:
        return {"score": 0.0}
    model.eval()
    if task_format.kind == "causal":
        tokenizer.padding_side = "left"
    engine = ModelEngine(HFBackend(LoadedModel(model=accelerator.unwrap_model(model), tokenizer=tokenizer,
                                               task_format=task_format, name="training",
                                               device=str(accelerator.device))))
    scores, examples = {}, {}
    for protocol, keys in (("lead", ("rouge1", "rouge2", "rougeL")), ("headline", ("rougeL",))):
        prepared = prepare(dev_articles, protocol)
        share = slice(accelerator.process_index, None, accelerator.num_processes)
        prepared.inputs, prepared.references = prepared.inputs[share], prepared.references[share]
        predictions, _ = run_engine(engine, prepared, protocol, config.generation, progress=False)
        items = score_pairs(predictions, prepared.references)
        gathered = _gather_objects(accelerator, items)
        name = "summary" if protocol == "lead" else "headline"
        for k in keys:
            scores[f"{name}_{k}"] = sum(it[k] for it in gathered) / max(1, len(gathered))
        examples[name] = predictions[0] if predictions else ""
    scores["score"] = (scores["summary_rougeL"] + scores["headline_rougeL"]) / 2
    scores["example_summary"], scores["example_headline"] = examples["summary"], examples["headline"]
    return scores


def _gather_objects(accelerator, items: list) -> list:
    if accelerator.num_processes == 1:
        return items
    from accelerate.utils import gather_object

    return gather_object(items)


def save_model(directory: Path, model, task_format, config, accelerator, extra: dict | None = None,
               vocab=None) -> None:
    """The adapter (or full model) with its task format and resolved config: a directory the engine loads. With a
    restricted vocabulary, its ids too: serving then uses the same output tokens (summarizer.vocab)."""
    accelerator.wait_for_everyone()
    if not accelerator.is_main_process:
        return
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    accelerator.unwrap_model(model).save_pretrained(tmp)
    task_format.save(tmp)
    save_config(config, tmp / "config.yaml")
    if vocab is not None:
        from ..vocab import save_output_vocab

        save_output_vocab(tmp, vocab.ids.tolist(), vocab.full_size)
    if extra:
        (tmp / "scores.json").write_text(json.dumps(extra, ensure_ascii=False, indent=2), encoding="utf-8")
    shutil.rmtree(directory, ignore_errors=True)
    tmp.rename(directory)


def _rng_state() -> dict:
    import numpy as np
    import torch

    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(run, state, model, optimizer, scheduler, task_format, config, accelerator, vocab=None) -> None:
    """Weights, optimizer, scheduler and loop state from the main process; each process's RNG state (dropout masks
    differ per process) from that process, so a resumed multi-process run continues identically."""
    import torch

    directory = run / "checkpoints" / f"step-{state['step']:06d}"
    save_model(directory, model, task_format, config, accelerator, vocab=vocab)
    accelerator.wait_for_everyone()
    torch.save(_rng_state(), directory / f"rng-{accelerator.process_index}.pt")
    if accelerator.is_main_process:
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "state": state},
                   directory / "trainer_state.pt")
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:  # the pointer moves only once every process has written its part
        (run / "checkpoints" / "latest").write_text(directory.name, encoding="utf-8")


def latest_checkpoint(run: Path) -> Path:
    """The checkpoint `--resume` continues from; checked before the model is loaded."""
    pointer = run / "checkpoints" / "latest"
    directory = run / "checkpoints" / (pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else "")
    if not pointer.is_file() or not (directory / "trainer_state.pt").is_file():
        raise SummarizerError(f"--resume: no checkpoint in {run / 'checkpoints'}")
    return directory


def load_checkpoint(run, model, optimizer, scheduler, accelerator) -> dict:
    import torch

    directory = latest_checkpoint(run)
    unwrapped = accelerator.unwrap_model(model)
    if hasattr(unwrapped, "peft_config"):
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        set_peft_model_state_dict(unwrapped, load_file(directory / "adapter_model.safetensors"))
    else:  # full fine-tune: the checkpoint holds the whole model, saved by save_pretrained
        reloaded = type(unwrapped).from_pretrained(directory)
        unwrapped.load_state_dict(reloaded.state_dict())
    saved = torch.load(directory / "trainer_state.pt", weights_only=False)
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    own = directory / f"rng-{accelerator.process_index}.pt"
    rng = torch.load(own, weights_only=False) if own.is_file() else saved["rng"]  # older checkpoints: one state
    accelerator.print(f"resumed from {directory} at step {saved['state']['step']}")
    return {**saved["state"], "rng": rng}  # the loop restores the RNG once its data iterator exists


if __name__ == "__main__":
    sys.exit(main())
