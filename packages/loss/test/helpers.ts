import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { expectClose as sharedExpectClose } from '../../../tools/test-utils';

export interface HostJson {
  shape: number[];
  data: number[];
}

export interface DinoStep {
  step: number;
  teacherTemp: number;
  studentViews: HostJson;
  teacherViews: HostJson;
  loss: number;
  gradStudent: HostJson;
  centerAfter: HostJson;
}

export interface DinoScenario {
  config: {
    outDim: number;
    batch: number;
    studentViews: number;
    teacherViews: number;
    warmupTeacherTemp: number;
    teacherTemp: number;
    warmupTeacherTempSteps: number;
    studentTemp: number;
    centerMomentum: number;
    pairing?: 'cross' | 'same';
  };
  steps: DinoStep[];
}

export interface MultiLengthScenario {
  config: {
    outDim: number;
    batch: number;
    warmupTeacherTemp: number;
    teacherTemp: number;
    warmupTeacherTempSteps: number;
    studentTemp: number;
    centerMomentum: number;
    lengths: number[];
    weights: number[] | null;
    normalizeWeights: boolean;
    resolvedWeights: number[];
  };
  steps: {
    step: number;
    teacherTemp: number;
    students: Record<string, HostJson>;
    teacher: HostJson;
    total: number;
    perLength: Record<string, number>;
    gradStudents: Record<string, HostJson>;
    centerAfter: HostJson;
  }[];
}

export interface LossFixture {
  source: string;
  dinoMultiCrop: DinoScenario;
  dinoSameView: DinoScenario;
  dinoSinglePair: DinoScenario;
  multiLengthDefault: MultiLengthScenario;
  multiLengthGiven: MultiLengthScenario;
  multiLengthNormalized: MultiLengthScenario;
  featureRegression: {
    student: HostJson;
    teacher: HostJson;
    cosine: { loss: number; gradStudent: HostJson };
    mse: { loss: number; gradStudent: HostJson };
  };
  regularizers: {
    logits: HostJson;
    marginalEntropy: number;
    sampleEntropy: number;
    usageLoss: number;
    infoMaxLoss: number;
    gradUsageLogits: HostJson;
    gradInfoMaxLogits: HostJson;
  };
}

/** Fixture written by tools/reference/loss_reference.py (PyTorch, float64). */
export function loadFixture(): LossFixture {
  return JSON.parse(
    readFileSync(new URL('./fixtures/loss_reference.json', import.meta.url), 'utf8'),
  ) as LossFixture;
}

export function toTensor(h: HostJson): tf.Tensor {
  return tf.tensor(h.data, h.shape, 'float32');
}

/** Element-wise closeness (see tools/test-utils.ts); note this package's argument order: atol, then rtol. */
export const expectClose = (
  actual: ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  atol = 1e-5,
  rtol = 1e-4,
) =>
  sharedExpectClose(
    typeof actual === 'number' ? [actual] : actual,
    typeof expected === 'number' ? [expected] : expected,
    rtol,
    atol,
  );

/** Central finite differences of `f` at `x` (shape `shape`), each evaluated through tfjs. */
export function finiteDifferences(
  f: (x: tf.Tensor) => tf.Scalar,
  x: Float32Array,
  shape: number[],
  h: number,
): Float32Array {
  const g = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const at = (d: number) => {
      const y = Float32Array.from(x);
      y[i] += d;
      return tf.tidy(() => f(tf.tensor(y, shape)).dataSync()[0]);
    };
    g[i] = (at(h) - at(-h)) / (2 * h);
  }
  return g;
}
