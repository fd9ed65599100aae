import * as tf from '@tensorflow/tfjs-core';

// biome-ignore lint/suspicious/noExplicitAny: tf.customGrad passes tensors and the save callback untyped
type AnyGradFn = any;

const EPS = 1e-6;

/**
 * Rotation trick (Fifty et al. 2024, "Restructuring Vector Quantization with the Rotation Trick", §4.2).
 * Forward: exactly `q` (the chosen codes, rows of [..., D]).
 * Backward: with û = x/‖x‖, q̂ = q/‖q‖, w = (û + q̂)/‖û + q̂‖, R = I − 2wwᵀ + 2q̂ûᵀ (the rotation
 * taking û to q̂) and s = ‖q‖/‖x‖, the output is treated as s·R·x with R and s constant, so
 *   dL/dx = s·Rᵀ·dL/dout = s·(g − 2w(w·g) + 2û(q̂·g)),  g = dL/dout.
 * `q` receives no gradient (learn the codebook through the codebook loss or EMA).
 */
export function rotationTrick(x: tf.Tensor, q: tf.Tensor): tf.Tensor {
  if (x.shape.length !== q.shape.length || x.shape.some((d, i) => d !== q.shape[i])) {
    throw new Error(`rotationTrick: x [${x.shape.join(', ')}] and q [${q.shape.join(', ')}] differ`);
  }
  const op = tf.customGrad(((xIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const xNorm = rowNorm(xIn);
    const qNorm = rowNorm(q);
    const u = tf.div(xIn, tf.maximum(xNorm, EPS));
    const qHat = tf.div(q, tf.maximum(qNorm, EPS));
    const sum = tf.add(u, qHat);
    // Antiparallel û, q̂ (float32 residual ~1e-7): w → 0, as torch's F.normalize gives for an exact zero.
    const w = tf.div(sum, tf.maximum(rowNorm(sum), 1e-5));
    const scale = tf.div(qNorm, tf.maximum(xNorm, EPS));
    save([u, qHat, w, scale]);
    return {
      value: tf.clone(q),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [su, sq, sw, ss] = saved;
        const wDot = tf.sum(tf.mul(sw, dy), -1, true);
        const qDot = tf.sum(tf.mul(sq, dy), -1, true);
        const rotated = tf.add(tf.sub(dy, tf.mul(sw, tf.mul(wDot, 2))), tf.mul(su, tf.mul(qDot, 2)));
        return tf.mul(ss, rotated);
      },
    };
  }) as AnyGradFn) as (x: tf.Tensor) => tf.Tensor;
  return op(x);
}

/** ‖x‖ over the last axis, kept as size 1 (tf.norm fails inside a customGrad forward). */
function rowNorm(x: tf.Tensor): tf.Tensor {
  return tf.sqrt(tf.sum(tf.square(x), -1, true));
}
