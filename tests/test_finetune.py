import json
import shutil
from pathlib import Path

import pytest

from summarizer.finetune.config import Config, help_text, load_config, save_config
from summarizer.finetune.train import main as train_main
from summarizer.clean import clean_page
from summarizer.errors import ConfigError
from summarizer.settings import parse_overrides
from summarizer.backends.hf import load_model
from tests.conftest import ROOT, SEEDS

CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory) -> Path:
    """Seed articles as JSON Lines, repeated under new ids so there is a train and a dev split."""
    path = tmp_path_factory.mktemp("corpus") / "news.jsonl"
    articles = [a for p in sorted(SEEDS.glob("*.txt")) for a in clean_page(p.read_text("utf-8")).articles]
    with path.open("w", encoding="utf-8") as handle:
        for copy in range(4):
            for k, a in enumerate(articles):
                handle.write(json.dumps({"id": f"{copy}-{k}", "title": a.title or "عنوان الخبر المحلي اليوم",
                                         "paragraphs": a.paragraphs}, ensure_ascii=False) + "\n")
    return path


def overrides(model: Path, corpus: Path, out: Path, *extra: str) -> list[str]:
    return ["--model.name", str(model), "--data.paths", f"[{corpus}]", "--data.dev_fraction", "0.25",
            "--data.dev_articles", "3", "--task.input_tokens", "48", "--data.max_target_tokens", "16",
            "--train.output_dir", str(out), "--train.batch_size", "4", "--train.log_every", "1",
            "--train.warmup_steps", "1", "--generation.max_new_tokens", "6", "--generation.headline_max_new_tokens",
            "4", "--generation.max_input_tokens", "64", *extra]


def losses(run: Path) -> dict[int, float]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows if "loss" in r}


def test_every_config_file_loads():
    assert {p.stem for p in CONFIGS} >= {"gemma3-270m-lora", "arat5v2-base", "mt5-xlsum"}
    for path in CONFIGS:
        assert isinstance(load_config(path), Config)


def test_validation_lists_every_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: {lr: fast, steps: 0, colour: red}\nmodel: {lora_r: 2.5}\nextra: 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    message = str(info.value)
    for problem in ("train.lr must be float", "unknown key 'train.colour'", "model.lora_r must be int",
                    "unknown key 'extra'", "steps must be >= 1"):
        assert problem in message, problem


def test_overrides_and_help():
    assert parse_overrides(["--train.lr", "3e-4", "--model.lora=false"]) == {"train": {"lr": 3e-4}, "model": {"lora": False}}
    config = load_config(None, ["--train.lr", "1e-3", "--generation.num_beams", "2"])
    assert config.train.lr == 1e-3 and config.generation.num_beams == 2
    with pytest.raises(ConfigError, match="needs a value"):
        parse_overrides(["--train.lr"])
    assert "--train.lr (default 0.0002): Peak learning rate." in help_text()


def test_causal_lora_overfits_checkpoints_and_resumes_exactly(tiny_causal, tiny_corpus, tmp_path):
    run = tmp_path / "run"
    args = overrides(tiny_causal, tiny_corpus, run, "--train.steps", "8", "--train.save_every", "4",
                     "--train.eval_every", "4", "--train.lr", "5e-3", "--model.lora_r", "4")
    assert train_main(["--config", str(ROOT / "configs/gemma3-270m-lora.yaml"), *args]) == 0
    full = losses(run)
    assert full[8] < full[1]  # it learns
    assert (run / "config.yaml").is_file() and (run / "best" / "adapter_config.json").is_file()
    assert (run / "best" / "summarizer_task.json").is_file()
    scores = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if "score" in line]
    assert [s["step"] for s in scores] == [4, 8]
    # Simulate a kill right after the step-4 checkpoint, then resume.
    shutil.rmtree(run / "checkpoints" / "step-000008")
    (run / "checkpoints" / "latest").write_text("step-000004")
    (run / "metrics.jsonl").write_text("".join(line + "\n" for line in (run / "metrics.jsonl").read_text().splitlines()
                                               if json.loads(line)["step"] <= 4))
    assert train_main(["--config", str(ROOT / "configs/gemma3-270m-lora.yaml"), *args, "--resume"]) == 0
    resumed = losses(run)
    for step in range(5, 9):
        assert resumed[step] == pytest.approx(full[step], rel=1e-5), step
    # The shipped-adapter shape: the engine loads base + best adapter with its task format.
    loaded = load_model(tiny_causal, adapter=run / "best", device="cpu")
    assert loaded.task_format.kind == "causal"


@pytest.mark.parametrize("config_name", ["arat5v2-base", "mt5-xlsum"])
def test_seq2seq_configs_run_with_a_tiny_model(tiny_seq2seq, tiny_corpus, tmp_path, config_name):
    run = tmp_path / config_name
    args = overrides(tiny_seq2seq, tiny_corpus, run, "--train.steps", "6", "--train.eval_every", "0",
                     "--train.save_every", "0", "--train.lr", "1e-2", "--train.batch_size", "4")
    assert train_main(["--config", str(ROOT / f"configs/{config_name}.yaml"), *args]) == 0
    curve = losses(run)
    assert curve[6] < curve[1]
    assert (run / "checkpoints" / "step-000006" / "model.safetensors").is_file()
    assert json.loads((run / "best" / "summarizer_task.json").read_text())["kind"] == "seq2seq"  # the model's kind
    assert load_config(run / "config.yaml").task.kind == "seq2seq"


def test_config_error_is_one_clear_line(tmp_path, capsys):
    assert train_main(["--config", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_ship_copies_best_adapter_and_forgets_local_paths(adapter_run, tmp_path):
    from summarizer.finetune.ship import ship
    from summarizer.vocab import load_output_vocab, save_output_vocab

    best = adapter_run / "best"
    config = json.loads((best / "adapter_config.json").read_text())
    (best / "adapter_config.json").write_text(json.dumps({**config, "base_model_name_or_path": "/root/.cache/x"}))
    (best / "scores.json").write_text("{}")
    save_output_vocab(best, [5, 3, 9], 16)
    dest = ship(adapter_run, tmp_path / "dest")
    config = json.loads((dest / "adapter_config.json").read_text())
    assert config["r"] == 2 and not config["base_model_name_or_path"].startswith("/")
    assert load_output_vocab(dest) == ([3, 5, 9], 16)  # serving trims to what training used
    assert (dest / "scores.json").is_file()
    # A checkpoint has no scores.json (nor, unrestricted, a vocabulary): it ships, and the previous adapter's
    # files do not stay beside it.
    (best / "scores.json").unlink()
    (best / "output_vocab.json").unlink()
    ship(best, dest)
    assert not (dest / "scores.json").exists() and not (dest / "output_vocab.json").exists()
    assert (dest / "adapter_model.safetensors").is_file()
    # Settings chosen on dev travel with the adapter, checked when shipped.
    from summarizer.finetune.ship import main as ship_main
    from summarizer.generation import TaskFormat

    assert ship_main([str(best), "--dest", str(dest), "--settings", "{guard_novel_rate: 0.3, num_beams: 2}"]) == 0
    assert TaskFormat.load(dest).generation == {"guard_novel_rate": 0.3, "num_beams": 2}
    with pytest.raises(ConfigError, match="guard_novel_rate.*num_beam|num_beam.*guard_novel_rate"):
        ship(best, dest, settings={"guard_novel_rate": 3, "num_beam": 2})
    (best / "summarizer_task.json").unlink()
    with pytest.raises(ConfigError, match="lacks summarizer_task.json"):
        ship(adapter_run, tmp_path / "dest2")


def test_cpu_recipe_options_train_resume_and_score_like_summarizer_evaluate(tiny_causal, tiny_corpus, tmp_path):
    """Top-layer LoRA + restricted-vocabulary softmax: trains, resumes identically, and the dev score logged with
    the checkpoint is what `summarizer evaluate` gives for the same adapter on the same dev articles."""
    from summarizer.finetune.data import load_articles
    from summarizer.backends.hf import HFBackend
    from summarizer.engines import ModelEngine
    from summarizer.evaluation import evaluate

    run = tmp_path / "run"
    args = overrides(tiny_causal, tiny_corpus, run, "--train.steps", "6", "--train.save_every", "3",
                     "--train.eval_every", "3", "--train.lr", "5e-3", "--model.lora_r", "4", "--model.lora_layers",
                     "1", "--train.restricted_vocab", "true", "--generation.guard", "false")
    assert train_main(["--config", str(ROOT / "configs/gemma3-270m-news-cpu.yaml"), *args]) == 0
    full = losses(run)
    assert full[6] < full[1]
    adapter = json.loads((run / "best" / "adapter_config.json").read_text())
    assert adapter["layers_to_transform"] == [0]  # the tiny model has one layer: the top one
    assert json.loads((run / "best" / "summarizer_task.json").read_text())["input_tokens"] == 48
    from summarizer.vocab import load_output_vocab

    kept, size = load_output_vocab(run / "best")  # what the softmax ran over, for serving to use
    assert 0 < len(kept) < size
    shutil.rmtree(run / "checkpoints" / "step-000006")
    (run / "checkpoints" / "latest").write_text("step-000003")
    (run / "metrics.jsonl").write_text("".join(line + "\n" for line in (run / "metrics.jsonl").read_text().splitlines()
                                               if json.loads(line)["step"] <= 3))
    assert train_main(["--config", str(ROOT / "configs/gemma3-270m-news-cpu.yaml"), *args, "--resume"]) == 0
    for step in range(4, 7):
        assert losses(run)[step] == pytest.approx(full[step], rel=1e-5), step

    scores = json.loads((run / "best" / "scores.json").read_text())
    config = load_config(ROOT / "configs/gemma3-270m-news-cpu.yaml", args)
    _, dev = load_articles(config.data)
    engine = ModelEngine(HFBackend(load_model(tiny_causal, adapter=run / "best", device="cpu")))
    report = evaluate([engine], dev, "lead", config.generation, progress=False)
    assert report["rows"][0]["rouge1"]["mean"] == pytest.approx(scores["summary_rouge1"], abs=1e-9)


def test_restricted_vocabulary_logits_are_the_models_own(tiny_causal):
    import torch
    from transformers import AutoModelForCausalLM

    from summarizer.vocab import RestrictedVocab

    model = AutoModelForCausalLM.from_pretrained(tiny_causal)
    ids = torch.tensor([[5, 17, 42, 8, 99]])
    out = model(input_ids=ids, output_hidden_states=True)
    vocab = RestrictedVocab.from_ids([3, 8, 42, 99, 120], model.get_output_embeddings().weight.shape[0])
    restricted = vocab.logits(model, out.hidden_states[-1])
    assert torch.allclose(restricted, out.logits[..., vocab.ids], atol=1e-5)
    assert vocab.remap(torch.tensor([42, -100, 3])).tolist() == [2, -100, 0]
    with pytest.raises(ValueError, match="outside the restricted vocabulary"):
        vocab.remap(torch.tensor([7]))


# --- ship: checked before anything is written, written by rename ------------------------------------------------
@pytest.fixture
def adapter_run(tiny_causal, tmp_path) -> Path:
    """A run whose best/ holds a real (tiny) LoRA adapter, its task format and its config."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from summarizer.generation import TaskFormat

    best = tmp_path / "run" / "best"
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_causal),
                           LoraConfig(r=2, target_modules="all-linear"))
    model.save_pretrained(best)
    TaskFormat().save(best)
    save_config(Config(), best / "config.yaml")
    return tmp_path / "run"


@pytest.fixture
def packaged(adapter_run, tmp_path) -> Path:
    """An adapter already shipped, with its hand-written model card."""
    from summarizer.finetune.ship import main as ship_main

    dest = tmp_path / "packaged"
    assert ship_main([str(adapter_run), "--dest", str(dest)]) == 0
    (dest / "README.md").write_text("the model card, written by hand")
    return dest


def snapshot(directory: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def refused(argv: list[str], capsys) -> str:
    from summarizer.finetune.ship import main as ship_main

    capsys.readouterr()
    code = ship_main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, (code, err)
    return err


def _safetensors(path: Path, tensors: dict) -> None:
    from safetensors.torch import save_file

    save_file(tensors, str(path))


BROKEN_FILES = {
    "random weights": ("adapter_model.safetensors", lambda p: p.write_bytes(bytes(range(256)) * 40)),
    "{} weights": ("adapter_model.safetensors", lambda p: p.write_text("{}")),
    "no tensors": ("adapter_model.safetensors", lambda p: _safetensors(p, {})),
    "{} adapter config": ("adapter_config.json", lambda p: p.write_text("{}")),
    "random adapter config": ("adapter_config.json", lambda p: p.write_bytes(b"\xff\x00" * 50)),
    "random task format": ("summarizer_task.json", lambda p: p.write_bytes(b"\xff\x00" * 50)),
    "task format of the wrong types": ("summarizer_task.json", lambda p: p.write_text('{"input_tokens": "many"}')),
    "bad config YAML": ("config.yaml", lambda p: p.write_text("train: [unclosed\n")),
    "config with unknown keys": ("config.yaml", lambda p: p.write_text("train: {colour: red}\n")),
}


@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
def test_ship_refuses_a_broken_adapter_before_writing_anything(adapter_run, packaged, capsys, case):
    name, spoil = BROKEN_FILES[case]
    spoil(adapter_run / "best" / name)
    before = snapshot(packaged)
    err = refused([str(adapter_run), "--dest", str(packaged)], capsys)
    assert name in err and "--settings" not in err
    assert snapshot(packaged) == before


@pytest.mark.parametrize("argv, named", [
    (["--settings", "{num_beams: 0}"], "--settings"),
    (["--settings", "{num_beams: [2"], "--settings"),
    (["--settings", "[1, 2]"], "--settings"),
    (["--model-fields", "headline,bogus"], "bogus"),
])
def test_ship_refuses_bad_options_before_writing_anything(adapter_run, packaged, capsys, argv, named):
    before = snapshot(packaged)
    err = refused([str(adapter_run), "--dest", str(packaged), *argv], capsys)
    assert named in err
    assert snapshot(packaged) == before


def test_a_failure_while_shipping_leaves_the_packaged_adapter_whole(adapter_run, packaged, capsys, monkeypatch):
    import shutil as shutil_module

    before = snapshot(packaged)
    real_copy, calls = shutil_module.copy2, []

    def copy_then_fail(src, dst, *args, **kwargs):
        calls.append(src)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_copy(src, dst, *args, **kwargs)

    monkeypatch.setattr(shutil_module, "copy2", copy_then_fail)
    err = refused([str(adapter_run), "--dest", str(packaged)], capsys)
    assert "No space left on device" in err
    assert snapshot(packaged) == before
    assert sorted(p.name for p in packaged.parent.iterdir()) == ["packaged", "run"]  # no temporary folder left


def test_ship_replaces_the_adapter_and_keeps_the_model_card(adapter_run, packaged):
    from summarizer.finetune.ship import main as ship_main

    assert ship_main([str(adapter_run), "--dest", str(packaged), "--model-fields", "headline"]) == 0
    assert (packaged / "README.md").read_text() == "the model card, written by hand"
    assert json.loads((packaged / "summarizer_task.json").read_text())["model_fields"] == ["headline"]
    assert sorted(p.name for p in packaged.parent.iterdir()) == ["packaged", "run"]


# --- train: every problem before the model is loaded --------------------------------------------------------
@pytest.fixture
def no_model_load(tmp_path, monkeypatch):
    """The embedded model's conversion, recorded and refused: a test that reaches it loaded the model too early."""
    from summarizer import default_model
    from summarizer.errors import ModelLoadError

    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path / "cache"))
    calls = []

    def convert(out_dir):
        calls.append(out_dir)
        raise ModelLoadError("the model was loaded")

    monkeypatch.setattr(default_model, "_convert_gguf", convert)
    return calls


def test_a_missing_data_path_is_reported_before_the_model_is_loaded(no_model_load, tmp_path, capsys):
    code = train_main(["--data.paths", f"[{tmp_path / 'absent.jsonl'}, {tmp_path / 'also-absent'}]",
                       "--train.output_dir", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and not no_model_load, err
    assert "absent.jsonl" in err and "also-absent" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_negative_counts_are_refused_all_at_once(no_model_load, tiny_corpus, tmp_path, capsys):
    code = train_main(["--data.paths", f"[{tiny_corpus}]", "--train.output_dir", str(tmp_path / "run"),
                       "--train.warmup_steps", "-1", "--data.dev_articles", "-2", "--data.max_train_articles", "-3",
                       "--train.eval_every", "-4", "--train.seed", "-5", "--model.lora_layers", "-6"])
    err = capsys.readouterr().err
    assert code == 2 and not no_model_load, err
    for name in ("warmup_steps", "dev_articles", "max_train_articles", "eval_every", "seed", "lora_layers"):
        assert name in err, name
    assert len(err.strip().splitlines()) == 1


# --- one config stack --------------------------------------------------------------------------------------
def test_the_training_config_is_one_settings_tree_with_the_task_format_as_a_section():
    from dataclasses import fields

    from summarizer.default_model import ADAPTER_DIR
    from summarizer.finetune.config import DataConfig, ModelConfig
    from summarizer.generation import TaskFormat

    assert Config().task == TaskFormat()  # its defaults, not copies
    assert not {f.name for f in fields(ModelConfig)} & {"summary_prefix", "headline_prefix"}
    assert not {f.name for f in fields(DataConfig)} & {"max_source_tokens", "input_selection"}
    mt5 = load_config(ROOT / "configs/mt5-xlsum.yaml")
    assert mt5.task.prefixes == {"summary": "", "headline": "headline: "} and mt5.task.input_tokens == 512
    # A config saved before the change (the packaged adapter's, any run's) still loads, its keys moved into task.
    shipped = load_config(ADAPTER_DIR / "config.yaml")
    assert shipped.task.input_tokens == 128 and shipped.task.input_selection == "central"
    assert shipped.task.prefixes == TaskFormat().prefixes
    config = load_config(None, ["--task.input_tokens", "64", "--task.input_selection", "central"])
    assert (config.task.input_tokens, config.task.input_selection) == (64, "central")
    with pytest.raises(ConfigError) as info:
        load_config(None, ["--task.input_tokens", "0", "--task.prefixes", "{summary: 'x'}"])
    assert "task.input_tokens must be >= 1" in str(info.value) and "'headline'" in str(info.value)


def test_the_cli_trains_through_the_summarizer_package_only(tmp_path):
    import subprocess
    import sys

    script = ("import sys; from summarizer.cli import main; code = main(['train', '--config', 'absent.yaml']); "
              "print(sorted(m for m in sys.modules if m.split('.')[0] == 'finetune')); sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout.strip() == "[]"  # no top-level `finetune` package, installed under a generic name
