import { cosineFeatureLoss, FeatureRegressionLoss, mseFeatureLoss } from '@symseq/loss';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, loadFixture, toTensor } from './helpers';

const fixture = loadFixture();

describe('feature regression losses', () => {
  it('hand-computed cosine and MSE values', () => {
    // rows: orthogonal (1 − 0), parallel (1 − 1), [3,4]·[4,3] = 24 over 5·5 (1 − 0.96)
    const s = tf.tensor2d([
      [1, 0],
      [1, 1],
      [3, 4],
    ]);
    const t = tf.tensor2d([
      [0, 1],
      [2, 2],
      [4, 3],
    ]);
    const cos = new FeatureRegressionLoss().compute(s, t);
    expectClose(cos.dataSync()[0], (1 + 0 + 0.04) / 3, 1e-6, 1e-6);
    const mse = new FeatureRegressionLoss({ kind: 'mse' }).compute(s, t);
    // squared differences: 1+1, 1+1, 1+1 → 6 / 6 elements
    expectClose(mse.dataSync()[0], 1, 1e-6, 1e-6);
    tf.dispose([s, t, cos, mse]);
  });

  it('values and student gradients match torch; the teacher gets no gradient', () => {
    const f = fixture.featureRegression;
    const s = toTensor(f.student);
    const t = toTensor(f.teacher);
    const cos = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => cosineFeatureLoss(a, b))([s, t]);
    expectClose(cos.value.dataSync()[0], f.cosine.loss, 1e-6, 1e-5);
    expectClose(cos.grads[0].dataSync(), f.cosine.gradStudent.data, 1e-6, 1e-4);
    expect(Array.from(cos.grads[1].dataSync()).every((v) => v === 0)).toBe(true);
    const mse = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => mseFeatureLoss(a, b))([s, t]);
    expectClose(mse.value.dataSync()[0], f.mse.loss, 1e-6, 1e-5);
    expectClose(mse.grads[0].dataSync(), f.mse.gradStudent.data, 1e-6, 1e-4);
    expect(Array.from(mse.grads[1].dataSync()).every((v) => v === 0)).toBe(true);
    tf.dispose([s, t, cos.value, ...cos.grads, mse.value, ...mse.grads]);
  });

  it('a zero student vector gives a finite loss (eps floor) instead of NaN', () => {
    const s = tf.zeros([1, 3]);
    const t = tf.ones([1, 3]);
    const v = cosineFeatureLoss(s, t);
    expect(v.dataSync()[0]).toBe(1);
    tf.dispose([s, t, v]);
  });
});
