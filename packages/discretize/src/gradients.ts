import * as tf from '@tensorflow/tfjs-core';

// biome-ignore lint/suspicious/noExplicitAny: tf.customGrad passes tensors and the save callback untyped
type AnyGradFn = any;

/**
 * Runs `fn` off the gradient tape: its ops are not recorded and its result carries no gradient.
 * TF.js has no stopGradient op; ops inside a customGrad forward are not taped, and the anchor
 * input is not derived from anything being differentiated, so the node is pruned from backprop.
 * Use it for index selection and state updates so backprop does no wasted work there.
 */
export function noGrad<T extends tf.Tensor>(fn: () => T): T {
  return tf.tidy(() => {
    const anchor = tf.scalar(0);
    const op = tf.customGrad(((_anchor: tf.Tensor) => ({
      value: fn(),
      gradFunc: () => tf.scalar(0),
    })) as AnyGradFn) as (a: tf.Tensor) => T;
    return op(anchor);
  });
}

/** `x` as a value with no gradient (stop-gradient / detach). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return noGrad(() => tf.clone(x));
}

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
