"""Fine-tuning across processes with accelerate: two CPU processes (gloo) train a tiny model, only the main
process writes, and a resumed run continues identically."""

import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.test_finetune import losses, overrides, tiny_corpus  # noqa: F401 - the corpus fixture


def launch(*args: str) -> subprocess.CompletedProcess:
    # accelerate's multi-process launcher (named for GPUs); without CUDA the processes train over gloo on CPU.
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "-m", "summarizer.finetune.train", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_two_processes_train_save_once_and_resume_identically(tiny_causal, tiny_corpus, tmp_path):  # noqa: F811
    run = tmp_path / "run"
    args = ["--config", str(ROOT / "configs/gemma3-270m-lora.yaml"),
            *overrides(tiny_causal, tiny_corpus, run, "--train.steps", "6", "--train.save_every", "3",
                       "--train.eval_every", "3", "--train.lr", "5e-3", "--model.lora_r", "4",
                       "--train.batch_size", "2", "--generation.guard", "false")]
    proc = launch(*args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines if "loss" in r] == [1, 2, 3, 4, 5, 6]  # one writer: no line twice
    assert [r["step"] for r in lines if "score" in r] == [3, 6]
    for step in ("step-000003", "step-000006"):
        files = {p.name for p in (run / "checkpoints" / step).iterdir()}
        assert {"adapter_model.safetensors", "trainer_state.pt", "rng-0.pt", "rng-1.pt"} <= files
    full = losses(run)
    shutil.rmtree(run / "checkpoints" / "step-000006")
    (run / "checkpoints" / "latest").write_text("step-000003")
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines if r["step"] <= 3))
    proc = launch(*args, "--resume")
    assert proc.returncode == 0, proc.stderr[-3000:]
    resumed = losses(run)
    for step in range(4, 7):
        assert resumed[step] == pytest.approx(full[step], rel=1e-5), step
