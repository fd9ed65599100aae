import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { gelu, LayerNorm, MultiHeadAttention, matMul, ParamStore, Rng } from '../src';
import { expectClose, type FixtureTensor, fixture, fromFixture } from './helpers';

type Mha = {
  x: FixtureTensor;
  context: FixtureTensor | null;
  params: Record<string, { weight: FixtureTensor; bias: FixtureTensor }>;
  y: FixtureTensor;
  probs: FixtureTensor;
  lossWeight: FixtureTensor;
  gradX: FixtureTensor;
  gradContext: FixtureTensor | null;
};
type Pair = {
  x: FixtureTensor;
  weight: FixtureTensor;
  bias: FixtureTensor;
  y: FixtureTensor;
  gradX: FixtureTensor;
};
const fx = fixture<{
  layerNorm: Pair;
  gelu: { x: FixtureTensor; y: FixtureTensor; grad: FixtureTensor };
  selfCausal: Mha;
  cross: Mha;
}>('layers.json');

/** torch Linear weight [out, in] → ours [in, out] */
const torchLinear = (w: FixtureTensor) => tf.transpose(fromFixture(w));

function buildMha(f: Mha): MultiHeadAttention {
  const store = new ParamStore(new Rng(0));
  const dim = f.x.shape[2];
  const kvDim = f.context ? f.context.shape[2] : dim;
  const mha = new MultiHeadAttention(store.scope('attn'), { dim, heads: 2, kvDim });
  for (const name of ['q', 'k', 'v', 'proj'] as const) {
    mha[name].weight.assign(torchLinear(f.params[name].weight));
    mha[name].bias!.assign(fromFixture(f.params[name].bias));
  }
  return mha;
}

describe('layers against PyTorch', () => {
  test('LayerNorm forward and gradient', () => {
    const f = fx.layerNorm;
    const ln = new LayerNorm(new ParamStore(new Rng(0)).scope('ln'), 8, 1e-6);
    ln.weight.assign(fromFixture(f.weight));
    ln.bias.assign(fromFixture(f.bias));
    const x = fromFixture(f.x);
    expectClose(ln.apply(x), f.y.data);
    const w = tf.linspace(-1, 1, 8);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(ln.apply(v), w)))(x);
    expectClose(g, f.gradX.data, 1e-3);
  });

  test('exact GELU and its gradient', () => {
    const x = fromFixture(fx.gelu.x);
    expectClose(gelu(x), fx.gelu.y.data, 1e-5, 1e-6);
    expectClose(tf.grad((v: tf.Tensor) => tf.sum(gelu(v)))(x), fx.gelu.grad.data, 1e-4);
  });

  test('causal self-attention: output, probabilities, input gradient', () => {
    const f = fx.selfCausal as Mha;
    const mha = buildMha(f);
    const x = fromFixture(f.x);
    const { out, probs } = mha.apply(x, { causal: true, returnProbs: true });
    expectClose(out, f.y.data);
    expectClose(probs!, f.probs.data, 1e-4, 1e-6);
    const g = tf.grad((v: tf.Tensor) =>
      tf.sum(tf.mul(mha.apply(v, { causal: true }).out, fromFixture(f.lossWeight))),
    )(x);
    expectClose(g, f.gradX.data, 1e-3);
  });

  test('cross-attention with a wider context: output and both gradients', () => {
    const f = fx.cross as Mha;
    const mha = buildMha(f);
    const x = fromFixture(f.x);
    const ctx = fromFixture(f.context!);
    const { out, probs } = mha.apply(x, { context: ctx, returnProbs: true });
    expectClose(out, f.y.data);
    expectClose(probs!, f.probs.data, 1e-4, 1e-6);
    const w = fromFixture(f.lossWeight);
    const [gx, gc] = tf.grads((a: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.mul(mha.apply(a, { context: c }).out, w)),
    )([x, ctx]);
    expectClose(gx, f.gradX.data, 1e-3);
    expectClose(gc, f.gradContext!.data, 1e-3);
  });

  test('cached self-attention equals full causal attention, one position at a time', () => {
    const f = fx.selfCausal as Mha;
    const mha = buildMha(f);
    const x = fromFixture(f.x);
    const T = x.shape[1] as number;
    let cache = null;
    const outs: tf.Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const r = mha.applyCached(tf.slice(x, [0, t, 0], [-1, 1, -1]), cache);
      cache = r.cache;
      outs.push(r.out);
    }
    expectClose(tf.concat(outs, 1), f.y.data);
    // A two-position block after a one-position cache uses the causal mask inside the block.
    const first = mha.applyCached(tf.slice(x, [0, 0, 0], [-1, 1, -1]), null);
    const rest = mha.applyCached(tf.slice(x, [0, 1, 0], [-1, T - 1, -1]), first.cache);
    expectClose(tf.concat([first.out, rest.out], 1), f.y.data);
  });
});

describe('matMul with explicit-transpose gradient', () => {
  test('values and gradients equal tf.matMul for rank 2 and batched rank 4', () => {
    const rng = new Rng(3);
    for (const [sa, sb] of [
      [
        [5, 7],
        [7, 3],
      ],
      [
        [2, 3, 4, 5],
        [2, 3, 5, 6],
      ],
    ]) {
      const a = tf.tensor(
        rng.fill(
          sa.reduce((p, q) => p * q),
          'normal',
        ),
        sa,
      );
      const b = tf.tensor(
        rng.fill(
          sb.reduce((p, q) => p * q),
          'normal',
        ),
        sb,
      );
      const w = tf.tensor(
        rng.fill(sa[sa.length - 2] * sb[sb.length - 1] * (sa.length === 4 ? 6 : 1), 'normal'),
      );
      const f = (mm: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor) => {
        const out = mm(x, y);
        return tf.sum(tf.mul(out, tf.reshape(w, out.shape)));
      };
      expectClose(matMul(a, b), tf.matMul(a, b).dataSync());
      const [ga, gb] = tf.grads(f(matMul))([a, b]);
      const [ra, rb] = tf.grads(f((x, y) => tf.matMul(x, y)))([a, b]);
      expectClose(ga, ra.dataSync());
      expectClose(gb, rb.dataSync());
    }
  });
});

test('attention rejects a dim not divisible by heads', () => {
  expect(() => new MultiHeadAttention(new ParamStore(new Rng(0)).scope('a'), { dim: 10, heads: 3 })).toThrow(
    /dim 10 is not divisible by heads 3/,
  );
});
