import { noGrad, requireGradients, stopGradient } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';

export { noGrad, stopGradient };

// biome-ignore lint/suspicious/noExplicitAny: tf.customGrad passes tensors and the save callback untyped
type AnyGradFn = any;

/**
 * Straight-through estimator. Forward: exactly `hard` (no `soft + (hard − soft)` rounding).
 * Backward: the incoming gradient goes to `soft` unchanged (d out / d soft = I); `hard` gets none.
 */
export function straightThrough(soft: tf.Tensor, hard: tf.Tensor): tf.Tensor {
  if (soft.shape.length !== hard.shape.length || soft.shape.some((d, i) => d !== hard.shape[i])) {
    throw new Error(
      `straightThrough: soft [${soft.shape.join(', ')}] and hard [${hard.shape.join(', ')}] differ`,
    );
  }
  // Every hard discretizer passes here: say what to import before tf.grad fails on a missing gradient.
  requireGradients('straightThrough');
  const op = tf.customGrad(((_soft: tf.Tensor) => ({
    value: tf.cast(hard, 'float32'),
    gradFunc: (dy: tf.Tensor) => tf.clone(dy),
  })) as AnyGradFn) as (s: tf.Tensor) => tf.Tensor;
  return op(soft);
}

/** round(x) forward (half to even, as tf.round), identity gradient backward. */
export const roundStraightThrough: (x: tf.Tensor) => tf.Tensor = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.round(x),
  gradFunc: (dy: tf.Tensor) => tf.clone(dy),
})) as AnyGradFn) as (x: tf.Tensor) => tf.Tensor;
