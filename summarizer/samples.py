"""Sample pages shipped inside the package (the web demo's examples, `summarizer bench`, the tests)."""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).parent / "samples"


def sample_pages() -> list[Path]:
    return sorted(SAMPLES_DIR.glob("*.txt"))
