// Random features of the teacher's shape for the code-baseline benches: a mixture of 200 Gaussian
// centres (ReLU'd, as MobileNet's pooled features are non-negative), labels = centre mod 10, so k-means
// has work to do. Deterministic: seed 0; train rows are drawn before test rows.
import { Rng } from '@symseq/nn';

export function gaussianMixture(nTrain, nTest, dim) {
  const rng = new Rng(0);
  const centres = Array.from({ length: 200 }, () => Array.from({ length: dim }, () => rng.normal()));
  const draw = (n) => {
    const x = new Float32Array(n * dim);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = rng.int(centres.length);
      labels[i] = c % 10;
      for (let j = 0; j < dim; j++) x[i * dim + j] = Math.max(0, centres[c][j] + 0.5 * rng.normal());
    }
    return { x, labels };
  };
  const train = draw(nTrain);
  return { train, test: draw(nTest) };
}
