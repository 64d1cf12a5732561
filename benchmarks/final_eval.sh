#!/bin/bash
# Usage: bash benchmarks/final_eval.sh [ADAPTER_DIR] [OUT]  (no adapter: the packaged default); reports in OUT
# (default runs/eval). The dev table: lead and headline protocols, 200 ANT dev articles, Lead-1/Lead-3, extractive
# and the default engine in one table each; the untuned base; the guard threshold trade-off; the model writing
# summaries (100); comparable numbers (XL-Sum pairs, JawharaFM titles, rescored with XL-Sum's scorer).
cd "$(dirname "$0")/.." && . .venv/bin/activate
A="${1:+--adapter $1}"; OUT="${2:-runs/eval}"; ANT=../shared/data/ant-multisource-v2.1.tar.gz
mkdir -p "$OUT"
for P in lead headline; do  # each run also scores Lead-1 and Lead-3
  summarizer evaluate --data $ANT --protocol $P --limit 200 --engine extractive,default $A --out $OUT/$P > $OUT/$P.txt 2>&1
done
summarizer evaluate --data $ANT --protocol headline --limit 200 --engine default --adapter none --out $OUT/headline-base > $OUT/headline-base.txt 2>&1
summarizer evaluate --data $ANT --protocol headline --limit 200 --engine default $A --guard-novel-rate 1 --out $OUT/headline-lenient > $OUT/headline-lenient.txt 2>&1
python benchmarks/guard_threshold.py $OUT/headline-lenient $OUT/headline > $OUT/guard-threshold.txt 2>&1
summarizer evaluate --data $ANT --protocol lead --limit 100 --engine default $A --model-tasks headline,summary --out $OUT/lead-model > $OUT/lead-model.txt 2>&1
JFM=../shared/data/ant-jawharafm-v1.1.tar.gz
summarizer evaluate --data $ANT --protocol xlsum --engine extractive --out $OUT/xlsum-extractive > $OUT/xlsum-extractive.txt 2>&1
summarizer evaluate --data $ANT --protocol xlsum --limit 100 --engine default $A --out $OUT/xlsum-default > $OUT/xlsum-default.txt 2>&1
summarizer evaluate --data $JFM --protocol title --engine extractive --out $OUT/title-extractive > $OUT/title-extractive.txt 2>&1
summarizer evaluate --data $JFM --protocol title --limit 100 --engine default $A --out $OUT/title-default > $OUT/title-default.txt 2>&1
for D in xlsum-extractive xlsum-default title-extractive title-default headline; do
  echo "== $D"; python benchmarks/rescore_xlsum.py $OUT/$D
done > $OUT/xlsum-rescored.txt 2>&1
echo done > $OUT/done
