import { assertRank } from '@symseq/nn';
import type * as tf from '@tensorflow/tfjs-core';

/** Throws unless `x` is a [batch, dim] matrix. */
export function assertMatrix(x: tf.Tensor, what: string): void {
  assertRank(x, 2, `${what} (expected [batch, dim])`);
}

/** Throws unless `a` and `b` have the same shape, naming both. */
export function assertSameShape(
  a: tf.Tensor,
  aName: string,
  b: tf.Tensor,
  bName: string,
  owner: string,
): void {
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(
      `${owner}: ${aName} shape [${a.shape.join(', ')}] does not match ${bName} shape [${b.shape.join(', ')}]; expected equal shapes`,
    );
  }
}
