import { readFileSync } from 'node:fs';
import type { StudentConfigInput } from '@symseq/decoder';
import { type HostTensor, type ParamStore, Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { expectClose as sharedExpectClose } from '../../../tools/test-utils';

export interface FixtureTensor {
  shape: number[];
  data: number[];
}

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

export const fromFixture = (f: FixtureTensor): tf.Tensor => tf.tensor(f.data, f.shape, 'float32');

export const toHost = (f: FixtureTensor): HostTensor => ({ shape: f.shape, data: Float32Array.from(f.data) });

/** Element-wise closeness (see tools/test-utils.ts), with this package's default tolerances. */
export const expectClose = (
  actual: tf.Tensor | ArrayLike<number>,
  expected: tf.Tensor | ArrayLike<number>,
  rtol = 1e-4,
  atol = 1e-5,
  what = '',
) =>
  sharedExpectClose(actual, expected instanceof tf.Tensor ? expected.dataSync() : expected, rtol, atol, what);

/** Max |x| over a tensor. */
export const maxAbs = (x: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(x)).dataSync()[0]);

/** A seeded normal tensor (test inputs). */
export function randn(shape: number[], seed: number, std = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tidy(() => tf.mul(tf.tensor(new Rng(seed).fill(n, 'normal'), shape, 'float32'), std));
}

/**
 * Sum of scalars as a chain of adds. Not tf.addN: its gradient calls Tensor.clone, which throws
 * when tfjs-core's side effects did not run in the copy that made the engine (see the report).
 */
export function sumAll(xs: tf.Tensor[]): tf.Tensor {
  return xs.map((x) => tf.reshape(x, [])).reduce((a, b) => tf.add(a, b));
}

/**
 * Gives every trainable parameter a random value of order one (LayerNorm gains near 1), so that
 * symbols differ between rows and steps and numerical tests are not dominated by tiny initial weights.
 */
export function randomizeParams(store: ParamStore, seed: number, std = 0.5): void {
  const rng = new Rng(seed);
  const trainable = new Set(store.trainable());
  for (const name of store.names()) {
    const v = store.get(name);
    if (!trainable.has(v)) continue;
    const isGain = /norm\d?\.weight$/.test(name);
    const data = rng.fill(v.size, 'normal').map((x) => (isGain ? 1 + 0.2 * x : std * x));
    tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
  }
}

/** DINO-style cross-entropy −Σ p log softmax(s / τ), averaged over the batch. */
export function dinoCrossEntropy(projection: tf.Tensor, target: tf.Tensor, tau = 0.1): tf.Tensor {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(tf.div(projection, tau))), -1))));
}

/**
 * The small student the decoder tests build: teacher tokens of `teacherDim`, width 32, 2 heads, 16
 * symbols, sequences of up to 4, one layer each side, projector out 16; `decoder` adds decoder options.
 */
export const tinyStudentConfig = (
  teacherDim: number,
  discretizer: StudentConfigInput['discretizer'] = {},
  decoder: Partial<NonNullable<StudentConfigInput['decoder']>> = {},
): StudentConfigInput => ({
  teacherDim,
  dModel: 32,
  heads: 2,
  vocabSize: 16,
  maxLength: 4,
  lengths: [1, 2, 4],
  decoder: { layers: 1, mlpRatio: 2, ...decoder },
  encoder: { layers: 1, mlpRatio: 2 },
  projector: { hiddenDim: 64, bottleneckDim: 32, outDim: 16 },
  discretizer,
});
