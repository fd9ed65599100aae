import * as tf from '@tensorflow/tfjs-core';
import { requireGradients } from './gradient-kernels';

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

/**
 * The identity in the forward pass, a zero gradient in the backward pass (torch's `.detach()`). Unlike
 * `noGrad`, `x` stays on the tape, so asking for its gradient gives zeros rather than an error.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  requireGradients('stopGradient');
  return detach(x);
}

const detach = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as AnyGradFn) as <T extends tf.Tensor>(x: T) => T;
