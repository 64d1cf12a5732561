"""Train the consistency checker: gemma-3-270m (the embedded base) + a LoRA adapter that answers one of three
words after a check prompt (summarizer.check.CheckFormat), on FactCC-style pairs (summarizer.finetune.check_data).

    python -m summarizer.finetune.checker --data ../shared/data/ant-multisource-v2.1.tar.gz --data \
        ../shared/data/saudinewsnet --out runs/checker --steps 1200 [--resume]

Checkpoints (adapter, optimizer, step, data position) every --save-every steps under OUT/checkpoints; --resume
continues from the newest. The loss is cross-entropy over the three answer words at the prompt's last position.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from ..check import VERDICTS, CheckFormat, answer_ids, decide, prompt_ids, torch_answer_logits
from .check_data import build_pairs


def load_articles(paths: list[str], split: str, seed: int, limit: int | None = None) -> list:
    from ..corpora import deduplicate, read_corpus, select_split

    articles = []
    for path in paths:
        articles += list(select_split(deduplicate(read_corpus(path)), split, seed=seed))
    random.Random(seed).shuffle(articles)
    return articles[:limit] if limit else articles


def make_pairs(paths, split, seed, count, fmt):
    articles = load_articles(paths, split, seed)
    pairs = []
    for pair in build_pairs(articles, seed=seed, fmt=fmt):
        pairs.append(pair)
        if len(pairs) >= count:
            break
    return pairs


def evaluate(model, tokenizer, fmt, pairs, answers, batch_size=16) -> dict:
    """Held-out accuracy by kind, and the rate of each verdict, at the format's threshold."""
    import torch

    model.eval()
    rows = []
    with torch.no_grad():
        for start in range(0, len(pairs), batch_size):
            chunk = pairs[start : start + batch_size]
            ids = [prompt_ids(tokenizer, fmt, p.evidence, p.claim, bos=tokenizer.bos_token_id) for p in chunk]
            probs = torch.softmax(torch_answer_logits(model, ids, answers, tokenizer.pad_token_id).float(), -1)
            for pair, p in zip(chunk, probs.tolist()):
                rows.append((pair, dict(zip(VERDICTS, p))))
    model.train()
    return rows


def choose_threshold(rows, max_flag_positive: float = 0.10) -> float:
    """The lowest threshold... the highest threshold that flags at most `max_flag_positive` of the supported pairs
    (human titles are the supported class: an editor's own title must rarely be flagged)."""
    positives = sorted(p["supported"] for pair, p in rows if pair.verdict == "supported")
    if not positives:
        return 0.5
    return positives[int(max_flag_positive * len(positives))]


def report(rows, threshold) -> dict:
    by_kind: dict[str, list[int]] = {}
    for pair, p in rows:
        flagged = decide(p, threshold) != "supported"
        correct = flagged == (pair.verdict != "supported")
        by_kind.setdefault(pair.kind, []).append(int(correct))
    return {kind: round(sum(v) / len(v), 3) for kind, v in sorted(by_kind.items())} | {"threshold": threshold}


def save_checker(model, tokenizer, fmt: CheckFormat, answers: list[int], directory: Path) -> None:
    """The adapter, its check format, and its output vocabulary (the answer words: CTranslate2 serves an output
    layer of those rows only)."""
    from ..vocab import save_output_vocab

    model.save_pretrained(directory)
    fmt.save(directory)
    save_output_vocab(directory, answers, len(tokenizer))


def main(argv=None) -> None:
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, get_scheduler

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", action="append", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--base", help="base model directory (default: the embedded gemma-3-270m)")
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--save-every", type=int, default=50)
    parser.add_argument("--eval-pairs", type=int, default=400)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--init", help="start from this checker checkpoint's adapter (fine-tuning)")
    parser.add_argument("--judged", action="append", default=[],
                        help="a judged set (DIR with labels.jsonl and articles.jsonl) whose right/wrong headlines "
                             "train the checker on real model errors; mixed with the synthetic pairs")
    parser.add_argument("--judged-epochs", type=int, default=2)
    args = parser.parse_args(argv)
    for path in [*args.data, *args.judged, *([args.init] if args.init else [])]:  # before any model loads: a wrong path costs a second, not a minute
        if not Path(path).exists():
            parser.error(f"--data {path}: no such file or directory")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    fmt = CheckFormat()
    from .check_data import judged_pairs

    real = [p for directory in args.judged for p in judged_pairs(directory, fmt)] * args.judged_epochs
    train = make_pairs(args.data, "train", args.seed, max(0, args.steps * args.batch_size - len(real)), fmt) + real
    random.Random(args.seed).shuffle(train)
    held = make_pairs(args.data, "dev", args.seed, args.eval_pairs, fmt)
    print(f"pairs: train {len(train)}, held-out {len(held)}; kinds "
          f"{json.dumps({k: sum(p.kind == k for p in train) for k in sorted({p.kind for p in train})})}", flush=True)

    if args.base is None:
        from ..default_model import ensure_base_model

        args.base = str(ensure_base_model())
    tokenizer = AutoTokenizer.from_pretrained(args.base)
    model = AutoModelForCausalLM.from_pretrained(args.base, dtype=torch.float32)
    answers = answer_ids(tokenizer, fmt)
    checkpoints = sorted((out / "checkpoints").glob("step-*"))
    start_step = 0
    if args.resume and checkpoints:
        model = PeftModel.from_pretrained(model, str(checkpoints[-1]), is_trainable=True)
        start_step = json.loads((checkpoints[-1] / "state.json").read_text())["step"]
    elif args.init:
        model = PeftModel.from_pretrained(model, args.init, is_trainable=True)
    else:
        model = get_peft_model(model, LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.05,
                                                 target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                                 "up_proj", "down_proj"],
                                                 # The upper half only: the backward pass stops there (a CPU step
                                                 # costs about half of training every layer).
                                                 layers_to_transform=list(range(model.config.num_hidden_layers // 2,
                                                                                model.config.num_hidden_layers))))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.0)
    scheduler = get_scheduler("linear", optimizer, num_warmup_steps=args.warmup, num_training_steps=args.steps)
    if start_step:
        state = torch.load(checkpoints[-1] / "optimizer.pt")
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        print(f"resumed at step {start_step}", flush=True)
    label = {v: i for i, v in enumerate(VERDICTS)}
    model.train()
    started, losses = time.perf_counter(), []
    for step in range(start_step, args.steps):
        chunk = train[step * args.batch_size : (step + 1) * args.batch_size]
        ids = [prompt_ids(tokenizer, fmt, p.evidence, p.claim, bos=tokenizer.bos_token_id) for p in chunk]
        logits = torch_answer_logits(model, ids, answers, tokenizer.pad_token_id)
        target = torch.tensor([label[p.verdict] for p in chunk])
        loss = torch.nn.functional.cross_entropy(logits.float(), target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        done = step + 1
        if done % 10 == 0:
            rate = (done - start_step) / (time.perf_counter() - started)
            print(f"step {done} loss {sum(losses[-10:]) / 10:.4f} ({rate * args.batch_size:.2f} pairs/s)", flush=True)
        if done % args.save_every == 0 or done == args.steps:
            target_dir = out / "checkpoints" / f"step-{done:06d}"
            save_checker(model, tokenizer, fmt, answers, target_dir)
            torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
                       target_dir / "optimizer.pt")
            (target_dir / "state.json").write_text(json.dumps({"step": done}))
            print(f"saved {target_dir}", flush=True)
    rows = evaluate(model, tokenizer, fmt, held, answers)
    fmt.threshold = round(choose_threshold(rows), 4)
    final = out / "checkpoints" / f"step-{args.steps:06d}"
    fmt.save(final)
    print("held-out (synthetic, dev split):", json.dumps(report(rows, fmt.threshold)), flush=True)


if __name__ == "__main__":
    main()
