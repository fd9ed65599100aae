import * as tf from '@tensorflow/tfjs-core';

/**
 * Σ of scalars by pairwise tf.add. Not tf.addN: its gradient calls `dy.clone()`, a chained
 * method that tfjs-core alone does not install, so it throws in backends without tfjs-core's op handler.
 */
export function sumScalars(terms: tf.Scalar[]): tf.Scalar {
  if (terms.length === 0) throw new Error('sumScalars: needs at least one term');
  // A new tensor even for one term: callers dispose their terms after summing.
  if (terms.length === 1) return tf.clone(terms[0]);
  return tf.tidy(() => terms.slice(1).reduce<tf.Tensor>((acc, t) => tf.add(acc, t), terms[0]) as tf.Scalar);
}
