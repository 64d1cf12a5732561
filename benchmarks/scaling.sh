#!/bin/bash
# Usage: bash benchmarks/scaling.sh  (needs ../shared/data; writes runs/scale-*)
# Records/s: local batch vs Ray with 1 and 2 workers, extractive and default engines (same JSON Lines input).
cd /work/main && . .venv/bin/activate
python - <<'PY'
import json, itertools
from summarizer.corpora import read_corpus
arts = list(itertools.islice(read_corpus("../shared/data/ant-multisource-v2.1.tar.gz"), 2000))
for n, name in ((2000, "runs/scale-2000.jsonl"), (24, "runs/scale-24.jsonl")):
    with open(name, "w", encoding="utf-8") as h:
        for a in arts[:n]:
            h.write(json.dumps({"id": a.id, "title": a.title, "text": a.text}, ensure_ascii=False) + "\n")
PY
for spec in "extractive runs/scale-2000.jsonl" "default runs/scale-24.jsonl"; do
  set -- $spec
  rm -rf runs/scale-out; mkdir -p runs/scale-out
  echo "== $1 local"; summarizer batch $2 --engine $1 --out runs/scale-out/local.jsonl 2>&1 | grep "^batch"
  echo "== $1 ray 1"; summarizer batch $2 --engine $1 --ray --workers 1 --out runs/scale-out/ray1/ 2>&1 | grep "^batch"
  echo "== $1 ray 2"; summarizer batch $2 --engine $1 --ray --workers 2 --out runs/scale-out/ray2/ 2>&1 | grep "^batch"
done
