import * as tf from '@tensorflow/tfjs-core';
import { sumScalars } from './sum-scalars';

/** `cross`: student view i against every teacher view j ≠ i (DINO). `same`: student view i against teacher view i. */
export type ViewPairing = 'cross' | 'same';

/**
 * The (studentView, teacherView) index pairs DINO's loop visits, in its order (teacher view
 * outer, student view inner). `cross` needs at least one pair with different views; `same`
 * needs a student view for every teacher view (extra student views, e.g. local crops, are unused).
 */
export function viewPairs(
  numStudentViews: number,
  numTeacherViews: number,
  pairing: ViewPairing,
): [number, number][] {
  for (const [n, name] of [
    [numStudentViews, 'student'],
    [numTeacherViews, 'teacher'],
  ] as const) {
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`viewPairs: number of ${name} views must be an integer >= 1, got ${n}`);
  }
  const pairs: [number, number][] = [];
  if (pairing === 'cross') {
    for (let t = 0; t < numTeacherViews; t++) {
      for (let s = 0; s < numStudentViews; s++) if (s !== t) pairs.push([s, t]);
    }
    if (pairs.length === 0) {
      throw new Error(
        `viewPairs: 'cross' pairing of ${numStudentViews} student and ${numTeacherViews} teacher view(s) gives no pair; ` +
          `it needs two views (for one student and one teacher view from different crops, use 'same' or call the loss directly)`,
      );
    }
    return pairs;
  }
  if (pairing === 'same') {
    if (numStudentViews < numTeacherViews) {
      throw new Error(
        `viewPairs: 'same' pairing needs a student view for each of the ${numTeacherViews} teacher views, got ${numStudentViews}`,
      );
    }
    for (let i = 0; i < numTeacherViews; i++) pairs.push([i, i]);
    return pairs;
  }
  throw new Error(`viewPairs: pairing must be 'cross' or 'same', got '${String(pairing)}'`);
}

/**
 * Mean of `loss(student[s], teacher[t])` over the pairs of `viewPairs`. `teacher` holds whatever
 * the loss compares against (DINO targets, pooled features).
 */
export function pairedViewLoss(
  student: tf.Tensor[],
  teacher: tf.Tensor[],
  pairing: ViewPairing,
  loss: (student: tf.Tensor, teacher: tf.Tensor) => tf.Scalar,
): tf.Scalar {
  const pairs = viewPairs(student.length, teacher.length, pairing);
  return tf.tidy(
    () => tf.div(sumScalars(pairs.map(([s, t]) => loss(student[s], teacher[t]))), pairs.length) as tf.Scalar,
  );
}
