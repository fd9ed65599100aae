// The benchmarked student and its training step, shared by student-step.mjs and profile-step.mjs.
// Imports the BUILT packages (dist/): run `npx turbo run build` first, or use bench/run.sh.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';

export { tf };
export const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..');

/**
 * The preset's teacher shapes: tokens [TOKENS, TOKEN_DIM] from `teacher.tokensLayer` at
 * `teacher.inputSize`, pooled [POOLED_DIM] from `teacher.pooledLayer` (bench/mobilenet-layers.json,
 * shared with student_step.py). For the cpu preset: 128 px, conv_pw_11_relu 8×8×384, conv_pw_13_relu 768.
 */
export function presetShapes(preset) {
  const layers = JSON.parse(readFileSync(join(here, 'mobilenet-layers.json'), 'utf8'));
  const t = preset.teacher;
  const layer = (name, field) => {
    const l = layers[name];
    if (!l)
      throw new Error(
        `apps/trainer/configs/cpu.json: ${field} '${name}' is not in bench/mobilenet-layers.json`,
      );
    return l;
  };
  const tok = layer(t.tokensLayer, 'teacher.tokensLayer');
  const side = Math.ceil(t.inputSize / tok.stride);
  return {
    tokens: side * side,
    tokenDim: tok.channels,
    pooledDim: layer(t.pooledLayer ?? t.tokensLayer, 'teacher.pooledLayer').channels,
  };
}

/** `wasm` (one thread, SIMD) or `cpu`, initialised as apps/trainer's selectBackend does. */
export async function useBackend(backend) {
  if (backend !== 'wasm' && backend !== 'cpu') {
    throw new Error(`--backend: expected 'wasm' or 'cpu', got ${JSON.stringify(backend)}`);
  }
  if (backend === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    // As selectBackend: clones and same-dtype casts share buffers. WASM_ZERO_COPY=0 keeps tfjs' copying kernels.
    // biome-ignore lint/suspicious/noUndeclaredEnvVars: a bench switch, not an input of a turbo task
    if (process.env.WASM_ZERO_COPY !== '0') {
      const { installWasmZeroCopyKernels } = await import('../packages/nn/dist/index.js');
      installWasmZeroCopyKernels();
    }
  }
  if (!(await tf.setBackend(backend))) throw new Error(`setBackend('${backend}') failed`);
  await tf.ready();
}

export function positiveInt(name, text) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name}: expected a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

/**
 * The CPU preset's student (apps/trainer/configs/cpu.json, completed by the trainer's own
 * studentConfigFor() for the preset's token and pooled shapes), the preset's objective (from the
 * OBJECTIVES registry: `contrast` today) and the trainer's own TrainStep (apps/trainer/src/train-step.ts,
 * with the preset's usage regulariser): what `symseq train` runs, not a copy.
 * Imports the BUILT trainer library (apps/trainer/dist/index.js). Call after useBackend().
 */
export async function createStudentBench() {
  const { Student } = await import('@symseq/decoder');
  const { createObjective } = await import('@symseq/loss');
  const { resolveTrainConfig, studentConfigFor, TrainStep } = await import('../apps/trainer/dist/index.js');
  const preset = resolveTrainConfig(
    JSON.parse(readFileSync(join(root, 'apps/trainer/configs/cpu.json'), 'utf8')),
    'apps/trainer/configs/cpu.json',
  );
  const shapes = presetShapes(preset);
  const config = studentConfigFor(preset, { tokenDim: shapes.tokenDim, pooledDim: shapes.pooledDim });
  const optim = { auxWeight: preset.objective.auxWeight, ...preset.optim };

  const student = new Student(config, { seed: 0 });
  const o = preset.objective;
  if (o.kind === 'dino')
    throw new Error('bench: the dino objective needs prototypes from data; benchmark features or contrast');
  const objective = createObjective(
    o.kind,
    o[o.kind],
    { lengths: [...o.lengths], weights: o.weights, pooledDim: shapes.pooledDim },
    { prototypes: o.prototypes },
  );
  const step = new TrainStep(student, objective, {
    lr: optim.lr,
    weightDecay: optim.weightDecay,
    clipGrad: optim.clipGrad,
    auxWeight: optim.auxWeight,
    regularizer: preset.objective.regularizer,
  });
  const variables = step.trainableVariables();
  const params = {
    trainable: variables.reduce((n, v) => n + v.size, 0),
    total: student.store.numParams(),
    byName: Object.fromEntries(student.store.names().map((n) => [n, student.store.get(n).size])),
  };
  const lengths = [...preset.objective.lengths];

  /** The trainer's loss (call inside variableGrads); `pooled` are the objective's targets. */
  const loss = (tokens, pooled, i) => step.loss(tokens, pooled, i);

  /** Clip, Adam, decoupled weight decay on matrices: the rest of the trainer's step. */
  const update = (grads) => step.update(grads, undefined, optim.lr);

  /** One training step exactly as the trainer runs it; returns the loss (read back, as there). */
  const trainStep = (tokens, pooled, i) => step.run({ tokens, pooled }, i, optim.lr).total;

  /**
   * Inference forward. The wasm and cpu backends run every kernel synchronously, so the outputs
   * exist when forward returns; only the small symbols tensor is read back (as `encode` users do).
   */
  const inference = (tokens) => {
    const out = student.forward(tokens, { mode: 'inference', lengths });
    out.decoder.symbols.dataSync();
    tf.dispose(out);
  };

  /** Random inputs: post-ReLU-like tokens in [0, 1), normal targets (only shapes matter for speed). */
  const inputs = (batch, seed) => ({
    tokens: tf.randomUniform([batch, shapes.tokens, shapes.tokenDim], 0, 1, 'float32', seed),
    targets: tf.randomNormal([batch, shapes.pooledDim], 0, 1, 'float32', seed + 1),
  });

  return {
    student,
    config,
    preset,
    shapes,
    objective,
    step,
    optim,
    params,
    variables,
    loss,
    update,
    trainStep,
    inference,
    inputs,
  };
}

/** CPU time of this process in ms (user + system, all threads): unlike wall time, it does not
 * grow when other processes take turns on the cores. */
export const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Runs `fn` `warm` times, then `n` timed times. Wall and CPU ms per call: median, min, max, samples.
 */
export function time(fn, n, warm) {
  for (let i = 0; i < warm; i++) fn(i);
  const wall = [];
  const cpu = [];
  for (let i = 0; i < n; i++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    fn(warm + i);
    wall.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
  }
  const stats = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
  return { ...stats(wall), n, cpu: stats(cpu), samples: wall, cpuSamples: cpu };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
