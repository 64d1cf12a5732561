"""Extractive engine cost on a hostile 200,000-character page of 50,000 short sentences, beside the seed page."""
import resource
import time

from summarizer.clean import clean_page
from summarizer.engines import ExtractiveEngine
from summarizer.generation import GenerationSettings
from summarizer.text import split_sentences

page = "\n".join(" ".join(["لا."] * 50) for _ in range(1000))[:200_000]
t = time.perf_counter(); p = clean_page(page); t_clean = time.perf_counter() - t
n = sum(len(split_sentences(x)) for a in p.articles for x in a.paragraphs)
t = time.perf_counter(); ExtractiveEngine().summarize(p.articles, settings=GenerationSettings()); t_sum = time.perf_counter() - t
normal = open("seeds/000_681027fbe92e833c.txt", encoding="utf-8").read()
t = time.perf_counter(); q = clean_page(normal); ExtractiveEngine().summarize(q.articles, settings=GenerationSettings())
t_norm = time.perf_counter() - t
print(f"hostile: {len(page):,} chars, {n:,} sentences: clean {t_clean:.2f} s + extractive {t_sum:.2f} s; "
      f"seed page (clean + extractive): {t_norm * 1000:.0f} ms; peak RSS "
      f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
