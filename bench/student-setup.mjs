// The benchmarked student and its training step, shared by student-step.mjs and profile-step.mjs.
// Imports the BUILT packages (dist/): run `npx turbo run build` first, or use bench/run.sh.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';

export { tf };
export const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..');

export const TEACHER_DIM = 768; // MobileNetV1 α=0.75 conv_pw_13_relu channels
export const TOKENS = 4; // 64 px input → 2×2 feature map

/** `wasm` (one thread, SIMD) or `cpu`, initialised as apps/trainer's selectBackend does. */
export async function useBackend(backend) {
  if (backend !== 'wasm' && backend !== 'cpu') {
    throw new Error(`--backend: expected 'wasm' or 'cpu', got ${JSON.stringify(backend)}`);
  }
  if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
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
 * The CPU preset's student (apps/trainer/configs/cpu.json, completed as the trainer's
 * studentConfigFor() does for the `features` objective on MobileNet tokens), its optimizer, and
 * apps/trainer/src/train.ts's training step. Call after useBackend().
 */
export async function createStudentBench() {
  const { Student } = await import('@symseq/decoder');
  const { FeatureRegressionLoss, MultiLengthLoss } = await import('@symseq/loss');
  const preset = JSON.parse(readFileSync(join(root, 'apps/trainer/configs/cpu.json'), 'utf8'));
  const lengths = [...preset.objective.lengths];
  const config = {
    ...preset.student,
    teacherDim: TEACHER_DIM,
    lengths,
    projector: { ...preset.student.projector, outDim: TEACHER_DIM }, // `features`: K = pooled dim
  };
  const optim = { auxWeight: 1, ...preset.optim }; // auxWeight: the trainer config's default

  const student = new Student(config, { seed: 0 });
  const variables = student.trainableVariables();
  const decayed = new Set(variables.filter((v) => v.rank >= 2));
  const params = {
    trainable: variables.reduce((n, v) => n + v.size, 0),
    total: student.store.numParams(),
    byName: Object.fromEntries(student.store.names().map((n) => [n, student.store.get(n).size])),
  };
  const multi = new MultiLengthLoss({ lengths, weights: preset.objective.weights });
  const featureLoss = new FeatureRegressionLoss({ kind: 'cosine' });
  const optimizer = tf.train.adam(optim.lr, 0.9, 0.999, 1e-8);

  /** The loss of apps/trainer/src/train.ts (`features` objective); call inside variableGrads. */
  const loss = (tokens, pooled, step) => {
    const out = student.forward(tokens, { mode: 'train', step, lengths: [...lengths] });
    const byLength = new Map(out.prefixes.map((p) => [p.length, p.projection]));
    const r = multi.aggregate(byLength, (s) => featureLoss.compute(s, pooled));
    return tf.add(r.total, tf.mul(out.auxLoss, optim.auxWeight));
  };

  /** Clip, Adam, decoupled weight decay on matrices: the rest of the trainer's step. */
  const update = (grads) => {
    const clipped = optim.clipGrad > 0 ? clipByGlobalNorm(grads, optim.clipGrad) : grads;
    optimizer.applyGradients(clipped);
    if (optim.weightDecay > 0) {
      for (const v of decayed) v.assign(tf.mul(v, 1 - optim.lr * optim.weightDecay));
    }
  };

  /** One training step as apps/trainer/src/train.ts runs it; returns the loss (read back, as there). */
  const trainStep = (tokens, pooled, step) => {
    const lossT = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => loss(tokens, pooled, step), variables);
      update(grads);
      return value;
    });
    const v = lossT.dataSync()[0];
    lossT.dispose();
    return v;
  };

  /**
   * Inference forward. The wasm and cpu backends run every kernel synchronously, so the outputs
   * exist when forward returns; only the small symbols tensor is read back (as `encode` users do).
   */
  const inference = (tokens) => {
    const out = student.forward(tokens, { mode: 'inference', lengths: [...lengths] });
    out.decoder.symbols.dataSync();
    tf.dispose(out);
  };

  /** Random inputs: post-ReLU-like tokens in [0, 1), normal targets (only shapes matter for speed). */
  const inputs = (batch, seed) => ({
    tokens: tf.randomUniform([batch, TOKENS, TEACHER_DIM], 0, 1, 'float32', seed),
    targets: tf.randomNormal([batch, TEACHER_DIM], 0, 1, 'float32', seed + 1),
  });

  return { student, config, optim, params, variables, loss, update, trainStep, inference, inputs };
}

/** As apps/trainer/src/train.ts (a private function there). */
function clipByGlobalNorm(grads, maxNorm) {
  return tf.tidy(() => {
    const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    const norm = tf.sqrt(tf.addN(sq));
    const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
    const out = {};
    for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, scale);
    return out;
  });
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
