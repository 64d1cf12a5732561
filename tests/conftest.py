from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SCRAPED_PAGE = SEEDS / "001_assembled_scraped_page.txt"


@pytest.fixture
def scraped_page() -> str:
    return SCRAPED_PAGE.read_text(encoding="utf-8")


@pytest.fixture
def seed_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]


@pytest.fixture(scope="session")
def tiny_seq2seq(tmp_path_factory) -> Path:
    from tests.tiny_models import build_seq2seq

    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    return build_seq2seq(tmp_path_factory.mktemp("tiny-t5"), texts)


@pytest.fixture(scope="session")
def tiny_causal(tmp_path_factory) -> Path:
    from tests.tiny_models import build_causal

    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    return build_causal(tmp_path_factory.mktemp("tiny-llama"), texts)
