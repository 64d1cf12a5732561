"""Write the (article, headline) pairs to be judged: dev-split articles with the default's shown headline, its beam
candidates, the extractive headline and the human title, one JSON line per article (the judge reads the article
once and labels each of its headlines).

    python benchmarks/judged/make_pairs.py --data ../shared/data/ant-multisource-v2.1.tar.gz --n 100 \
        --out benchmarks/judged/pairs.jsonl
"""

from __future__ import annotations

import argparse
import json

from summarizer.engines import EngineSettings, make_engine
from summarizer.evaluation import load_eval_articles, prepare
from summarizer.generation import GenerationSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--skip", type=int, default=0, help="articles of the shuffled dev split to skip first")
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--split", default="dev", help="dev (judged for measuring) or train (judged to train the "
                        "checker on real model errors)")
    parser.add_argument("--articles-only", action="store_true",
                        help="write only the articles (id, source, text): a new judged set for shown.py --set, "
                             "whose shown headlines are then judged")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    # Whole articles, as a user pastes them (the title protocol: input = every paragraph, reference = TITLE).
    prepared = prepare(load_eval_articles(args.data, split=args.split), "title")
    articles = prepared.inputs[args.skip : args.skip + args.n]
    titles = prepared.references[args.skip : args.skip + args.n]
    if args.articles_only:
        with open(args.out, "w", encoding="utf-8") as out:
            for article in articles:
                out.write(json.dumps({"id": article.id, "source": article.source, "text": article.text},
                                     ensure_ascii=False) + "\n")
        return
    default = make_engine(EngineSettings(engine="default"))
    extractive = make_engine(EngineSettings(engine="extractive"))
    shown = default.summarize(articles, settings=GenerationSettings(), tasks=("headline",))
    beams = GenerationSettings(num_beams=args.beams, num_candidates=args.beams)
    candidates = default.generate(articles, "headline", beams)
    ext = extractive.summarize(articles, settings=GenerationSettings())
    with open(args.out, "w", encoding="utf-8") as out:
        for article, title, s, (cands, _), e in zip(articles, titles, shown, candidates, ext):
            headlines: dict[str, list[str]] = {}
            for source, text in [("default", s.headline), ("human", title), ("extractive", e.headline),
                                 *[(f"beam{k}", c) for k, c in enumerate(cands)]]:
                if text:
                    headlines.setdefault(" ".join(text.split()), []).append(source)
            out.write(json.dumps({"id": article.id, "source": article.source, "text": article.text,
                                  "default_fallback": s.fallback.get("headline", ""),
                                  "headlines": [{"text": t, "sources": v} for t, v in headlines.items()]},
                                 ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
