// Time of one k-means fit as the baselines run it (@symseq/discretize `kmeans`, cosine, k-means++ seeding on
// 16,384 rows, 10 Lloyd iterations) against the same fit with the centre update as a one-hot matMul on
// the device (the implementation before the host update, inlined here), on the same seeded data. Prints a
// table: seconds per fit, per Lloyd iteration, and how many final assignments the two fits share.
//
//   node bench/kmeans-fit.mjs [--rows 50000] [--dim 768] [--k 128] [--iters 10] [--reps 1]
import { parseArgs } from 'node:util';
import { kmeans, nearest } from '../packages/discretize/dist/index.js';
import { l2Normalize, Rng } from '../packages/nn/dist/index.js';
import { median, positiveInt, tf, useBackend } from './student-setup.mjs';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '50000' },
    dim: { type: 'string', default: '768' },
    k: { type: 'string', default: '128' },
    iters: { type: 'string', default: '10' },
    reps: { type: 'string', default: '1' },
  },
});
const [rows, dim, k, iters, reps] = ['rows', 'dim', 'k', 'iters', 'reps'].map((n) => positiveInt(n, args[n]));
// As the trainer's selectBackend: wasm with the zero-copy clone and cast kernels.
await useBackend('wasm');

// Clustered data: 4k random directions plus noise, so Lloyd has real work to do.
const data = tf.tidy(() => {
  const centres = tf.randomNormal([4 * k, dim], 0, 1, 'float32', 1);
  const which = tf.randomUniform([rows], 0, 4 * k, 'int32', 2);
  return tf.add(tf.gather(centres, which), tf.randomNormal([rows, dim], 0, 0.8, 'float32', 3));
});

/** The previous Lloyd loop: one-hot [N, k] transposed, times the points, on the device. */
function kmeansDevice(x, init) {
  const points = l2Normalize(x);
  let centres = tf.clone(init);
  for (let it = 0; it <= iters; it++) {
    const next = tf.tidy(() => {
      const assign = nearest(points, centres, true);
      const oh = tf.oneHot(tf.cast(assign, 'int32'), k).toFloat();
      const c = tf.sum(oh, 0);
      // The last pass only counts (as kmeans does): its counts are read, the centres kept.
      if (it === iters) {
        c.dataSync();
        return tf.clone(centres);
      }
      const mean = l2Normalize(
        tf.div(tf.matMul(tf.transpose(oh), points), tf.reshape(tf.maximum(c, 1), [k, 1])),
      );
      const filled = tf.reshape(tf.cast(tf.greater(c, 0), 'float32'), [k, 1]);
      return tf.add(tf.mul(filled, mean), tf.mul(tf.sub(1, filled), centres));
    });
    centres.dispose();
    centres = next;
  }
  points.dispose();
  return centres;
}

const init = tf.tidy(() => tf.gather(data, new Rng(5).permutation(rows).slice(0, k)));
const time = (f) => {
  const t = [];
  let out;
  for (let r = 0; r < reps; r++) {
    out?.dispose();
    const t0 = performance.now();
    out = f();
    out.dataSync();
    t.push((performance.now() - t0) / 1000);
  }
  return { s: median(t), centres: out };
};
const host = time(() => {
  const r = kmeans(data, k, { rng: new Rng(0), iters, distance: 'cosine', init });
  r.counts.dispose();
  return r.centres;
});
const device = time(() => kmeansDevice(data, init));
const agree = tf.tidy(() => {
  const p = l2Normalize(data);
  return tf
    .mean(tf.cast(tf.equal(nearest(p, host.centres, true), nearest(p, device.centres, true)), 'float32'))
    .dataSync()[0];
});
const maxDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(host.centres, device.centres))).dataSync()[0]);
console.log(
  `k-means fit, ${rows} × ${dim}, k ${k}, ${iters} Lloyd iterations from the same ${k} rows (wasm, one thread; median of ${reps})\n`,
);
console.log('| centre update | s per fit | s per iteration | ratio |');
console.log('|---|---:|---:|---:|');
console.log(
  `| one-hot matMul on the device (before) | ${device.s.toFixed(2)} | ${(device.s / iters).toFixed(3)} | 1.00× |`,
);
console.log(
  `| float64 sums on the host (kmeans) | ${host.s.toFixed(2)} | ${(host.s / iters).toFixed(3)} | ${(device.s / host.s).toFixed(2)}× |`,
);
console.log(
  `\nfinal assignments equal: ${(100 * agree).toFixed(3)} %; max |centre difference| ${maxDiff.toExponential(2)}`,
);
