import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from './rng';

/** How a parameter is initialised: a pure function of its shape and the store's RNG. */
export type Initializer = (shape: number[], rng: Rng) => Float32Array;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export const zeros: Initializer = (shape) => new Float32Array(size(shape));

export const ones: Initializer = (shape) => new Float32Array(size(shape)).fill(1);

export const constant =
  (value: number): Initializer =>
  (shape) =>
    new Float32Array(size(shape)).fill(value);

export const normal =
  (std: number, mean = 0): Initializer =>
  (shape, rng) => {
    const out = rng.fill(size(shape), 'normal');
    for (let i = 0; i < out.length; i++) out[i] = mean + std * out[i];
    return out;
  };

/** Normal truncated to ±2 std by redrawing, as DINO/timm `trunc_normal_(std=.02)`. */
export const truncNormal =
  (std: number): Initializer =>
  (shape, rng) => {
    const out = new Float32Array(size(shape));
    for (let i = 0; i < out.length; i++) {
      let v = rng.normal();
      while (Math.abs(v) > 2) v = rng.normal();
      out[i] = v * std;
    }
    return out;
  };

export const uniform =
  (limit: number): Initializer =>
  (shape, rng) => {
    const out = new Float32Array(size(shape));
    for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * limit;
    return out;
  };

/** Glorot/Xavier uniform for a [fanIn, fanOut] matrix. */
export const xavierUniform: Initializer = (shape, rng) => {
  const fanIn = shape.length > 1 ? size(shape.slice(0, -1)) : shape[0];
  const fanOut = shape[shape.length - 1];
  return uniform(Math.sqrt(6 / (fanIn + fanOut)))(shape, rng);
};

/** Materialises an initializer as a tensor (used by tests and by code outside a ParamStore). */
export function initTensor(init: Initializer, shape: number[], rng: Rng): tf.Tensor {
  return tf.tensor(init(shape, rng), shape, 'float32');
}
