// Data-parallel training (train --workers N): replicas in worker threads stay bit-identical, and N
// replicas give what one gives, to float rounding, including the batch-level terms: the usage regulariser
// on the whole batch's logits, the DINO centre from the whole batch, the contrast objective's in-batch
// negatives, Gumbel noise drawn as for the whole batch and VQ's EMA statistics / k-means / restarts from
// the whole batch. Worker threads run the built dist/train-replica.js (npm run build).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BatchShard, gumbelSoftmax, sampleGumbel, VectorQuantizer } from '@symseq/discretize';
import { contrastiveFeatureLoss } from '@symseq/loss';
import { ParamStore, Rng, readSafetensors } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { dataParallelProblem, splitBatch } from '../src/data-parallel';
import { train } from '../src/train';
import { syntheticArrays, syntheticFeatures, tinyConfig, withViews } from './helpers';

const tmp = () => mkdtempSync(join(tmpdir(), 'symseq-dp-'));
const metrics = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
const quiet = { quiet: true, log: () => {} };

type Run = Awaited<ReturnType<typeof train>>;
async function weightsOf(r: Run): Promise<Map<string, Float32Array>> {
  const { weights } = await r.student.save();
  const { tensors } = readSafetensors(weights);
  return new Map(Object.entries(tensors).map(([k, t]) => [k, t.data as Float32Array]));
}

/** Largest |a − b| over every weight, and the largest |a|. */
function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>) {
  let diff = 0;
  let scale = 0;
  for (const [k, x] of a) {
    const y = b.get(k)!;
    for (let i = 0; i < x.length; i++) {
      diff = Math.max(diff, Math.abs(x[i] - y[i]));
      scale = Math.max(scale, Math.abs(x[i]));
    }
  }
  return { diff, scale };
}

/** Rows [from, to) of a row-major [rows, cols] array. */
const rowsOf = (x: Float32Array, cols: number, from: number, to: number) => x.slice(from * cols, to * cols);

/**
 * Symmetric InfoNCE of L2-normalised rows, in float64 (the independent reference): logits ŝ t̂ᵀ / τ,
 * ½ (mean_i lse_j − diag + mean_j lse_i − diag).
 */
function infoNce64(s: Float64Array, t: Float64Array, b: number, d: number, tau: number): number {
  const unit = (x: Float64Array) => {
    const out = new Float64Array(x.length);
    for (let i = 0; i < b; i++) {
      let n = 0;
      for (let j = 0; j < d; j++) n += x[i * d + j] ** 2;
      for (let j = 0; j < d; j++) out[i * d + j] = x[i * d + j] / Math.sqrt(n);
    }
    return out;
  };
  const S = unit(s);
  const T = unit(t);
  const L = (i: number, j: number) => {
    let v = 0;
    for (let k = 0; k < d; k++) v += S[i * d + k] * T[j * d + k];
    return v / tau;
  };
  const lse = (xs: number[]) => {
    const m = Math.max(...xs);
    return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
  };
  let rows = 0;
  let cols = 0;
  for (let i = 0; i < b; i++) {
    const idx = Array.from({ length: b }, (_, j) => j);
    rows += lse(idx.map((j) => L(i, j))) - L(i, i);
    cols += lse(idx.map((j) => L(j, i))) - L(i, i);
  }
  return 0.5 * (rows / b + cols / b);
}

describe('train --workers', () => {
  test('splitBatch: contiguous parts differing by at most one', () => {
    expect(splitBatch(16, 2)).toEqual([8, 8]);
    expect(splitBatch(16, 3)).toEqual([5, 5, 6]);
    expect(splitBatch(5, 4)).toEqual([1, 1, 1, 2]);
  });

  test('contrast: each replica differentiating the whole-batch loss w.r.t. its rows sums to the finite-difference gradient; per-part losses do not', () => {
    const b = 10;
    const d = 6;
    const tau = 0.1;
    const rng = new Rng(11);
    const s64 = Float64Array.from(rng.fill(b * d, 'normal'));
    const t64 = Float64Array.from(rng.fill(b * d, 'normal'));
    // Central differences of the float64 reference.
    const h = 1e-6;
    const fd = new Float64Array(b * d);
    for (let i = 0; i < b * d; i++) {
      const up = s64.slice();
      const down = s64.slice();
      up[i] += h;
      down[i] -= h;
      fd[i] = (infoNce64(up, t64, b, d, tau) - infoNce64(down, t64, b, d, tau)) / (2 * h);
    }
    const sizes = splitBatch(b, 3); // 3/3/4
    const s32 = Float32Array.from(s64);
    const teacher = tf.tensor2d(Float32Array.from(t64), [b, d]);
    let offset = 0;
    const whole: number[] = [];
    const perPart: number[] = [];
    let perPartLoss = 0;
    for (const n of sizes) {
      const local = tf.tensor2d(rowsOf(s32, d, offset, offset + n), [n, d]);
      const before = tf.tensor2d(rowsOf(s32, d, 0, offset), [offset, d]);
      const after = tf.tensor2d(rowsOf(s32, d, offset + n, b), [b - offset - n, d]);
      // The data-parallel way: the whole batch, the other replicas' rows constant, unscaled.
      const g = tf.grad((x: tf.Tensor) =>
        contrastiveFeatureLoss(tf.concat([before, x, after], 0), teacher, tau),
      )(local);
      whole.push(...g.dataSync());
      // The per-replica-only way: this part's rows against this part's targets, scaled by its share.
      const part = tf.slice(teacher, [offset, 0], [n, d]);
      const gp = tf.grad((x: tf.Tensor) => tf.mul(contrastiveFeatureLoss(x, part, tau), n / b))(local);
      perPart.push(...gp.dataSync());
      perPartLoss += (n / b) * contrastiveFeatureLoss(local, part, tau).dataSync()[0];
      tf.dispose([local, before, after, g, part, gp]);
      offset += n;
    }
    const err = (g: number[]) => Math.max(...g.map((v, i) => Math.abs(v - fd[i])));
    const scale = Math.max(...Array.from(fd, Math.abs));
    expect(scale).toBeGreaterThan(0.1);
    expect(err(whole)).toBeLessThan(1e-4);
    // What the test tolerance has to tell apart: per-part negatives change the gradient and the loss by far more.
    expect(err(perPart)).toBeGreaterThan(0.05 * scale);
    const full = infoNce64(s64, t64, b, d, tau);
    expect(
      Math.abs(contrastiveFeatureLoss(tf.tensor2d(s32, [b, d]), teacher, tau).dataSync()[0] - full),
    ).toBeLessThan(1e-5 * full);
    expect(Math.abs(perPartLoss - full)).toBeGreaterThan(0.1);
    teacher.dispose();
  });

  test('Gumbel with a batch shard: the parts together draw exactly the whole batch noise, and the Rng ends where it would', () => {
    const b = 7;
    const v = 5;
    const logits = tf.tensor2d(new Rng(3).fill(b * v, 'normal'), [b, v]);
    const wholeRng = new Rng(42);
    const reference = sampleGumbel([b, v], wholeRng).dataSync();
    let offset = 0;
    for (const n of splitBatch(b, 2)) {
      const rng = new Rng(42);
      const local = tf.slice(logits, [offset, 0], [n, v]);
      // Soft outputs are softmax((logits + g) / τ): recover g from them and compare with the draws.
      const soft = gumbelSoftmax(local, {
        rng,
        hard: false,
        temperature: 1,
        noiseRows: { offset, total: b },
      });
      const logY = tf.log(soft.output).dataSync();
      const l = local.dataSync();
      for (let i = 0; i < n; i++) {
        // g_ij − g_i0 = log y_ij − log y_i0 − (l_ij − l_i0)
        for (let j = 1; j < v; j++) {
          const got = logY[i * v + j] - logY[i * v] - (l[i * v + j] - l[i * v]);
          const want = reference[(offset + i) * v + j] - reference[(offset + i) * v];
          expect(Math.abs(got - want)).toBeLessThan(1e-4);
        }
      }
      expect(rng.getState()).toEqual(wholeRng.getState());
      tf.dispose([local, soft.output, soft.indices, soft.auxLoss]);
      offset += n;
    }
    expect(() => gumbelSoftmax(logits, { rng: new Rng(1), noiseRows: { offset: 3, total: b } })).toThrow(
      /noiseRows \{offset: 3, total: 7\} do not hold the 7 rows/,
    );
    logits.dispose();
  });

  test('VQ with batch shards: two replicas end bit-identical, with the whole batch statistics, k-means init and restarts', () => {
    const b = 24;
    const dim = 3;
    const config = { dim, codebookSize: 6, kmeansInit: true, decay: 0.7, deadCodeThreshold: 1.2 };
    const vq = () => new VectorQuantizer(new ParamStore(new Rng(9)).scope('vq'), config);
    const one = vq();
    const replicas = [vq(), vq()];
    const part = vq(); // a replica that sees only its part (no shard)
    const sizes = splitBatch(b, 2);
    const data = new Rng(4);
    let restarted = 0;
    for (let step = 0; step < 8; step++) {
      // Inputs drift between steps, so some codes fall below the threshold and get restarted.
      const x = tf.tensor2d(
        data.fill(b * dim, 'normal').map((z, i) => z + (i % dim === 0 ? step : 0)),
        [b, dim],
      );
      const r = one.discretize(x, { stats: true });
      restarted += r.stats?.restartedCodes ?? 0;
      tf.dispose([r.indices, r.output, r.auxLoss]);
      const parts = sizes.map((n, q) => tf.slice(x, [q === 0 ? 0 : sizes[0], 0], [n, dim]));
      replicas.forEach((rep, q) => {
        const offset = q === 0 ? 0 : sizes[0];
        // No projection and l2 distance: every gathered tensor is rows of x, the other part constant.
        const shard: BatchShard = {
          offset,
          total: b,
          gatherRows: (local) => tf.concat(q === 0 ? [local, parts[1]] : [parts[0], local], 0),
        };
        rep.batchShard = shard;
        const o = rep.discretize(parts[q]);
        tf.dispose([o.indices, o.output, o.auxLoss]);
        rep.batchShard = undefined;
      });
      const p = part.discretize(parts[0]);
      tf.dispose([p.indices, p.output, p.auxLoss, x, ...parts]);
    }
    expect(restarted).toBeGreaterThan(0);
    const state = (q: VectorQuantizer) =>
      [q.codebook, q.clusterSize, q.embedSum!].map((t) => Array.from(t.dataSync()));
    const [a, c] = replicas.map(state);
    expect(a).toEqual(c);
    const ref = state(one);
    const dev = (s: number[][]) => Math.max(...s.flatMap((t, i) => t.map((x, j) => Math.abs(x - ref[i][j]))));
    expect(dev(a)).toBeLessThan(1e-5);
    expect(dev(state(part))).toBeGreaterThan(0.1);
    for (const q of [one, part, ...replicas]) q.dispose();
  });

  const usage = { objective: { regularizer: { usageWeight: 0.5, infoMaxWeight: 0.2 } } };
  // The cpu preset's objective (apps/trainer/configs/cpu.json): contrast at τ 0.1, usage 0.1, temperature
  // discretizer, standardised tokens; here also with centred targets (an option the preset leaves off):
  // the statistics reach the replicas with the student, the centre with the objective's state.
  const cpuObjective = {
    student: { decoder: { layers: 1, standardizeTokens: true } },
    objective: {
      kind: 'contrast' as const,
      contrast: { temperature: 0.1, center: true },
      regularizer: { usageWeight: 0.1 },
    },
  };
  const gumbel = {
    ...cpuObjective,
    student: {
      ...cpuObjective.student,
      discretizer: { kind: 'gumbel' as const, options: { temperature: 1 } },
    },
  };
  const cases = [
    { name: 'features objective + usage/info-max regulariser', data: syntheticFeatures(64), extra: usage },
    {
      name: 'DINO objective (centre) + usage regulariser',
      data: withViews([syntheticArrays(64, 1), syntheticArrays(64, 2)]),
      extra: {
        cache: { views: 1 },
        objective: {
          kind: 'dino' as const,
          pairing: 'cross' as const,
          prototypes: 8,
          regularizer: { usageWeight: 0.5 },
        },
      },
    },
    {
      name: "the cpu preset's contrast objective + usage regulariser, temperature, standardised tokens, centred targets",
      data: syntheticFeatures(64),
      extra: cpuObjective,
    },
    { name: 'Gumbel discretizer, contrast + usage', data: syntheticFeatures(64), extra: gumbel },
    {
      name: 'contrast with the exact expectation over symbol 1 (one-symbol projections scaled per replica) + usage',
      data: syntheticFeatures(64),
      extra: {
        ...cpuObjective,
        objective: {
          ...cpuObjective.objective,
          weights: [0.5, 0.25, 0.25],
          contrast: { temperature: 0.1, center: true, exactFirstSymbol: true },
        },
      },
    },
    {
      name: 'VQ discretizer (EMA, k-means init, dead-code restarts), contrast',
      data: syntheticFeatures(64),
      extra: {
        student: {
          discretizer: {
            kind: 'vq' as const,
            codeDim: 4,
            options: { kmeansInit: true, decay: 0.8, deadCodeThreshold: 0.5 },
          },
        },
        objective: { kind: 'contrast' as const, regularizer: { usageWeight: 0 } },
      },
    },
  ];
  // Largest deviations from one replica measured over these cases (wasm, 8 steps): losses 3.0e-7 relative,
  // weights 1.5e-6 absolute (of ~1, VQ codes ~9). Per-replica-only contrast losses were 0.8 off at step 1,
  // Gumbel noise drawn per part 0.02, so the tolerance tells them apart.
  const tol = 2e-5;
  for (const c of cases) {
    test(`2 and 3 replicas give one replica's losses and weights; replicas identical (${c.name})`, async () => {
      const one = tmp();
      const r1 = await train(tinyConfig(one, c.extra), c.data, quiet);
      const w1 = await weightsOf(r1);
      expect(r1.replicaWeights).toBeUndefined();
      r1.student.dispose();
      const m1 = metrics(one);
      for (const workers of [2, 3]) {
        const dir = tmp();
        const r = await train(tinyConfig(dir, c.extra), c.data, { ...quiet, workers });
        expect(r.replicaWeights).toHaveLength(workers);
        expect(new Set(r.replicaWeights).size).toBe(1);
        const mn = metrics(dir);
        expect(mn.map((m) => m.step)).toEqual(m1.map((m) => m.step));
        expect(mn.length).toBeGreaterThanOrEqual(6);
        for (const [i, m] of mn.entries()) {
          expect(Object.keys(m).sort()).toEqual(Object.keys(m1[i]).sort());
          for (const key of Object.keys(m1[i]).filter((k) => k !== 'time')) {
            expect(
              Math.abs(m[key] - m1[i][key]),
              `${key} at step ${m.step}, ${workers} replicas`,
            ).toBeLessThan(tol * Math.max(1, Math.abs(m1[i][key])));
          }
        }
        const { diff, scale } = maxDiff(await weightsOf(r), w1);
        expect(diff, `weights, ${workers} replicas`).toBeLessThan(tol * Math.max(1, scale));
        r.student.dispose();
      }
    }, 180_000);
  }

  test('--resume with 2 replicas ends with the bytes of an uninterrupted 2-replica run (Gumbel, contrast, usage)', async () => {
    const data = syntheticFeatures(64);
    const a = tmp();
    const full = await train(tinyConfig(a, gumbel), data, { ...quiet, workers: 2 });
    const expected = Buffer.from((await full.student.save()).weights);
    full.student.dispose();
    const b = tmp();
    const first = await train(tinyConfig(b, gumbel), data, { ...quiet, workers: 2, maxSteps: 3 });
    first.student.dispose();
    const second = await train(tinyConfig(b, gumbel), data, { ...quiet, workers: 2, resume: true });
    expect(Buffer.from((await second.student.save()).weights).equals(expected)).toBe(true);
    second.student.dispose();
  }, 120_000);

  test('refused: more replicas than images per batch, and discretizers or objectives not reviewed for it', async () => {
    const cfg = tinyConfig(tmp(), { optim: { batchSize: 4 } });
    await expect(train(cfg, syntheticFeatures(64), { ...quiet, workers: 5 })).rejects.toThrow(
      /train --workers 5: more replicas than images per batch \(optim\.batchSize 4\)/,
    );
    const base = tinyConfig(tmp());
    expect(dataParallelProblem(base)).toBeUndefined();
    const newDiscretizer = { ...base, student: { ...base.student, discretizer: { kind: 'lfq' } } };
    expect(dataParallelProblem(newDiscretizer as never)).toMatch(
      /supports the temperature, fsq, gumbel, vq discretizers, not 'lfq'/,
    );
    const newObjective = { ...base, objective: { ...base.objective, kind: 'barlow' } };
    expect(dataParallelProblem(newObjective as never)).toMatch(
      /supports the features, dino, contrast objectives, not 'barlow'/,
    );
  });
});
