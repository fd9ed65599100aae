import { DinoLoss, softCrossEntropy } from '@symseq/loss';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { type DinoScenario, expectClose, loadFixture, toTensor } from './helpers';

const fixture = loadFixture();

function makeLoss(s: DinoScenario): DinoLoss {
  const c = s.config;
  return new DinoLoss({
    outDim: c.outDim,
    studentTemp: c.studentTemp,
    teacherTemp: c.teacherTemp,
    warmupTeacherTemp: c.warmupTeacherTemp,
    warmupTeacherTempSteps: c.warmupTeacherTempSteps,
    centerMomentum: c.centerMomentum,
  });
}

/** Runs every step of a torch scenario through forwardViews and checks loss, gradient and centre. */
function checkScenario(s: DinoScenario, pairing: 'cross' | 'same'): void {
  const loss = makeLoss(s);
  for (const st of s.steps) {
    expect(loss.teacherTemperature(st.step)).toBeCloseTo(st.teacherTemp, 12);
    const student = toTensor(st.studentViews);
    const teacher = toTensor(st.teacherViews);
    const sViews = tf.split(student, s.config.studentViews, 0);
    const tViews = tf.split(teacher, s.config.teacherViews, 0);
    const { value, grads } = tf.valueAndGrads((...views: tf.Tensor[]) =>
      loss.forwardViews(views, tViews, st.step, pairing),
    )(sViews);
    expectClose(value.dataSync()[0], st.loss, 1e-5, 1e-5);
    const grad = tf.concat(grads, 0);
    expectClose(grad.dataSync(), st.gradStudent.data, 1e-6, 1e-4);
    expectClose(loss.getCenter().data, st.centerAfter.data, 1e-6, 1e-5);
    tf.dispose([student, teacher, ...sViews, ...tViews, value, ...grads, grad]);
  }
  loss.dispose();
}

describe('DinoLoss against facebookresearch/dino (torch fixture)', () => {
  it('multi-crop cross-view loss, gradients and EMA centre over 6 steps incl. temperature warm-up', () => {
    const s = fixture.dinoMultiCrop;
    // the fixture really covers the warm-up and the centre actually moves
    expect(s.steps.map((x) => x.teacherTemp).slice(0, 3)).toEqual(
      [0.04, 0.055, 0.07].map((v) => expect.closeTo(v, 12)),
    );
    expect(Math.max(...s.steps[2].centerAfter.data.map(Math.abs))).toBeGreaterThan(0.05);
    checkScenario(s, 'cross');
  });

  it('same-view pairing', () => {
    checkScenario(fixture.dinoSameView, 'same');
  });

  it('single student/teacher pair via forward(), with non-default student temperature and momentum', () => {
    const s = fixture.dinoSinglePair;
    const loss = makeLoss(s);
    for (const st of s.steps) {
      const student = toTensor(st.studentViews);
      const teacher = toTensor(st.teacherViews);
      const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => loss.forward(x, teacher, st.step))(student);
      expectClose(value.dataSync()[0], st.loss, 1e-5, 1e-5);
      expectClose(grad.dataSync(), st.gradStudent.data, 1e-6, 1e-4);
      expectClose(loss.getCenter().data, st.centerAfter.data, 1e-6, 1e-5);
      tf.dispose([student, teacher, value, grad]);
    }
    loss.dispose();
  });

  it('a centre saved with getCenter and restored with setCenter reproduces the next step', () => {
    const s = fixture.dinoMultiCrop;
    const first = makeLoss(s);
    const run = (l: DinoLoss, i: number) => {
      const st = s.steps[i];
      return tf.tidy(() => {
        const v = l.forwardViews(
          tf.split(toTensor(st.studentViews), s.config.studentViews, 0),
          tf.split(toTensor(st.teacherViews), s.config.teacherViews, 0),
          st.step,
        );
        return v.dataSync()[0];
      });
    };
    run(first, 0);
    run(first, 1);
    const saved = first.getCenter();
    expect(saved.shape).toEqual([1, s.config.outDim]);
    const resumed = makeLoss(s);
    resumed.setCenter(saved);
    expectClose(run(resumed, 2), s.steps[2].loss, 1e-5, 1e-5);
    expectClose(resumed.getCenter().data, s.steps[2].centerAfter.data, 1e-6, 1e-5);
    // a fresh loss with a zero centre gives a different value at that step: the centre matters
    expect(Math.abs(run(makeLoss(s), 2) - s.steps[2].loss)).toBeGreaterThan(1e-3);
    first.dispose();
    resumed.dispose();
  });

  it('no gradient reaches the teacher logits, and the centre update is not part of the loss value', () => {
    const loss = new DinoLoss({ outDim: 4 });
    const student = tf.tensor2d([
      [0.3, -1, 2, 0.5],
      [1, 0, -0.5, 0.2],
    ]);
    const teacher = tf.tensor2d([
      [1, 2, 0, -1],
      [0.5, -0.5, 1.5, 0],
    ]);
    const g = tf.grad((t: tf.Tensor) => loss.forward(student, t, 0))(teacher);
    expect(Array.from(g.dataSync())).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    tf.dispose([student, teacher, g]);
    loss.dispose();
  });

  it('softCrossEntropy matches a hand computation', () => {
    // targets [1, 0] and [0.5, 0.5]; student logits [0, 0] and [ln 3, 0] at τ_s = 1
    const targets = tf.tensor2d([
      [1, 0],
      [0.5, 0.5],
    ]);
    const logits = tf.tensor2d([
      [0, 0],
      [Math.log(3), 0],
    ]);
    const v = softCrossEntropy(targets, logits, 1);
    // row 1: −log(1/2); row 2: −(0.5 log(3/4) + 0.5 log(1/4))
    const expected = (Math.log(2) + -(0.5 * Math.log(0.75) + 0.5 * Math.log(0.25))) / 2;
    expectClose(v.dataSync()[0], expected, 1e-6, 1e-6);
    tf.dispose([targets, logits, v]);
  });
});
