import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

// Runs the built package (`npm test` builds first) in fresh Node processes with tfjs-core and the cpu
// backend only, as a user without the @tensorflow/tfjs umbrella has it: no test setup, no gradients.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const X = [
  [0.3, -1.2, 0.8],
  [1.5, 0.1, -0.4],
];
const W = [
  [0.5, -0.3],
  [0.2, 0.9],
  [-0.7, 0.4],
];

/** Body shared by both module systems: `tf`, `nn` and `registerGradients()` are in scope. */
const body = `
  const x = tf.tensor2d(${JSON.stringify(X)});
  const w = tf.tensor2d(${JSON.stringify(W)});
  const f = (x) => {
    const y = nn.matMul(x, w);
    return tf.add(tf.sum(tf.mul(tf.softmax(y), tf.tanh(y))), tf.mean(tf.sqrt(tf.add(tf.square(x), 1))));
  };
  let before = '';
  try { tf.grad(f)(x); } catch (e) { before = e.message; }
  let beforeDiscretizer = '';
  try { tf.grad((l) => tf.sum(discretize.temperatureSoftmax(l).output))(x); } catch (e) { beforeDiscretizer = e.message; }
  await registerGradients();
  const missing = nn.TRAINING_GRADIENT_KERNELS.filter((k) => tf.getGradient(k) == null);
  console.log(JSON.stringify({ before, beforeDiscretizer, missing, grad: tf.grad(f)(x).arraySync() }));
`;

const scripts = {
  esm: `import * as tf from '@tensorflow/tfjs-core'; import '@tensorflow/tfjs-backend-cpu';
    import * as nn from '@symseq/nn'; import * as discretize from '@symseq/discretize';
    const registerGradients = () => import('@symseq/nn/register-gradients');
    ${body}`,
  cjs: `const tf = require('@tensorflow/tfjs-core'); require('@tensorflow/tfjs-backend-cpu');
    const nn = require('@symseq/nn'); const discretize = require('@symseq/discretize');
    const registerGradients = async () => require('@symseq/nn/register-gradients');
    (async () => { ${body} })();`,
};

/** The same f in float64 plain JS, for central finite differences. */
function fPlain(x: number[][]): number {
  let total = 0;
  for (const row of x) {
    const y = W[0].map((_, j) => row.reduce((s, v, k) => s + v * W[k][j], 0));
    const m = Math.max(...y);
    const e = y.map((v) => Math.exp(v - m));
    const z = e.reduce((s, v) => s + v, 0);
    total += y.reduce((s, v, j) => s + (e[j] / z) * Math.tanh(v), 0);
  }
  const flat = x.flat();
  return total + flat.reduce((s, v) => s + Math.sqrt(v * v + 1), 0) / flat.length;
}

describe.each(Object.keys(scripts) as (keyof typeof scripts)[])(
  '@symseq/nn/register-gradients in Node %s',
  (kind) => {
    const out = execFileSync(
      'node',
      kind === 'esm' ? ['--input-type=module', '-e', scripts.esm] : ['-e', scripts.cjs],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const result = JSON.parse(out.trim().split('\n').at(-1) as string);

    test('before it: differentiating through symseq says what to import', () => {
      expect(result.before).toContain("import '@symseq/nn/register-gradients'");
      expect(result.before).toContain('Sum');
      // A hard discretizer says so too (its straight-through step checks), not only matMul.
      expect(result.beforeDiscretizer).toMatch(/^straightThrough: gradients are not registered/);
      expect(result.beforeDiscretizer).toContain("import '@symseq/nn/register-gradients'");
    });

    test('after it: every kernel training needs has a gradient, and tf.grad matches finite differences', () => {
      expect(result.missing).toEqual([]);
      const h = 1e-6;
      const expected = X.map((row, i) =>
        row.map((_, j) => {
          const plus = X.map((r) => [...r]);
          const minus = X.map((r) => [...r]);
          plus[i][j] += h;
          minus[i][j] -= h;
          return (fPlain(plus) - fPlain(minus)) / (2 * h);
        }),
      );
      const got = result.grad as number[][];
      for (let i = 0; i < X.length; i++) {
        for (let j = 0; j < X[0].length; j++) expect(got[i][j]).toBeCloseTo(expected[i][j], 4);
      }
    });
  },
);
