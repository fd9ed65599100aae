import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type HostTensor, readSafetensors, type SafetensorsFile } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))));
}

export function fixture(name: string): SafetensorsFile {
  return readSafetensors(fixtureBytes(name), name);
}

/** Asserts max |actual − expected| ≤ rtol · max |expected| (relative to the tensor's scale), and equal shapes. */
export function expectClose(
  actual: tf.Tensor | HostTensor,
  expected: HostTensor,
  rtol = 1e-4,
  what = '',
): void {
  const shape = actual instanceof tf.Tensor ? actual.shape : actual.shape;
  expect(shape, `${what} shape`).toEqual(expected.shape);
  const a = actual instanceof tf.Tensor ? (actual.dataSync() as Float32Array) : actual.data;
  let scale = 0;
  let err = 0;
  for (let i = 0; i < expected.data.length; i++) {
    scale = Math.max(scale, Math.abs(expected.data[i]));
    err = Math.max(err, Math.abs(a[i] - expected.data[i]));
  }
  expect(scale, `${what} reference is all zeros`).toBeGreaterThan(0);
  expect(err / scale, `${what}: max error ${err} at scale ${scale}`).toBeLessThanOrEqual(rtol);
}

export function toTensor(t: HostTensor): tf.Tensor {
  return tf.tensor(t.data, t.shape, 'float32');
}
