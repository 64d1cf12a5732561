#!/bin/bash
# Usage: bash benchmarks/final_eval.sh [ADAPTER_DIR]  (no argument: the packaged default); reports in runs/eval/
# Dev table for the new default (guarded), and the comparable-numbers runs. $1 = adapter directory.
cd /work/main && . .venv/bin/activate
A="${1:+--adapter $1}"; ANT=../shared/data/ant-multisource-v2.1.tar.gz; JFM=../shared/data/ant-jawharafm-v1.1.tar.gz
for P in lead headline; do
  summarizer evaluate --data $ANT --protocol $P --limit 200 --engine default $A --out runs/eval/$P-new > runs/eval/$P-new.txt 2>&1
done
summarizer evaluate --data $ANT --protocol xlsum --engine extractive --out runs/eval/xlsum-extractive > runs/eval/xlsum-extractive.txt 2>&1
summarizer evaluate --data $ANT --protocol xlsum --limit 100 --engine default $A --out runs/eval/xlsum-new > runs/eval/xlsum-new.txt 2>&1
summarizer evaluate --data $JFM --protocol title --engine extractive --out runs/eval/title-extractive > runs/eval/title-extractive.txt 2>&1
summarizer evaluate --data $JFM --protocol title --limit 100 --engine default $A --out runs/eval/title-new > runs/eval/title-new.txt 2>&1
for D in xlsum-extractive xlsum-new title-extractive title-new headline-new headline-extractive; do
  echo "== $D"; python benchmarks/rescore_xlsum.py runs/eval/$D
done > runs/eval/xlsum-rescored.txt 2>&1
echo done > runs/eval/final.done
