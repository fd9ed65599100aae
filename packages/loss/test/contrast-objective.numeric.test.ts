import { readFileSync } from 'node:fs';
import {
  ContrastObjective,
  contrastiveFeatureLoss,
  createObjective,
  expectedFirstSymbolContrast,
  OBJECTIVES,
} from '@symseq/loss';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, finiteDifferences, type HostJson, toTensor } from './helpers';

interface SingleCase {
  temperature: number;
  student: HostJson;
  teacher: HostJson;
  loss: number;
  gradStudent: HostJson;
}

interface ExpectedFirstCase {
  temperature: number;
  symbolProjections: HostJson;
  logits: HostJson;
  teacher: HostJson;
  loss: number;
  gradSymbolProjections: HostJson;
  gradLogits: HostJson;
}

/** Written by tools/reference/contrast_reference.py (PyTorch F.cross_entropy, float64). */
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/contrast_reference.json', import.meta.url), 'utf8'),
) as {
  tau01: SingleCase;
  tau05: SingleCase;
  expectedFirst: ExpectedFirstCase;
  expectedFirstTau05: ExpectedFirstCase;
  objectiveExactFirst: ExpectedFirstCase & {
    center: HostJson;
    student2: HostJson;
    len2: number;
    total: number;
    gradStudent2: HostJson;
    weights: number[];
  };
  objective: {
    temperature: number;
    lengths: number[];
    teacher: HostJson;
    students: Record<string, HostJson>;
    total: number;
    perLength: Record<string, number>;
    gradStudents: Record<string, HostJson>;
  };
};

describe('contrastiveFeatureLoss (symmetric in-batch InfoNCE)', () => {
  it('hand-computed: two orthonormal pairs at τ = 1 give log(1 + e) − 1 in both directions', () => {
    // logits = I: each row and column has its positive at 1 and one negative at 0.
    const s = tf.tensor2d([
      [2, 0],
      [0, 3],
    ]);
    const t = tf.tensor2d([
      [5, 0],
      [0, 0.5],
    ]);
    const v = contrastiveFeatureLoss(s, t, 1);
    expectClose(v.dataSync()[0], Math.log(1 + Math.E) - 1, 1e-6, 1e-6);
    // Rows swapped: every positive is at 0 and the negative at 1 → log(1 + e).
    const swapped = tf.tensor2d([
      [0, 3],
      [2, 0],
    ]);
    const w = contrastiveFeatureLoss(swapped, t, 1);
    expectClose(w.dataSync()[0], Math.log(1 + Math.E), 1e-6, 1e-6);
    tf.dispose([s, t, v, swapped, w]);
  });

  it('values and student gradients match torch at τ 0.1 and 0.5; the teacher gets no gradient', () => {
    for (const c of [fixture.tau01, fixture.tau05]) {
      const s = toTensor(c.student);
      const t = toTensor(c.teacher);
      const r = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => contrastiveFeatureLoss(a, b, c.temperature))(
        [s, t],
      );
      expectClose(r.value.dataSync()[0], c.loss, 1e-5, 1e-5);
      expectClose(r.grads[0].dataSync(), c.gradStudent.data, 1e-5, 1e-4);
      expect(Array.from(r.grads[1].dataSync()).every((g) => g === 0)).toBe(true);
      tf.dispose([s, t, r.value, ...r.grads]);
    }
  });

  it('the gradient matches central finite differences of the loss', () => {
    const c = fixture.tau05;
    const t = toTensor(c.teacher);
    const loss = (a: tf.Tensor) => contrastiveFeatureLoss(a, t, 0.5);
    const s = toTensor(c.student);
    const g = tf.grad(loss)(s);
    const fd = finiteDifferences(loss, Float32Array.from(c.student.data), c.student.shape, 3e-3);
    expectClose(g.dataSync(), fd, 5e-4, 1e-2);
    tf.dispose([s, t, g]);
  });

  it('refuses mismatched shapes and a non-positive temperature, naming what was expected', () => {
    const a = tf.zeros([3, 4]);
    const b = tf.zeros([3, 5]);
    expect(() => contrastiveFeatureLoss(a, b, 0.1)).toThrow(/shape \[3, 4\] does not match .*\[3, 5\]/);
    expect(() => contrastiveFeatureLoss(a, a, 0)).toThrow(/temperature must be > 0/);
    tf.dispose([a, b]);
  });
});

describe('the contrast objective', () => {
  it('is registered; mean over lengths and its gradients match torch; K = the pooled size', () => {
    expect(Object.keys(OBJECTIVES)).toContain('contrast');
    const f = fixture.objective;
    const o = createObjective(
      'contrast',
      { temperature: f.temperature },
      { lengths: f.lengths, pooledDim: f.teacher.shape[1] },
      { prototypes: 1024 },
    );
    expect(o).toBeInstanceOf(ContrastObjective);
    expect(o.outDim).toBe(f.teacher.shape[1]);
    const pooled = toTensor(f.teacher) as tf.Tensor2D;
    const students = f.lengths.map((l) => toTensor(f.students[String(l)]));
    const targets = o.targets({ pooled }, 0);
    const perLength: number[] = [];
    const r = tf.valueAndGrads((...xs: tf.Tensor[]) => {
      const res = o.loss(new Map(f.lengths.map((l, i) => [l, xs[i]])), targets);
      for (const l of f.lengths) perLength.push(res.perLength[l].dataSync()[0]);
      return res.total;
    })(students);
    expectClose(r.value.dataSync()[0], f.total, 1e-5, 1e-5);
    expectClose(
      perLength,
      f.lengths.map((l) => f.perLength[String(l)]),
      1e-5,
      1e-5,
    );
    f.lengths.forEach((l, i) => {
      expectClose(r.grads[i].dataSync(), f.gradStudents[String(l)].data, 1e-5, 1e-4);
    });
    expect(o.state()).toEqual({});
    o.dispose();
    tf.dispose([pooled, ...students, r.value, ...r.grads]);
  });

  it('defaults τ to 0.1 and refuses bad options by name', () => {
    expect(new ContrastObjective({}, { lengths: [1], pooledDim: 3 }).temperature).toBe(0.1);
    const ctx = { lengths: [1], pooledDim: 3 };
    expect(() => createObjective('contrast', { temperature: -1 }, ctx, { prototypes: 1 })).toThrow(
      /temperature/,
    );
    expect(() => createObjective('contrast', { temperture: 0.2 }, ctx, { prototypes: 1 })).toThrow(
      /temperture/,
    );
  });

  it('center: scores the targets minus the training mean; the mean is its state, and a resume needs it', () => {
    const f = fixture.objective;
    const D = f.teacher.shape[1];
    const mean = Float32Array.from({ length: D }, (_, c) => 0.3 + 0.1 * c);
    let asked = 0;
    const ctx = {
      lengths: f.lengths,
      pooledDim: D,
      pooledMean: () => {
        asked++;
        return mean;
      },
    };
    const o = createObjective('contrast', { temperature: f.temperature, center: true }, ctx, {
      prototypes: 1,
    });
    expect(asked).toBe(1);
    const pooled = toTensor(f.teacher) as tf.Tensor2D;
    const centred = tf.sub(pooled, tf.tensor1d(mean)) as tf.Tensor2D;
    const students = f.lengths.map((l) => toTensor(f.students[String(l)]));
    const got = o.loss(new Map(f.lengths.map((l, i) => [l, students[i]])), o.targets({ pooled }, 0));
    // The torch-checked loss of the hand-centred targets, averaged over lengths as the objective does.
    const want =
      students
        .map((s) => contrastiveFeatureLoss(s, centred, f.temperature).dataSync()[0])
        .reduce((a, b) => a + b) / students.length;
    expectClose(got.total.dataSync()[0], want, 1e-6, 1e-6);
    // Centring is not a no-op on these targets.
    expect(Math.abs(got.total.dataSync()[0] - f.total)).toBeGreaterThan(1e-3);
    const state = o.state();
    expect(Array.from((state.center as { data: Float32Array }).data)).toEqual(Array.from(mean));
    // A resumed objective takes the centre from its state and does not recompute it.
    const resumed = createObjective(
      'contrast',
      { temperature: f.temperature, center: true },
      { ...ctx, resume: state },
      { prototypes: 1 },
    );
    expect(asked).toBe(1);
    const again = resumed.loss(
      new Map(f.lengths.map((l, i) => [l, students[i]])),
      resumed.targets({ pooled }, 0),
    );
    expect(again.total.dataSync()[0]).toBe(got.total.dataSync()[0]);
    expect(() =>
      createObjective('contrast', { center: true }, { lengths: [1], pooledDim: D }, { prototypes: 1 }),
    ).toThrow('center needs the pooled mean');
    expect(() =>
      createObjective(
        'contrast',
        { center: true },
        { lengths: [1], pooledDim: D, resume: {} },
        { prototypes: 1 },
      ),
    ).toThrow("'center' is missing");
    expect(() =>
      createObjective(
        'contrast',
        { center: true },
        { lengths: [1], pooledDim: D, pooledMean: () => new Float32Array(D + 1) },
        { prototypes: 1 },
      ),
    ).toThrow(`must be ${D} finite values`);
    o.dispose();
    resumed.dispose();
    tf.dispose([pooled, centred, ...students, got.total, again.total]);
  });
});

describe('expectedFirstSymbolContrast (length 1 as an expectation over symbol 1)', () => {
  it('value and gradients (one-symbol projections, logits through softmax) match torch at τ 0.1 and 0.5', () => {
    for (const c of [fixture.expectedFirst, fixture.expectedFirstTau05]) {
      const e = toTensor(c.symbolProjections);
      const lg = toTensor(c.logits);
      const t = toTensor(c.teacher);
      const r = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
        expectedFirstSymbolContrast(a, tf.softmax(b), t, c.temperature),
      )([e, lg]);
      expectClose(r.value.dataSync()[0], c.loss, 1e-5, 1e-5);
      expectClose(r.grads[0].dataSync(), c.gradSymbolProjections.data, 1e-5, 1e-4);
      expectClose(r.grads[1].dataSync(), c.gradLogits.data, 1e-5, 1e-4);
      tf.dispose([e, lg, t, r.value, ...r.grads]);
    }
  });

  it('with one-hot probabilities it is the row direction of the InfoNCE of the written symbols', () => {
    const c = fixture.expectedFirst;
    const e = toTensor(c.symbolProjections);
    const t = toTensor(c.teacher);
    const [b, v] = c.logits.shape;
    const written = Array.from({ length: b }, (_, i) => (3 * i + 1) % v);
    const probs = tf.cast(tf.oneHot(tf.tensor1d(written, 'int32'), v), 'float32');
    const got = expectedFirstSymbolContrast(e, probs, t, c.temperature).dataSync()[0];
    // By hand: ℓ_i = logsumexp_j(ê_{c_i}·t̂_j / τ) − ê_{c_i}·t̂_i / τ, averaged over i.
    const unit = (x: number[]) => {
      const n = Math.hypot(...x);
      return x.map((y) => y / n);
    };
    const k = c.teacher.shape[1];
    const row = (data: number[], i: number) => data.slice(i * k, (i + 1) * k);
    const tu = Array.from({ length: b }, (_, j) => unit(row(c.teacher.data, j)));
    let want = 0;
    for (let i = 0; i < b; i++) {
      const ei = unit(row(c.symbolProjections.data, written[i]));
      const s = tu.map((tj) => tj.reduce((acc, x, d) => acc + x * ei[d], 0) / c.temperature);
      const m = Math.max(...s);
      want += m + Math.log(s.reduce((acc, x) => acc + Math.exp(x - m), 0)) - s[i];
    }
    expectClose(got, want / b, 1e-5, 1e-5);
    tf.dispose([e, t, probs]);
  });

  it('the gradient w.r.t. the logits matches central finite differences', () => {
    const c = fixture.expectedFirstTau05;
    const e = toTensor(c.symbolProjections);
    const t = toTensor(c.teacher);
    const loss = (a: tf.Tensor) => expectedFirstSymbolContrast(e, tf.softmax(a), t, 0.5);
    const lg = toTensor(c.logits);
    const g = tf.grad(loss)(lg);
    const fd = finiteDifferences(loss, Float32Array.from(c.logits.data), c.logits.shape, 3e-3);
    expectClose(g.dataSync(), fd, 5e-4, 1e-2);
    tf.dispose([e, t, lg, g]);
  });

  it('refuses mismatched shapes, naming what was expected', () => {
    const e = tf.zeros([5, 4]);
    const p = tf.zeros([3, 5]);
    const t = tf.zeros([3, 4]);
    expect(() => expectedFirstSymbolContrast(e, tf.zeros([3, 6]), t, 0.1)).toThrow(
      /probs \[3, 6\] must have one column per symbol \(5/,
    );
    expect(() => expectedFirstSymbolContrast(e, p, tf.zeros([2, 4]), 0.1)).toThrow(
      /teacher \[2, 4\] must be \[3, 4\]/,
    );
    expect(() => expectedFirstSymbolContrast(e, p, t, 0)).toThrow(/temperature must be > 0/);
    tf.dispose([e, p, t]);
  });

  it('the contrast objective with exactFirstSymbol and center: weighted total and gradients match torch', () => {
    const f = fixture.objectiveExactFirst;
    const D = f.teacher.shape[1];
    const mean = Float32Array.from(f.center.data);
    const o = createObjective(
      'contrast',
      { temperature: f.temperature, center: true, exactFirstSymbol: true },
      { lengths: [1, 2], weights: f.weights, pooledDim: D, pooledMean: () => mean },
      { prototypes: 1 },
    );
    expect(o.usesFirstSymbol).toBe(true);
    const pooled = toTensor(f.teacher) as tf.Tensor2D;
    const e = toTensor(f.symbolProjections);
    const lg = toTensor(f.logits);
    const s2 = toTensor(f.student2);
    // The straight-through length-1 projection is ignored: any tensor of the right shape.
    const ignored = tf.zeros([f.teacher.shape[0], D]);
    const targets = o.targets({ pooled }, 0);
    const r = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
      const res = o.loss(
        new Map([
          [1, ignored],
          [2, c],
        ]),
        targets,
        {
          projections: a as tf.Tensor2D,
          probs: tf.softmax(b) as tf.Tensor2D,
        },
      );
      expectClose(res.perLength[2].dataSync()[0], f.len2, 1e-5, 1e-5);
      return res.total;
    })([e, lg, s2]);
    expectClose(r.value.dataSync()[0], f.total, 1e-5, 1e-5);
    expectClose(
      r.grads[0].dataSync(),
      f.gradSymbolProjections.data.map((g) => 0.6 * g),
      1e-5,
      1e-4,
    );
    expectClose(
      r.grads[1].dataSync(),
      f.gradLogits.data.map((g) => 0.6 * g),
      1e-5,
      1e-4,
    );
    expectClose(r.grads[2].dataSync(), f.gradStudent2.data, 1e-5, 1e-4);
    expect(() =>
      o.loss(
        new Map([
          [1, ignored],
          [2, s2],
        ]),
        targets,
      ),
    ).toThrow(/exactFirstSymbol is on, so loss\(\) needs the first symbol's probabilities/);
    expect(() =>
      createObjective(
        'contrast',
        { exactFirstSymbol: true },
        { lengths: [2, 4], pooledDim: D },
        { prototypes: 1 },
      ),
    ).toThrow(/exactFirstSymbol scores prefix length 1, but the lengths are \[2, 4\]/);
    o.dispose();
    tf.dispose([pooled, e, lg, s2, ignored, r.value, ...r.grads]);
  });
});
