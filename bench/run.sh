#!/usr/bin/env bash
# Speed of the symbolic student: TensorFlow.js (wasm, one thread) against PyTorch (OpenBLAS, one
# thread) on this CPU, same model and batch. Prints a Markdown table.
#
#   bench/run.sh                 # wasm
#   BACKEND=cpu bench/run.sh     # tfjs cpu backend instead (~1.5 min for the tfjs side)
#   REPS=5 WARMUP=1 bench/run.sh # fewer repetitions; SKIP_BUILD=1 skips the turbo build
#   KEEP=dir bench/run.sh        # also keep the two raw JSON results in dir
set -euo pipefail
cd "$(dirname "$0")/.."

BACKEND="${BACKEND:-wasm}"
PY=/usr/bin/python3 # Debian's python: python3-torch lives there, not in the pyenv python on PATH

die() { echo "bench/run.sh: $*" >&2; exit 1; }

"$PY" -c 'import torch' 2>/dev/null ||
  die "$PY cannot import torch: apt-get install python3-torch (Debian's torch is the peer)"
# Without OpenBLAS, torch links the reference BLAS and runs ~7× slower: a false win for tfjs.
dpkg -s libopenblas0-pthread >/dev/null 2>&1 ||
  die "libopenblas0-pthread is not installed: apt-get install libopenblas0-pthread (else torch uses the slow reference BLAS)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  # turbo rebuilds only what changed since its last build (a cache hit otherwise).
  echo "building @symseq/decoder, @symseq/loss and their dependencies…" >&2
  npx turbo run build --filter=@symseq/decoder... --filter=@symseq/loss... >"$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log" >&2; die "build failed"; }
fi
load() { cut -d' ' -f1-3 /proc/loadavg; }

common=()
[[ -n "${REPS:-}" ]] && common+=(--reps "$REPS")
[[ -n "${WARMUP:-}" ]] && common+=(--warmup "$WARMUP")

before="$(load)"
echo "running tfjs ($BACKEND)… (load average $before)" >&2
node bench/student-step.mjs --backend "$BACKEND" "${common[@]}" >"$tmp/tfjs.json" 2>"$tmp/tfjs.err" ||
  { cat "$tmp/tfjs.err" >&2; die "tfjs benchmark failed"; }
echo "running torch…" >&2
"$PY" bench/student_step.py "${common[@]}" >"$tmp/torch.json" 2>"$tmp/torch.err" ||
  { cat "$tmp/torch.err" >&2; die "torch benchmark failed"; }
after="$(load)"

if [[ -n "${KEEP:-}" ]]; then
  mkdir -p "$KEEP" && cp "$tmp/tfjs.json" "$tmp/torch.json" "$KEEP/"
fi
node bench/report.mjs "$tmp/tfjs.json" "$tmp/torch.json" --load-before "$before" --load-after "$after"
echo "- /proc/cpuinfo: $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed "s/^ //"), $(nproc) cores online, AVX-512F $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no); the two runs were sequential, one thread each."
