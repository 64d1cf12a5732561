#!/bin/bash
# Dev headlines of a run's checkpoints on the serving path (CTranslate2 int8, trimmed output layer, guard on):
#   bash benchmarks/checkpoints.sh RUN_DIR OUT_DIR STEP [STEP ...]
# Each checkpoint is exported with `summarizer ship` (output vocabulary included, model_fields headline) to
# OUT_DIR/step-N, then scored on the same 200 ANT dev articles as the default; the table is printed at the end.
# The run's own dev log decodes with the hf backend during training; this is what users get.
set -euo pipefail
RUN=$1; OUT=$2; shift 2
ANT=${ANT:-../shared/data/ant-multisource-v2.1.tar.gz}
mkdir -p "$OUT"
for STEP in "$@"; do
  CKPT=$RUN/checkpoints/step-$(printf %06d "$STEP")
  summarizer ship "$CKPT" --dest "$OUT/step-$STEP" --model-fields headline > /dev/null
  summarizer evaluate --data "$ANT" --protocol headline --limit 200 --engine default --adapter "$OUT/step-$STEP" \
    --out "$OUT/headline-$STEP" > "$OUT/headline-$STEP.txt" 2>&1
done
for STEP in "$@"; do
  echo "$(grep -a "^gemma-3-270m+step-$STEP |" "$OUT/headline-$STEP.txt")"
done
