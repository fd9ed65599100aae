#!/usr/bin/env node
// Turns the JSON of student-step.mjs (tfjs) and student_step.py (torch) into one Markdown table.
//   node bench/report.mjs tfjs.json torch.json [--load-before "…"] [--load-after "…"]
// Exits 1 when the two sides' parameter counts differ (then they are not the same model).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'load-before': { type: 'string' }, 'load-after': { type: 'string' } },
});
if (positionals.length !== 2) {
  console.error(
    'usage: node bench/report.mjs <tfjs.json> <torch.json> [--load-before TEXT] [--load-after TEXT]',
  );
  process.exit(2);
}
const read = (path, side) => {
  let d;
  try {
    d = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: expected the JSON printed by the ${side} benchmark (${e.message})`);
  }
  if (d.side !== side || !d.ms?.trainStep) throw new Error(`${path}: not a ${side} benchmark result`);
  return d;
};
const tfjs = read(positionals[0], 'tfjs');
const torch = read(positionals[1], 'torch');

const names = Object.keys(tfjs.params.byName);
const sizeMismatch = names.filter((n) => torch.params.byName[n] !== tfjs.params.byName[n]);
const onlyTorch = Object.keys(torch.params.byName).filter((n) => !(n in tfjs.params.byName));
const same =
  tfjs.params.trainable === torch.params.trainable &&
  tfjs.params.total === torch.params.total &&
  sizeMismatch.length === 0 &&
  onlyTorch.length === 0;

const fmt = (ms) =>
  ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
const c = tfjs.config;
const labels = {
  trainStep: `training step, batch ${c.trainBatch} (forward, ${c.objective?.kind ?? 'features'} loss × ${c.lengths.length} lengths${c.objective?.regularizer?.usageWeight ? ' + usage regulariser' : ''}, backward, clip, Adam)`,
  inference: `inference forward, batch ${c.inferBatch} (8 symbols, encoder + projector for lengths ${c.lengths.join(',')})`,
};
const rows = Object.keys(tfjs.ms)
  .filter((k) => torch.ms[k])
  .map((k) => {
    const a = tfjs.ms[k];
    const b = torch.ms[k];
    const ratio = (x, y) => `${(x / y).toFixed(1)}×`;
    return `| ${labels[k] ?? k} | ${fmt(a.median)} | ${fmt(b.median)} | ${ratio(a.median, b.median)} | ${fmt(a.cpu.median)} | ${fmt(b.cpu.median)} | ${ratio(a.cpu.median, b.cpu.median)} |`;
  });

const perImage = (ms, batch) => `${((ms / batch) * 1000).toFixed(0)} µs/image`;
const out = [
  `| operation | tfjs-${tfjs.backend} ms | torch ms | ratio (tfjs / torch) | tfjs CPU ms | torch CPU ms | CPU ratio |`,
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows,
  '',
  'ms: wall-clock time; CPU ms: CPU time of the process (user + system), which does not grow while other processes hold the cores — ' +
    'the better estimate when the machine is loaded. ' +
    `Medians of ${tfjs.ms.trainStep.n} (tfjs) / ${torch.ms.trainStep.n} (torch) timed runs after warm-up for the two model rows, ` +
    `of ${Object.values(tfjs.ms).at(-1).n} / ${Object.values(torch.ms).at(-1).n} for the op rows. ` +
    `Range (min–max) training step: tfjs ${fmt(tfjs.ms.trainStep.min)}–${fmt(tfjs.ms.trainStep.max)}, ` +
    `torch ${fmt(torch.ms.trainStep.min)}–${fmt(torch.ms.trainStep.max)}; inference: tfjs ${fmt(tfjs.ms.inference.min)}–${fmt(tfjs.ms.inference.max)}, ` +
    `torch ${fmt(torch.ms.inference.min)}–${fmt(torch.ms.inference.max)}.`,
  `Per image: training tfjs ${perImage(tfjs.ms.trainStep.median, c.trainBatch)}, torch ${perImage(torch.ms.trainStep.median, c.trainBatch)}; ` +
    `inference tfjs ${perImage(tfjs.ms.inference.median, c.inferBatch)}, torch ${perImage(torch.ms.inference.median, c.inferBatch)}.`,
  '',
  `- Model: Student, CPU preset (apps/trainer/configs/cpu.json): dModel ${c.dModel}, ${c.heads} heads, vocab ${c.vocabSize}, ` +
    `decoder ${c.decoder.layers} / encoder ${c.encoder.layers} layer(s), projector ${c.projector.layers} layers ${c.projector.hiddenDim}→${c.projector.bottleneckDim}→${c.projector.outDim}, ` +
    `teacher tokens [B, ${c.teacherTokens}, ${c.teacherDim}], discretizer ${c.discretizer.kind} (hard, straight-through), lengths [${c.lengths.join(', ')}].`,
  `- Parameters: tfjs ${tfjs.params.trainable.toLocaleString('en')} trainable / ${tfjs.params.total.toLocaleString('en')} total; ` +
    `torch ${torch.params.trainable.toLocaleString('en')} / ${torch.params.total.toLocaleString('en')} — ` +
    (same
      ? `identical, tensor by tensor (${names.length} tensors).`
      : `**MISMATCH** (${[...sizeMismatch, ...onlyTorch].join(', ')}).`),
  `- Loss over the timed steps (random data; a sanity check that both train): tfjs ${tfjs.losses[0].toFixed(4)} → ${tfjs.losses.at(-1).toFixed(4)}, ` +
    `torch ${torch.losses[0].toFixed(4)} → ${torch.losses.at(-1).toFixed(4)}. tfjs tensors leaked per run: ${tfjs.leakedTensors.train} (train), ${tfjs.leakedTensors.inference} (inference).`,
  `- CPU: ${tfjs.cpu}; one thread on both sides (tfjs ${tfjs.backend}${tfjs.backend === 'wasm' ? `: SIMD ${tfjs.wasmSimd}, multithread ${tfjs.wasmMultithread}` : ''}; ` +
    `torch.get_num_threads() = ${torch.threads}, OMP/OPENBLAS/MKL_NUM_THREADS=1).`,
  `- Versions: Node ${tfjs.node}, @tensorflow/tfjs-core ${tfjs.tfjs}${tfjs.tfjsWasm ? `, tfjs-backend-wasm ${tfjs.tfjsWasm}` : ''}; ` +
    `Python ${torch.python}, torch ${torch.torch}, BLAS ${torch.blas.join(', ') || 'unknown'}.`,
];
if (opts['load-before'] || opts['load-after']) {
  out.push(
    `- Load average (1, 5, 15 min) before: ${opts['load-before'] ?? '?'}; after: ${opts['load-after'] ?? '?'}.`,
  );
}
console.log(out.join('\n'));
if (!same) {
  console.error(
    'report.mjs: the tfjs and torch models have different parameters; the comparison is not valid.',
  );
  process.exit(1);
}
