import { DinoLoss, LossReadback, MultiLengthLoss } from '@symseq/loss';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, loadFixture, type MultiLengthScenario, toTensor } from './helpers';

const fixture = loadFixture();

function check(s: MultiLengthScenario, multi: MultiLengthLoss): void {
  const c = s.config;
  expectClose(Array.from(multi.weights), c.resolvedWeights, 1e-12, 0);
  const dino = new DinoLoss({
    outDim: c.outDim,
    studentTemp: c.studentTemp,
    teacherTemp: c.teacherTemp,
    warmupTeacherTemp: c.warmupTeacherTemp,
    warmupTeacherTempSteps: c.warmupTeacherTempSteps,
    centerMomentum: c.centerMomentum,
  });
  const readback = new LossReadback();
  for (const st of s.steps) {
    const students = c.lengths.map((l) => toTensor(st.students[String(l)]));
    const teacher = toTensor(st.teacher);
    const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => {
      const byLength = new Map(c.lengths.map((l, i) => [l, xs[i]] as [number, tf.Tensor]));
      const r = multi.dino(dino, byLength, teacher, st.step);
      readback.capture(r);
      return r.total;
    })(students);
    // the readback survives valueAndGrads' tidy and reports the same numbers as torch
    const logged = readback.readSync();
    expect(readback.hasPending).toBe(false);
    expectClose(value.dataSync()[0], st.total, 1e-5, 1e-5);
    expectClose(logged.total, st.total, 1e-5, 1e-5);
    expect(
      Object.keys(logged.perLength)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual(c.lengths);
    for (const l of c.lengths) expectClose(logged.perLength[l], st.perLength[String(l)], 1e-5, 1e-5);
    c.lengths.forEach((l, i) => {
      expectClose(grads[i].dataSync(), st.gradStudents[String(l)].data, 1e-6, 1e-4);
    });
    expectClose(dino.getCenter().data, st.centerAfter.data, 1e-6, 1e-5);
    tf.dispose([...students, teacher, value, ...grads]);
  }
  dino.dispose();
}

describe('MultiLengthLoss with DINO targets against torch', () => {
  it('default: equal weights 1/4 over lengths 1, 2, 4, 8 (the mean of the terms)', () => {
    const multi = new MultiLengthLoss();
    expect(multi.lengths).toEqual([1, 2, 4, 8]);
    expect(multi.weights).toEqual([0.25, 0.25, 0.25, 0.25]);
    check(fixture.multiLengthDefault, multi);
  });

  it('weights used as given', () => {
    const multi = new MultiLengthLoss({ weights: [0.4, 0.3, 0.2, 0.1] });
    expect(multi.weightOf(4)).toBe(0.2);
    check(fixture.multiLengthGiven, multi);
  });

  it('weights normalised to sum 1', () => {
    const multi = new MultiLengthLoss({ weights: [2, 1, 1, 4], normalizeWeights: true });
    expect(multi.weights).toEqual([0.25, 0.125, 0.125, 0.5]);
    check(fixture.multiLengthNormalized, multi);
  });
});

describe('MultiLengthLoss.aggregate', () => {
  it('weights arbitrary per-length criteria and accepts a plain object keyed by length', () => {
    const multi = new MultiLengthLoss({ lengths: [3, 1], weights: [2, 0.5] });
    // criterion: the student "output" is just a number; loss_l = output² so the total is known by hand
    const r = multi.aggregate({ 1: 3, 3: 2 }, (x) => tf.scalar(x * x));
    expect(r.total.dataSync()[0]).toBeCloseTo(2 * 4 + 0.5 * 9, 5);
    expect(r.perLength[1].dataSync()[0]).toBe(9);
    expect(r.perLength[3].dataSync()[0]).toBe(4);
    tf.dispose([r.total, r.perLength[1], r.perLength[3]]);
  });

  it('LossReadback reads asynchronously, carries extra scalars and frees its tensor', async () => {
    const readback = new LossReadback();
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const r = new MultiLengthLoss({ lengths: [1, 2] }).aggregate({ 1: 1, 2: 3 }, (x) => tf.scalar(x));
      readback.capture(r, { usage: tf.scalar(-0.5) });
    });
    expect(tf.memory().numTensors).toBe(before + 1);
    const v = await readback.read();
    expect(v).toEqual({ total: 2, perLength: { 1: 1, 2: 3 }, extra: { usage: -0.5 } });
    expect(tf.memory().numTensors).toBe(before);
  });
});
