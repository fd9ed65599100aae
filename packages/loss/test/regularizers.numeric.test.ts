import { infoMaxLoss, SymbolRegularizer, symbolEntropies, usageLoss } from '@symseq/loss';
import { Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, finiteDifferences, loadFixture, toTensor } from './helpers';

const fixture = loadFixture();
const LN2 = Math.log(2);

function scalarOf(t: tf.Scalar): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

describe('symbol regularisers: hand-computed values', () => {
  it('two samples using different symbols: marginal entropy ln 2, per-sample 0', () => {
    // [B=2, L=1, V=2] probabilities with exact zeros (hard one-hots)
    const p = tf.tensor3d([[[1, 0]], [[0, 1]]]);
    const e = symbolEntropies(p, { input: 'probs' });
    expectClose(scalarOf(e.marginal), LN2, 1e-6, 0);
    expectClose(scalarOf(e.perSample), 0, 1e-6, 0);
    expectClose(scalarOf(usageLoss(p, { input: 'probs' })), -LN2, 1e-6, 0);
    expectClose(scalarOf(infoMaxLoss(p, { input: 'probs' })), -LN2, 1e-6, 0);
    p.dispose();
  });

  it('per-position entropies are averaged over positions', () => {
    // position 0: samples [0.5, 0.5] and [1, 0] → marginal [0.75, 0.25]; position 1: both [1, 0] → marginal [1, 0]
    const p = tf.tensor3d([
      [
        [0.5, 0.5],
        [1, 0],
      ],
      [
        [1, 0],
        [1, 0],
      ],
    ]);
    const hMarg0 = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
    const marginal = (hMarg0 + 0) / 2;
    const perSample = (LN2 + 0 + 0 + 0) / 4;
    const reg = new SymbolRegularizer({ usageWeight: 0.3, infoMaxWeight: 2, input: 'probs' });
    const r = reg.compute(p);
    expectClose(scalarOf(r.usage), -marginal, 1e-6, 0);
    expectClose(scalarOf(r.infoMax), perSample - marginal, 1e-6, 0);
    expectClose(scalarOf(r.total), 0.3 * -marginal + 2 * (perSample - marginal), 1e-6, 0);
    p.dispose();
  });

  it('equal logits everywhere: both entropies are ln V; [B, V] input counts as one position', () => {
    const logits = tf.zeros([3, 5]);
    const e = symbolEntropies(logits);
    expectClose(scalarOf(e.marginal), Math.log(5), 1e-6, 0);
    expectClose(scalarOf(e.perSample), Math.log(5), 1e-6, 0);
    logits.dispose();
  });
});

describe('symbol regularisers against torch and finite differences', () => {
  it('values and logit gradients match the torch fixture', () => {
    const r = fixture.regularizers;
    const logits = toTensor(r.logits);
    const e = symbolEntropies(logits);
    expectClose(scalarOf(e.marginal), r.marginalEntropy, 1e-6, 1e-5);
    expectClose(scalarOf(e.perSample), r.sampleEntropy, 1e-6, 1e-5);
    const gu = tf.grad((x: tf.Tensor) => usageLoss(x))(logits);
    const gi = tf.grad((x: tf.Tensor) => infoMaxLoss(x))(logits);
    expectClose(gu.dataSync(), r.gradUsageLogits.data, 1e-6, 1e-4);
    expectClose(gi.dataSync(), r.gradInfoMaxLogits.data, 1e-6, 1e-4);
    tf.dispose([logits, gu, gi]);
  });

  it('gradients of the weighted total match finite differences, from logits and from probabilities', () => {
    const rng = new Rng(7);
    const shape = [4, 2, 3];
    const x = new Float32Array(24).map(() => rng.normal());
    const fromLogits = new SymbolRegularizer({ usageWeight: 0.7, infoMaxWeight: 1.3 });
    const totalLogits = (t: tf.Tensor) => {
      const r = fromLogits.compute(t);
      tf.dispose([r.usage, r.infoMax]);
      return r.total;
    };
    const g = tf.tidy(() => tf.grad(totalLogits)(tf.tensor(x, shape)).dataSync());
    expectClose(g, finiteDifferences(totalLogits, x, shape, 1e-2), 2e-3, 1e-2);

    // probabilities well inside (0, 1) so the eps floor is inactive; perturbations leave the simplex,
    // which is fine: the formula is differentiated as a function of every entry
    const probs = tf.tidy(() => tf.softmax(tf.tensor(x, shape), -1).dataSync() as Float32Array);
    const fromProbs = new SymbolRegularizer({ usageWeight: 0.7, infoMaxWeight: 1.3, input: 'probs' });
    const totalProbs = (t: tf.Tensor) => {
      const r = fromProbs.compute(t);
      tf.dispose([r.usage, r.infoMax]);
      return r.total;
    };
    const gp = tf.tidy(() => tf.grad(totalProbs)(tf.tensor(probs, shape)).dataSync());
    expectClose(gp, finiteDifferences(totalProbs, probs, shape, 1e-3), 5e-3, 1e-2);
    // the gradient is not trivially zero
    expect(Math.max(...Array.from(g).map(Math.abs))).toBeGreaterThan(0.01);
  });
});
