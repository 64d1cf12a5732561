"""Arabic news summarization and headlines: cleaning, engines, Arabic ROUGE, corpora, feeds."""

from .article import Article, Summary
from .clean import CleanedPage, clean_page
from .generation import GenerationSettings

__all__ = ["Article", "CleanedPage", "GenerationSettings", "Summary", "clean_page"]
__version__ = "0.1.0"
