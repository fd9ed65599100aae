// The Discretizer contract every class keeps: `emits` says what `output` is, and `lookup(ids)` gives
// what `discretize` emits in inference mode for those ids (so a consumer can re-embed given symbols).
import { ParamStore, Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { type Discretizer, FSQ, GumbelSoftmax, TemperatureSoftmax, VectorQuantizer } from '../src';

const store = new ParamStore(new Rng(3));
const cases: { name: string; make: () => Discretizer; emits: Discretizer['emits'] }[] = [
  { name: 'TemperatureSoftmax', make: () => new TemperatureSoftmax({ numCodes: 6 }), emits: 'one-hot' },
  { name: 'GumbelSoftmax', make: () => new GumbelSoftmax({ numCodes: 6, seed: 1 }), emits: 'one-hot' },
  {
    name: 'VectorQuantizer',
    make: () => new VectorQuantizer(store.scope('vq'), { dim: 4, codebookSize: 6 }),
    emits: 'vector',
  },
  { name: 'FSQ', make: () => new FSQ({ levels: [3, 4], dim: 5 }, store.scope('fsq')), emits: 'vector' },
];

test.each(cases)('$name: emits $emits, and lookup(ids) equals the inference output', ({ make, emits }) => {
  const d = make();
  expect(d.emits).toBe(emits);
  if (emits === 'one-hot') expect(d.outputDim).toBe(d.numCodes);
  const x = tf.tensor(new Rng(9).fill(2 * 5 * d.inputDim, 'normal'), [2, 5, d.inputDim]);
  const out = d.discretize(x, { mode: 'inference' });
  const again = d.lookup(out.indices as tf.Tensor);
  expect(again.shape).toEqual([2, 5, d.outputDim]);
  const a = again.dataSync();
  const b = out.output.dataSync();
  for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 6);
  if (emits === 'one-hot') {
    // Hard one-hots: exactly one 1 per row, at the index.
    const idx = out.indices.dataSync();
    for (let r = 0; r < idx.length; r++) {
      for (let k = 0; k < d.numCodes; k++) expect(a[r * d.numCodes + k]).toBe(k === idx[r] ? 1 : 0);
    }
  }
  expect(() => d.lookup(tf.zeros([2]))).toThrow(/^\w+\.\w+: indices must be int32, got float32$/);
  tf.dispose([x, out.indices, out.output, out.auxLoss, again]);
  d.dispose();
});
