import { l2Normalize, type Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { oneHotFloat, squaredDistances } from './ops';

export interface KMeansOptions {
  /** Seeded source for the k-means++ seeding. */
  rng: Rng;
  /** Lloyd iterations after seeding; default 10. */
  iters?: number;
  /** `cosine`: spherical k-means (points and centres on the unit sphere, nearest = largest dot product). */
  distance?: 'l2' | 'cosine';
  /** k-means++ seeding runs on the host in O(points·k·D): above this many points it seeds from a random subset. Default 16384. */
  maxSeedPoints?: number;
  /** Initial centres [k, D] instead of k-means++ seeding (e.g. to reproduce another implementation); not disposed. */
  init?: tf.Tensor2D;
}

export interface KMeansResult {
  /** [k, D] */
  centres: tf.Tensor2D;
  /** [k] points per centre in the last assignment. */
  counts: tf.Tensor1D;
}

/**
 * k-means on the rows of `data` [N, D]: k-means++ seeding (D² sampling from `rng`, on the host),
 * then Lloyd iterations: assignment on the device, centre sums on the host (float64) on CPU backends
 * and on the device on GPU ones. A centre that loses all its points keeps its position.
 * With N < k the extra centres repeat points (they stay empty until dead-code restart moves them).
 */
export function kmeans(data: tf.Tensor, k: number, opts: KMeansOptions): KMeansResult {
  if (data.rank !== 2) throw new Error(`kmeans: data must be [N, D], got shape [${data.shape.join(', ')}]`);
  if (!(Number.isInteger(k) && k > 0)) throw new Error(`kmeans: k must be a positive integer, got ${k}`);
  const iters = opts.iters ?? 10;
  const cosine = opts.distance === 'cosine';
  const points = cosine ? l2Normalize(data) : tf.clone(data);
  try {
    const dim = points.shape[1] as number;
    // On CPU backends the centre update runs on the host: a per-centre sum of the assigned rows in
    // float64 (N·D additions) instead of tfjs-wasm's one-hot [k, N] @ [N, D] matMul (N·k·D multiply-adds
    // plus a transpose), which was 60 % of a Lloyd iteration at 50,000 × 768, k = 128. GPU backends keep it.
    const host = GPU_BACKENDS.has(tf.getBackend()) ? undefined : (points.dataSync() as Float32Array);
    let centres: tf.Tensor2D;
    if (opts.init) {
      if (opts.init.shape[0] !== k || opts.init.shape[1] !== dim) {
        throw new Error(`kmeans: init has shape [${opts.init.shape.join(', ')}], expected [${k}, ${dim}]`);
      }
      centres = tf.clone(opts.init);
    } else {
      const seedFrom = subsample(
        host ?? (points.dataSync() as Float32Array),
        dim,
        opts.maxSeedPoints ?? 16384,
        opts.rng,
      );
      centres = tf.tensor2d(seedPlusPlus(seedFrom, dim, k, opts.rng), [k, dim]);
    }
    let counts: tf.Tensor1D = tf.zeros([k]);
    for (let it = 0; it <= iters; it++) {
      const next = host
        ? hostStep(host, points, centres, k, dim, cosine, it === iters)
        : tf.tidy(() => {
            const assign = nearest(points, centres, cosine);
            const oh = oneHotFloat(assign, k);
            const c = tf.sum(oh, 0) as tf.Tensor1D;
            if (it === iters) return { centres: tf.clone(centres), counts: c };
            const sums = tf.matMul(tf.transpose(oh), points);
            return {
              centres: keepEmpty(tf.div(sums, tf.reshape(tf.maximum(c, 1), [k, 1])), c, centres, cosine),
              counts: c,
            };
          });
      centres.dispose();
      counts.dispose();
      centres = next.centres;
      counts = next.counts;
    }
    return { centres, counts };
  } finally {
    points.dispose();
  }
}

const GPU_BACKENDS = new Set(['webgl', 'webgpu']);

/** The new centres: `mean` (normalised for cosine) where a centre has points, the old one where it lost them all. */
function keepEmpty(mean: tf.Tensor, c: tf.Tensor1D, centres: tf.Tensor2D, cosine: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const m = cosine ? l2Normalize(mean) : mean;
    const k = centres.shape[0];
    const filled = tf.reshape(tf.cast(tf.greater(c, 0), 'float32'), [k, 1]);
    return tf.add(tf.mul(filled, m), tf.mul(tf.sub(1, filled), centres)) as tf.Tensor2D;
  });
}

/** One Lloyd iteration with the assignment on the device and the centre sums on the host (`x`: the points' values). */
function hostStep(
  x: Float32Array,
  points: tf.Tensor,
  centres: tf.Tensor2D,
  k: number,
  dim: number,
  cosine: boolean,
  last: boolean,
): { centres: tf.Tensor2D; counts: tf.Tensor1D } {
  // argMax / argMin: int32 already.
  const a = nearest(points, centres, cosine);
  const assign = a.dataSync() as Int32Array;
  a.dispose();
  const n = assign.length;
  const count = new Float64Array(k);
  for (let i = 0; i < n; i++) count[assign[i]]++;
  const counts = tf.tensor1d(Float32Array.from(count));
  if (last) return { centres: tf.clone(centres), counts };
  const sums = new Float64Array(k * dim);
  for (let i = 0; i < n; i++) {
    const o = assign[i] * dim;
    const r = i * dim;
    for (let j = 0; j < dim; j++) sums[o + j] += x[r + j];
  }
  const mean = new Float32Array(k * dim);
  for (let c = 0; c < k; c++) {
    const inv = 1 / Math.max(count[c], 1);
    for (let j = 0; j < dim; j++) mean[c * dim + j] = sums[c * dim + j] * inv;
  }
  return tf.tidy(() => ({
    centres: keepEmpty(tf.tensor2d(mean, [k, dim]), counts, centres, cosine),
    counts,
  }));
}

/** Index of the nearest centre for each point (largest dot product for cosine). */
export function nearest(points: tf.Tensor, centres: tf.Tensor, cosine: boolean): tf.Tensor {
  return tf.tidy(() =>
    cosine
      ? tf.argMax(tf.matMul(points, tf.transpose(centres)), -1)
      : tf.argMin(squaredDistances(points, centres), -1),
  );
}

/** At most `max` rows of `x` [n, dim], drawn without replacement when there are more. */
function subsample(x: Float32Array, dim: number, max: number, rng: Rng): Float32Array {
  const n = x.length / dim;
  if (n <= max) return x;
  const out = new Float32Array(max * dim);
  rng
    .permutation(n)
    .slice(0, max)
    .forEach((row, i) => {
      out.set(x.subarray(row * dim, (row + 1) * dim), i * dim);
    });
  return out;
}

/** k-means++ seeding (Arthur & Vassilvitskii 2007): each new centre drawn with probability ∝ D². */
function seedPlusPlus(x: Float32Array, dim: number, k: number, rng: Rng): Float32Array {
  const n = x.length / dim;
  const out = new Float32Array(k * dim);
  const minD = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  let chosen = rng.int(n);
  for (let c = 0; c < k; c++) {
    if (c > 0) {
      let total = 0;
      for (let i = 0; i < n; i++) total += minD[i];
      if (total > 0) {
        let r = rng.uniform() * total;
        chosen = n - 1;
        for (let i = 0; i < n; i++) {
          r -= minD[i];
          if (r < 0) {
            chosen = i;
            break;
          }
        }
      } else {
        chosen = rng.int(n);
      }
    }
    out.set(x.subarray(chosen * dim, (chosen + 1) * dim), c * dim);
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let j = 0; j < dim; j++) {
        const diff = x[i * dim + j] - x[chosen * dim + j];
        d += diff * diff;
      }
      if (d < minD[i]) minD[i] = d;
    }
  }
  return out;
}
