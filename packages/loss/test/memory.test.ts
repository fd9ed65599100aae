import {
  DinoLoss,
  FeatureRegressionLoss,
  LossReadback,
  MultiLengthLoss,
  SymbolRegularizer,
} from '@symseq/loss';
import { matMul, Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

describe('memory', () => {
  it('numTensors stays flat over 200 training-style steps (DINO multi-length + views + regulariser + readback)', async () => {
    const rng = new Rng(3);
    const B = 4;
    const K = 16;
    const V = 8;
    const lengths = [1, 2, 4, 8];
    const w = tf.variable(
      tf.tensor2d(
        new Float32Array(K * K).map(() => rng.normal() * 0.1),
        [K, K],
      ),
    );
    const head = tf.variable(
      tf.tensor2d(
        new Float32Array(K * V).map(() => rng.normal() * 0.1),
        [K, V],
      ),
    );
    const dino = new DinoLoss({ outDim: K, teacherTemp: 0.07, warmupTeacherTempSteps: 10 });
    const multi = new MultiLengthLoss({ lengths });
    const features = new FeatureRegressionLoss({ kind: 'cosine' });
    const reg = new SymbolRegularizer({ usageWeight: 0.1, infoMaxWeight: 0.1 });
    const readback = new LossReadback();
    const inputs = lengths.map((l) =>
      tf.tensor2d(
        new Float32Array(B * K).map(() => rng.normal() + l),
        [B, K],
      ),
    );
    const teacher = tf.tensor2d(
      new Float32Array(B * K).map(() => rng.normal()),
      [B, K],
    );
    const teacher2 = tf.tensor2d(
      new Float32Array(B * K).map(() => rng.normal()),
      [B, K],
    );

    const step = async (i: number) => {
      const { value, grads } = tf.variableGrads(() => {
        const byLength = new Map(lengths.map((l, j) => [l, matMul(inputs[j], w)] as [number, tf.Tensor]));
        const r = multi.dino(dino, byLength, teacher, i);
        const views = dino.forwardViews(
          [byLength.get(1) as tf.Tensor, byLength.get(2) as tf.Tensor],
          [teacher, teacher2],
          i,
          'cross',
        );
        const f = features.compute(byLength.get(8) as tf.Tensor, teacher);
        const symbols = tf.reshape(matMul(tf.concat(inputs, 0), head), [B, lengths.length, V]);
        const rr = reg.compute(symbols);
        readback.capture(r, { views, usage: rr.usage });
        return tf.add(tf.add(r.total, views), tf.add(f, rr.total)) as tf.Scalar;
      });
      const logged = await readback.read();
      expect(Number.isFinite(logged.total)).toBe(true);
      tf.dispose([value, ...Object.values(grads)]);
    };

    for (let i = 0; i < 5; i++) await step(i);
    const baseline = tf.memory().numTensors;
    for (let i = 5; i < 200; i++) await step(i);
    expect(tf.memory().numTensors).toBe(baseline);
    // the centre moved: the state really was updated every step
    expect(Math.max(...Array.from(dino.getCenter().data).map(Math.abs))).toBeGreaterThan(0.1);
    dino.dispose();
    tf.dispose([w, head, ...inputs, teacher, teacher2]);
  });
});
