#!/usr/bin/env bash
# Issue #13: temperature vs Gumbel vs VQ on the finer grid (cpu preset: MobileNet 128 px, 8×8 tokens of
# conv_pw_11_relu, pooled conv_pw_13_relu, contrast objective), on a balanced 10k/2k CIFAR-10 subset, then
# `symseq attn` on each run (distinctness, consistency, faithfulness, prefix tree).
# Usage: bash tools/research/compare-discretizers.sh [out-root]   (needs the built CLI: npm run build)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-runs/compare}
DATA=${CIFAR10_DIR:-../shared/data/cifar10-jpeg}
TEACHER=${MOBILENET_DIR:-../shared/models/mobilenet_v1_0.75_224}
common=(--data-dir "$DATA" --teacher "$TEACHER" --train-limit 10000 --test-limit 2000 --epochs 2 --workers 1 -q)
declare -A DISC=(
  [temperature]='{"kind":"temperature"}'
  [gumbel]='{"kind":"gumbel"}'
  [vq]='{"kind":"vq","codeDim":32,"options":{"distance":"cosine","kmeansInit":true}}'
)
for name in temperature gumbel vq; do
  if [ ! -f "$OUT/$name/report.json" ]; then
    node apps/trainer/dist/cli.js train "${common[@]}" --out "$OUT/$name" --overwrite \
      --set "student.discretizer=${DISC[$name]}" $( [ "$name" = vq ] && echo --set objective.regularizer.usageWeight=0 )
  fi
  node apps/trainer/dist/cli.js attn --run "$OUT/$name" --per-class 1 --consistency-per-class 20 \
    --faithfulness-per-class 10 -q
done
node tools/research/compare-discretizers.mjs "$OUT"
