#!/usr/bin/env bash
# Teacher extraction speed with 1 and 2 (or WORKERS) worker threads: MobileNetV1 0.75 features of a
# CIFAR-10 subset (PER_CLASS train images per class, from the ImageFolder JPEGs) at each SIZES px, through
# `symseq features`. images/s excludes start-up (loading, decoding): a second run on the finished cache
# measures that, and is subtracted. Prints a Markdown table and the load average.
#
#   bench/extract-workers.sh                     # 500 per class (5,000 images), 64 and 128 px, 1 vs 2 workers
#   PER_CLASS=100 SIZES="64" WORKERS="1 2" bench/extract-workers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${DATA:-/work/shared/data/cifar10-jpeg}"
TEACHER="${TEACHER:-/work/shared/models/mobilenet_v1_0.75_224}"
PER_CLASS="${PER_CLASS:-500}"
SIZES="${SIZES:-64 128}"
WORKERS="${WORKERS:-1 2}"
SHARD="${SHARD:-100}" # images per shard, the unit handed to a worker: 21 shards for 200 a class (2,100 images), so the last shard leaves a worker idle for at most 1/21 of the run
[[ -f apps/trainer/dist/cli.js ]] || { echo "build the trainer first: npx turbo run build --filter=@symseq/trainer..." >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# A small ImageFolder (copies: the reader skips symbolic links): PER_CLASS train and 10 test images per class.
for split in train test; do
  n=$([[ $split == train ]] && echo "$PER_CLASS" || echo 10)
  for cls in "$DATA/$split"/*/; do
    c="$(basename "$cls")"
    mkdir -p "$tmp/data/$split/$c"
    files=("$cls"*)
    for f in "${files[@]:0:$n}"; do cp "$f" "$tmp/data/$split/$c/"; done
  done
done
images=$((PER_CLASS * 10 + 100))

secs() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null || { echo "extract-workers: '$*' failed" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
run() { # size workers cache
  node apps/trainer/dist/cli.js features --preset cpu --set data.dataset=imagefolder --data-dir "$tmp/data" \
    --teacher "$TEACHER" --set "teacher.inputSize=$1" --set "cache.dir=$3" --set "cache.shardSize=$SHARD" --workers "$2" --backend wasm -q
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2
echo "| size | workers | extraction s | start-up s | images/s | vs 1 worker |"
echo "|---:|---:|---:|---:|---:|---:|"
for size in $SIZES; do
  base=""
  for w in $WORKERS; do
    cache="$tmp/cache-$size-$w"
    mkdir -p "$cache"
    total=$(secs run "$size" "$w" "$cache") || exit 1
    startup=$(secs run "$size" "$w" "$cache") || exit 1 # everything but the teacher: the cache is now reused
    ex=$(echo "$total - $startup" | bc -l)
    rate=$(echo "$images / $ex" | bc -l)
    [[ -z "$base" ]] && base=$rate
    printf '| %s | %s | %.1f | %.1f | %.1f | %.2f× |\n' "$size" "$w" "$ex" "$startup" "$rate" "$(echo "$rate / $base" | bc -l)"
    rm -rf "$cache/features"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" >&2
