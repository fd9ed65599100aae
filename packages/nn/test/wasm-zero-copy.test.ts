import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  gelu,
  installWasmZeroCopyKernels,
  LayerNorm,
  Linear,
  ParamStore,
  Rng,
  uninstallWasmZeroCopyKernels,
} from '../src';

// The wasm project only: the kernels replaced are the wasm backend's.
const onWasm = (process.env.SYMSEQ_BACKEND ?? 'wasm') === 'wasm';

/** Loss and gradients of a small pre-norm MLP block (LayerNorm, Linear, GELU, products): every kernel the tape clones through. */
function gradStep(seed: number): { loss: Float32Array; grads: Float32Array[] } {
  return tf.tidy(() => {
    const store = new ParamStore(new Rng(seed));
    const norm = new LayerNorm(store.scope('norm'), 24);
    const fc1 = new Linear(store.scope('fc1'), 24, 48);
    const fc2 = new Linear(store.scope('fc2'), 48, 24);
    const x = tf.randomNormal([32, 24], 0, 1, 'float32', seed) as tf.Tensor2D;
    const vars = store.trainable();
    const { value, grads } = tf.variableGrads(() => {
      const h = fc2.apply(gelu(fc1.apply(norm.apply(x))));
      const y = tf.add(x, tf.mul(h, tf.cast(tf.greater(x, -3), 'float32')));
      return tf.mean(tf.square(tf.cast(y, 'float32'))) as tf.Scalar;
    }, vars);
    const out = {
      loss: value.dataSync() as Float32Array,
      grads: vars.map((v) => grads[v.name].dataSync() as Float32Array),
    };
    store.dispose();
    return out;
  });
}

describe.runIf(onWasm)('installWasmZeroCopyKernels (wasm)', () => {
  afterAll(() => {
    installWasmZeroCopyKernels();
  });

  it('gives bit-identical losses and gradients to tfjs-wasm’s copying kernels, and frees every buffer', () => {
    uninstallWasmZeroCopyKernels();
    const before = tf.memory().numDataBuffers;
    const copying = gradStep(3);
    expect(tf.memory().numDataBuffers).toBe(before);
    expect(installWasmZeroCopyKernels()).toBe(true);
    const sharing = gradStep(3);
    expect(tf.memory().numDataBuffers).toBe(before);
    expect(Array.from(sharing.loss)).toEqual(Array.from(copying.loss));
    expect(sharing.grads.length).toBe(copying.grads.length);
    sharing.grads.forEach((g, i) => {
      expect(Array.from(g)).toEqual(Array.from(copying.grads[i]));
    });
    expect(copying.grads.some((g) => g.some((v) => v !== 0))).toBe(true);
  });

  it('a clone shares its source’s buffer and outlives it; uninstall restores the copy', () => {
    installWasmZeroCopyKernels();
    const x = tf.tensor1d([1.5, -2, 3]);
    const buffers = tf.memory().numDataBuffers;
    const c = tf.clone(x);
    expect(c.dataId).toBe(x.dataId);
    expect(tf.memory().numDataBuffers).toBe(buffers);
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual([1.5, -2, 3]);
    c.dispose();
    expect(tf.memory().numDataBuffers).toBe(buffers - 1);

    uninstallWasmZeroCopyKernels();
    const y = tf.tensor1d([4, 5]);
    const d = tf.clone(y);
    expect(d.dataId).not.toBe(y.dataId);
    tf.dispose([y, d]);
    installWasmZeroCopyKernels();
  });

  it('a clone of a variable keeps the old values when the variable is assigned', () => {
    installWasmZeroCopyKernels();
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const c = tf.clone(v);
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([v, c]);
  });

  it('a cast to the same dtype shares; a cast to another dtype still converts', () => {
    installWasmZeroCopyKernels();
    const f = tf.tensor1d([1.7, -2.2, 0.5]);
    const same = tf.cast(f, 'float32');
    expect(same.dataId).toBe(f.dataId);
    const i = tf.cast(f, 'int32');
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.dataSync())).toEqual([1, -2, 0]);
    const back = tf.cast(tf.tensor1d([3, -4], 'int32'), 'float32');
    expect(back.dtype).toBe('float32');
    expect(Array.from(back.dataSync())).toEqual([3, -4]);
    // Other dtype changes run tfjs' own kernel: the same values as without the install (for bool that is
    // tfjs-wasm 4.22's raw byte copy, [0, 2, 255] here, not [0, 1, 1]: nothing in symseq casts to bool).
    const src = tf.tensor1d([0, 2, -1]);
    const b = tf.cast(src, 'bool');
    uninstallWasmZeroCopyKernels();
    const bStock = tf.cast(src, 'bool');
    installWasmZeroCopyKernels();
    expect(Array.from(b.dataSync())).toEqual(Array.from(bStock.dataSync()));
    tf.dispose([src, bStock]);
    const sameInt = tf.cast(i, 'int32');
    expect(sameInt.dataId).toBe(i.dataId);
    tf.dispose([f, same, i, back, b, sameInt]);
  });

  it('keeps tensors and buffers flat over repeated gradient steps', () => {
    installWasmZeroCopyKernels();
    gradStep(1);
    const tensors = tf.memory().numTensors;
    const buffers = tf.memory().numDataBuffers;
    for (let s = 0; s < 20; s++) gradStep(1);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.memory().numDataBuffers).toBe(buffers);
  });

  it('is idempotent', () => {
    expect(installWasmZeroCopyKernels()).toBe(true);
    expect(installWasmZeroCopyKernels()).toBe(true);
    const x = tf.tensor1d([1]);
    const c = tf.clone(x);
    expect(c.dataId).toBe(x.dataId);
    tf.dispose([x, c]);
  });
});
