import {
  createObjective,
  DinoObjective,
  dinoObjectiveConfigSchema,
  FeaturesObjective,
  OBJECTIVES,
} from '@symseq/loss';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { expectClose } from './helpers';

// Small hand-checkable inputs: B = 2, D = 3, K = 2 prototypes.
const pooled = [
  [1, 2, 2],
  [0, 3, 4],
];
const head = [
  [1, 0, 0],
  [0, 0.6, 0.8],
];
const norm = (v: number[]) => Math.hypot(...v);
const softmax = (x: number[]) => {
  const m = Math.max(...x);
  const e = x.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('objectives', () => {
  test('features: mean over lengths of 1 − cos(student, pooled), computed by hand', () => {
    const o = new FeaturesObjective({}, { lengths: [1, 2], pooledDim: 3 });
    expect(o.outDim).toBe(3);
    const s1 = [
      [1, 0, 0],
      [0, 1, 0],
    ];
    const s2 = [
      [1, 2, 2],
      [0, 0, 1],
    ];
    const cos = (a: number[], b: number[]) => a.reduce((t, x, i) => t + x * b[i], 0) / (norm(a) * norm(b));
    const term = (s: number[][]) => (1 - cos(s[0], pooled[0]) + 1 - cos(s[1], pooled[1])) / 2;
    const p = tf.tensor2d(pooled);
    const t = o.targets({ pooled: p });
    const r = o.loss(
      new Map([
        [1, tf.tensor2d(s1)],
        [2, tf.tensor2d(s2)],
      ]),
      t,
    );
    expectClose(r.perLength[1].dataSync(), [term(s1)], 1e-6, 1e-6);
    expectClose(r.perLength[2].dataSync(), [term(s2)], 1e-6, 1e-6);
    expectClose(r.total.dataSync(), [(term(s1) + term(s2)) / 2], 1e-6, 1e-6);
    expect(o.state()).toEqual({});
    tf.dispose([p, r.total, ...Object.values(r.perLength)]);
  });

  test('dino: targets are softmax((cos(pooled, prototype) − centre) / τ_t); the centre follows by EMA; state round-trips', () => {
    const ctx = { lengths: [1], pooledDim: 3, prototypes: () => tf.tensor2d(head) };
    const o = new DinoObjective(
      dinoObjectiveConfigSchema.parse({ teacherTemp: 0.5, centerMomentum: 0.9 }),
      ctx,
      2,
    );
    const p = tf.tensor2d(pooled);
    const logits = pooled.map((v) => head.map((h) => v.reduce((t, x, i) => t + x * h[i], 0) / norm(v)));
    const t = o.targets({ pooled: p }, 0);
    expectClose(t.logits.dataSync(), logits.flat(), 1e-6, 1e-6);
    expectClose(
      t.probs.dataSync(),
      logits.flatMap((l) => softmax(l.map((x) => x / 0.5))),
      1e-6,
      1e-6,
    );
    // Cross-entropy at τ_s = 0.1 for a student output s, averaged over the batch.
    const s = [
      [0.2, -0.1],
      [0, 0.3],
    ];
    const probs = logits.map((l) => softmax(l.map((x) => x / 0.5)));
    const ce =
      s.reduce((acc, row, b) => {
        const q = softmax(row.map((x) => x / 0.1));
        return acc - probs[b].reduce((a, pk, k) => a + pk * Math.log(q[k]), 0);
      }, 0) / 2;
    const st = tf.tensor2d(s);
    const r = o.loss(new Map([[1, st]]), t);
    expectClose(r.total.dataSync(), [ce], 1e-5, 1e-6);
    o.update(t);
    const centre = [0, 1].map((k) => 0.1 * ((logits[0][k] + logits[1][k]) / 2));
    const saved = o.state();
    expectClose((saved.center as { data: Float32Array }).data, centre, 1e-6, 1e-7);
    // A new objective loaded from the state gives the same targets (with the saved head, no k-means needed).
    const again = new DinoObjective(
      dinoObjectiveConfigSchema.parse({ teacherTemp: 0.5 }),
      { lengths: [1], pooledDim: 3, resume: saved },
      2,
    );
    const t2 = again.targets({ pooled: p }, 0);
    const t3 = o.targets({ pooled: p }, 0);
    expect(Array.from(t2.probs.dataSync())).toEqual(Array.from(t3.probs.dataSync()));
    tf.dispose([p, st, r.total, ...Object.values(r.perLength)]);
    o.disposeTargets(t);
    again.disposeTargets(t2);
    o.disposeTargets(t3);
    o.dispose();
    again.dispose();
  });

  test('the registry builds each objective from its validated options; bad heads and states are named', () => {
    expect(Object.keys(OBJECTIVES).sort()).toEqual(['contrast', 'dino', 'features']);
    const f = createObjective('features', { kind: 'mse' }, { lengths: [1], pooledDim: 4 }, { prototypes: 8 });
    expect(f.kind).toBe('features');
    expect(() =>
      createObjective('features', { kind: 'l1' }, { lengths: [1], pooledDim: 4 }, { prototypes: 8 }),
    ).toThrow();
    expect(
      () =>
        new DinoObjective(
          dinoObjectiveConfigSchema.parse({}),
          { lengths: [1], pooledDim: 3, prototypes: () => tf.zeros([4, 3]) },
          2,
        ),
    ).toThrow('DinoObjective: teacher head is [4, 3], expected [2, 3] (prototypes × pooled size)');
    const d = createObjective(
      'dino',
      {},
      { lengths: [1], pooledDim: 3, prototypes: () => tf.tensor2d(head) },
      { prototypes: 2 },
    );
    expect(() => d.load({}, 'ckpt objective')).toThrow("ckpt objective: 'center' is missing or not a tensor");
    d.dispose();
  });
});
