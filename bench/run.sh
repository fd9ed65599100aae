#!/usr/bin/env bash
# Speed of the symbolic student: TensorFlow.js (wasm, one thread) against PyTorch (OpenBLAS, one
# thread) on this CPU, same model and batch, then at all cores (tfjs: data-parallel replicas in worker
# threads, as `train --workers N`; torch: N threads), and teacher (MobileNetV1) extraction images/s on
# both sides at 1 and N. Prints Markdown tables, the CPU model and the load average.
#
#   CORES=2 bench/run.sh         # N (default: all cores, nproc)
#   EXTRACT=0 bench/run.sh       # skip the tfjs extraction runs (bench/extract-workers.sh: 10,100 images at 64 and 128 px, ~5 min)
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

CORES="${CORES:-$(nproc)}"
echo "running the all-cores side ($CORES cores)…" >&2
[[ -f apps/trainer/dist/train-replica.js ]] || die "apps/trainer/dist is missing: npx turbo run build --filter=@symseq/trainer..."
node bench/student-step-parallel.mjs --workers "$CORES" "${common[@]}" >"$tmp/tfjs-n.json" 2>"$tmp/tfjs-n.err" ||
  { cat "$tmp/tfjs-n.err" >&2; die "tfjs data-parallel benchmark failed"; }
node bench/student-infer-parallel.mjs --workers "$CORES" "${common[@]}" >"$tmp/tfjs-infer-n.json" 2>"$tmp/tfjs-infer-n.err" ||
  { cat "$tmp/tfjs-infer-n.err" >&2; die "tfjs parallel inference benchmark failed"; }
# torch at N cores, two ways: N intra-op threads over a one-thread OpenBLAS, and N of each. Debian's
# torch calls OpenBLAS from its own threads, so N × N oversubscribes the cores (measured on 2 cores:
# 750 vs 318 ms a step); the faster of the two is torch's all-cores time.
BENCH_THREADS="$CORES" BENCH_BLAS_THREADS=1 "$PY" bench/student_step.py "${common[@]}" >"$tmp/torch-n.json" 2>"$tmp/torch-n.err" ||
  { cat "$tmp/torch-n.err" >&2; die "torch $CORES-thread benchmark failed"; }
BENCH_THREADS="$CORES" "$PY" bench/student_step.py "${common[@]}" >"$tmp/torch-nn.json" 2>"$tmp/torch-nn.err" ||
  { cat "$tmp/torch-nn.err" >&2; die "torch $CORES-thread benchmark failed"; }
BENCH_THREADS=1 "$PY" bench/teacher_torch.py >"$tmp/teacher-1.json" || die "torch teacher benchmark failed"
BENCH_THREADS="$CORES" "$PY" bench/teacher_torch.py >"$tmp/teacher-n.json" || die "torch teacher benchmark failed"
node -e '
const fs = require("fs");
const [dir, cores] = process.argv.slice(1);
const j = (f) => JSON.parse(fs.readFileSync(`${dir}/${f}.json`, "utf8"));
const t1 = j("tfjs"), tn = j("tfjs-n"), p1 = j("torch"), m1 = j("teacher-1"), mn = j("teacher-n");
const pa = j("torch-n"), pb = j("torch-nn");
const pn = pa.ms.trainStep.median <= pb.ms.trainStep.median ? pa : pb;
const f = (x) => x.toFixed(0);
console.log(`\n### All cores (${cores}): tfjs data-parallel replicas vs torch threads\n`);
console.log("| operation | tfjs 1 | tfjs all | torch 1 | torch all | tfjs/torch, 1 core | tfjs/torch, all cores |");
console.log("|---|---:|---:|---:|---:|---:|---:|");
const tr = [t1.ms.trainStep.median, tn.trainMs, p1.ms.trainStep.median, pn.ms.trainStep.median];
console.log(`| training step, batch ${tn.batch} (ms) | ${tr.map(f).join(" | ")} | ${(tr[0] / tr[2]).toFixed(2)}× | ${(tr[1] / tr[3]).toFixed(2)}× |`);
const ti = j("tfjs-infer-n");
const pin = pa.ms.inference.median <= pb.ms.inference.median ? pa : pb;
const inf = [t1.ms.inference.median, ti.inferMs, p1.ms.inference.median, pin.ms.inference.median];
console.log(`| inference forward, batch ${ti.batch} (ms) | ${inf.map(f).join(" | ")} | ${(inf[0] / inf[2]).toFixed(2)}× | ${(inf[1] / inf[3]).toFixed(2)}× |`);
console.log(`\ntfjs all cores: training as \`train --workers ${cores}\` (data-parallel replicas), inference with the batch split over ${ti.workers} worker threads (bench/student-infer-parallel.mjs; ${(inf[0] / inf[1]).toFixed(2)}× over one).`);
console.log(`\ntfjs data-parallel: ${tn.replicas} replicas, wall ${tn.range.map(f).join("–")} ms; speed-up over 1 replica ${(tr[0] / tr[1]).toFixed(2)}×. torch all cores: the faster of ${pa.threads} threads × OpenBLAS ${pa.blasThreads} (${f(pa.ms.trainStep.median)} ms a step, ${f(pa.ms.inference.median)} ms inference) and ${pb.threads} × OpenBLAS ${pb.blasThreads} (${f(pb.ms.trainStep.median)} / ${f(pb.ms.inference.median)} ms).`);
console.log(`\nTeacher (MobileNetV1 0.75 to conv_pw_13_relu, ${m1.params.toLocaleString("en")} parameters read from the same TF.js weights), torch images/s on random images:`);
for (const s of Object.keys(m1.sizes)) console.log(`- ${s} px: 1 thread ${m1.sizes[s].imagesPerSecond.toFixed(1)}, ${mn.threads} threads ${mn.sizes[s].imagesPerSecond.toFixed(1)}`);
' "$tmp" "$CORES"
# The TF.js model's parameters over the same layers (input … conv_pw_13_relu), from its model.json.
node -e '
const m = JSON.parse(require("fs").readFileSync(process.argv[1] + "/model.json", "utf8"));
const layers = []; for (const l of m.modelTopology.model_config?.config.layers ?? m.modelTopology.config.layers) { layers.push(l.config.name); if (l.config.name === "conv_pw_13_relu") break; }
let n = 0; for (const g of m.weightsManifest) for (const w of g.weights) if (layers.includes(w.name.split("/")[0])) n += w.shape.reduce((a, b) => a * b, 1);
console.log(`- TF.js model, same layers: ${n.toLocaleString("en")} parameters`);
' "${TEACHER:-/work/shared/models/mobilenet_v1_0.75_224}"
if [[ "${EXTRACT:-1}" != 0 ]]; then
  echo "running tfjs extraction (bench/extract-workers.sh, 1 and $CORES workers)…" >&2
  echo; echo "tfjs teacher extraction through \`symseq features\` (start-up subtracted):"; echo
  PER_CLASS="${PER_CLASS:-1000}" WORKERS="1 $CORES" bench/extract-workers.sh
fi
echo "- load average at the end: $(load)"
echo "- /proc/cpuinfo: $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed "s/^ //"), $(nproc) cores online, AVX-512F $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no); the two runs were sequential, one thread each."
