import {
  DinoLoss,
  FeatureRegressionLoss,
  LossReadback,
  MultiLengthLoss,
  SymbolRegularizer,
  softCrossEntropy,
  teacherTemperatureAt,
  viewPairs,
} from '@symseq/loss';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';

const made: tf.Tensor[] = [];
const z = (shape: number[]) => {
  const t = tf.zeros(shape);
  made.push(t);
  return t;
};
afterEach(() => {
  tf.dispose(made.splice(0));
});

describe('config validation', () => {
  it('DinoLoss names the bad field', () => {
    expect(() => new DinoLoss({ outDim: 0 })).toThrow(/invalid DinoLoss config:\n {2}outDim:/);
    expect(() => new DinoLoss({ outDim: 4, studentTemp: 0 })).toThrow(/studentTemp:/);
    expect(() => new DinoLoss({ outDim: 4, teacherTemp: -0.04 })).toThrow(/teacherTemp:/);
    expect(() => new DinoLoss({ outDim: 4, warmupTeacherTemp: 0 })).toThrow(/warmupTeacherTemp:/);
    expect(() => new DinoLoss({ outDim: 4, warmupTeacherTempSteps: 2.5 })).toThrow(/warmupTeacherTempSteps:/);
    expect(() => new DinoLoss({ outDim: 4, centerMomentum: 1.5 })).toThrow(/centerMomentum:/);
    // @ts-expect-error unknown key
    expect(() => new DinoLoss({ outDim: 4, studentTmp: 0.1 })).toThrow(/did you mean 'studentTemp'/);
  });

  it('MultiLengthLoss checks lengths and weights', () => {
    expect(() => new MultiLengthLoss({ lengths: [1, 2, 4], weights: [1, 1] })).toThrow(
      /weights: expected one weight per length \(3 for lengths \[1, 2, 4\]\), got 2/,
    );
    expect(() => new MultiLengthLoss({ lengths: [1, 1] })).toThrow(/lengths: lengths must be distinct/);
    expect(() => new MultiLengthLoss({ lengths: [] })).toThrow(/lengths: expected at least one length/);
    expect(() => new MultiLengthLoss({ weights: [0, 0, 0, 0] })).toThrow(/at least one weight must be > 0/);
    expect(() => new MultiLengthLoss({ weights: [1, -1, 1, 1] })).toThrow(/weights.1:/);
    // @ts-expect-error unknown key
    expect(() => new MultiLengthLoss({ weight: [1, 1, 1, 1] })).toThrow(
      /weight: unknown key \(did you mean 'weights'\?\)/,
    );
  });

  it('other configs', () => {
    // @ts-expect-error invalid enum value
    expect(() => new FeatureRegressionLoss({ kind: 'l1' })).toThrow(/kind:/);
    expect(() => new SymbolRegularizer({ usageWeight: -1 })).toThrow(/usageWeight:/);
  });
});

describe('bad inputs', () => {
  it('DinoLoss: wrong width, rank and mismatched student/teacher shapes', () => {
    const loss = new DinoLoss({ outDim: 6 });
    expect(() => loss.forward(z([4, 8]), z([4, 6]), 0)).toThrow(
      /DinoLoss: student logits \(outDim\): expected last dimension 6, got shape \[4, 8\]/,
    );
    expect(() => loss.forward(z([4, 6]), z([3, 6]), 0)).toThrow(
      /DinoLoss: student logits shape \[4, 6\] does not match teacher logits shape \[3, 6\]/,
    );
    expect(() => loss.forward(z([2, 4, 6]), z([2, 4, 6]), 0)).toThrow(
      /expected a tensor of rank 2, got shape \[2, 4, 6\]/,
    );
    expect(() => loss.forwardViews([z([2, 6])], [z([2, 6])], 0, 'cross')).toThrow(
      /'cross' pairing of 1 student and 1 teacher view\(s\) gives no pair/,
    );
    expect(() => loss.setCenter([1, 2, 3])).toThrow(/setCenter got 3 values, expected 6 \(outDim\)/);
    expect(() => loss.setCenter({ shape: [2, 3], data: new Float32Array(6) })).toThrow(
      /setCenter got shape \[2, 3\], expected \[1, 6\]/,
    );
    expect(() => loss.setCenter([0, 0, 0, Number.NaN, 0, 0])).toThrow(/value 3 is NaN/);
    // a failed call leaves the centre untouched
    expect(Array.from(loss.getCenter().data)).toEqual([0, 0, 0, 0, 0, 0]);
    loss.dispose();
  });

  it('view pairing', () => {
    expect(viewPairs(4, 2, 'cross')).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
      [0, 1],
      [2, 1],
      [3, 1],
    ]);
    expect(viewPairs(3, 2, 'same')).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(() => viewPairs(1, 2, 'same')).toThrow(
      /needs a student view for each of the 2 teacher views, got 1/,
    );
    expect(() => viewPairs(0, 2, 'cross')).toThrow(/number of student views must be an integer >= 1, got 0/);
  });

  it('multi-length: student lengths must match the configured lengths', () => {
    const multi = new MultiLengthLoss();
    const loss = new DinoLoss({ outDim: 3 });
    const student = new Map([1, 2, 4].map((l) => [l, z([2, 3])] as [number, tf.Tensor]));
    expect(() => multi.dino(loss, student, z([2, 3]), 0)).toThrow(
      /MultiLengthLoss: student outputs given for lengths \[1, 2, 4\], expected lengths \[1, 2, 4, 8\] \(config.lengths\)/,
    );
    expect(() => multi.weightOf(3)).toThrow(/length 3 is not one of the configured lengths \[1, 2, 4, 8\]/);
    loss.dispose();
  });

  it('other entry points', () => {
    expect(() => softCrossEntropy(z([2, 3]), z([2, 3]), 0)).toThrow(
      /studentTemp: must be a finite number > 0, got 0/,
    );
    expect(() => new FeatureRegressionLoss().compute(z([2, 3]), z([2, 4]))).toThrow(
      /cosineFeatureLoss: student features shape \[2, 3\] does not match teacher features shape \[2, 4\]/,
    );
    expect(() => new SymbolRegularizer().compute(z([1, 2, 3, 4]))).toThrow(
      /expected \[batch, length, vocab\] or \[batch, vocab\]/,
    );
    expect(() => new LossReadback().readSync()).toThrow(/nothing captured/);
  });
});

describe('teacher temperature warm-up (np.linspace semantics of DINO)', () => {
  it('linear over W steps, reaching teacherTemp at step W − 1, then constant', () => {
    const s = { warmupTeacherTemp: 0.04, teacherTemp: 0.07, warmupTeacherTempSteps: 4 };
    // np.linspace(0.04, 0.07, 4) = [0.04, 0.05, 0.06, 0.07]
    expect([0, 1, 2, 3, 4, 100].map((t) => teacherTemperatureAt(t, s))).toEqual(
      [0.04, 0.05, 0.06, 0.07, 0.07, 0.07].map((v) => expect.closeTo(v, 12)),
    );
  });

  it('W = 1 keeps the warm-up value for step 0 only; W = 0 is no warm-up', () => {
    expect(
      teacherTemperatureAt(0, { warmupTeacherTemp: 0.03, teacherTemp: 0.06, warmupTeacherTempSteps: 1 }),
    ).toBe(0.03);
    expect(
      teacherTemperatureAt(1, { warmupTeacherTemp: 0.03, teacherTemp: 0.06, warmupTeacherTempSteps: 1 }),
    ).toBe(0.06);
    expect(
      teacherTemperatureAt(0, { warmupTeacherTemp: 0.03, teacherTemp: 0.06, warmupTeacherTempSteps: 0 }),
    ).toBe(0.06);
  });

  it('DinoLoss uses DINO defaults and rejects non-integer or negative steps', () => {
    const loss = new DinoLoss({ outDim: 3 });
    expect(loss.config).toEqual({
      outDim: 3,
      studentTemp: 0.1,
      teacherTemp: 0.04,
      warmupTeacherTemp: 0.04,
      warmupTeacherTempSteps: 0,
      centerMomentum: 0.9,
    });
    expect(() => loss.teacherTemperature(-1)).toThrow(/step must be an integer >= 0, got -1/);
    expect(() => loss.teacherTemperature(1.5)).toThrow(/got 1.5/);
    loss.dispose();
  });
});
