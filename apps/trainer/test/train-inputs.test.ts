// What the trainer derives from the training set before the first step: the token statistics of
// `student.decoder.standardizeTokens`, the pooled mean of `objective.contrast.center`, and the
// run's length in steps (`optim.minSteps`).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { pooledMean, stepPlan, tokenStatistics, train } from '../src/train';
import { asCache, syntheticArrays, tinyConfig, tinyStudent } from './helpers';

const tmp = () => mkdtempSync(join(tmpdir(), 'symseq-inputs-'));
const quiet = { quiet: true, log: () => {} };

/** Synthetic features with channel offsets and scales far from 0/1, and one constant channel. */
function offsetArrays(n: number) {
  const f = syntheticArrays(n, 4, 4, 4, 8);
  for (let i = 0; i < f.tokens.length; i++) {
    const c = i % f.tokenDim;
    f.tokens[i] = c === 5 ? 2.5 : 10 + c + (1 + c) * f.tokens[i];
  }
  for (let i = 0; i < f.pooled.length; i++) f.pooled[i] += 3 + (i % f.tokenDim);
  return f;
}

describe('training-set statistics', () => {
  test('tokenStatistics: per-channel mean and std over every image and position (float64 reference)', () => {
    const f = offsetArrays(37); // not a multiple of the 256-image chunks
    const { mean, std } = tokenStatistics(asCache(f));
    const D = f.tokenDim;
    const rows = f.tokens.length / D;
    for (let c = 0; c < D; c++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += f.tokens[r * D + c];
      const m = s / rows;
      let v = 0;
      for (let r = 0; r < rows; r++) v += (f.tokens[r * D + c] - m) ** 2;
      expect(mean[c]).toBeCloseTo(m, 9);
      // A constant channel gets std 1, so standardising it gives 0 rather than 0/0.
      expect(std[c]).toBeCloseTo(c === 5 ? 1 : Math.sqrt(v / rows), 7);
    }
    expect(std[3]).toBeGreaterThan(2);
  });

  test('pooledMean: the mean pooled feature of the clean views', () => {
    const f = offsetArrays(1100); // more than one 1024-image chunk
    const got = pooledMean(asCache(f));
    const D = f.tokenDim;
    for (let c = 0; c < D; c++) {
      let s = 0;
      for (let i = 0; i < f.n; i++) s += f.pooled[i * D + c];
      expect(got[c]).toBeCloseTo(s / f.n, 5);
    }
  });

  test('a run with standardizeTokens and center stores the statistics, and --resume continues it byte for byte', async () => {
    const data = asCache(offsetArrays(64));
    const extra = {
      student: { decoder: { layers: 1, standardizeTokens: true } },
      objective: { kind: 'contrast' as const, contrast: { center: true }, regularizer: { usageWeight: 0.1 } },
    };
    const a = tmp();
    const full = await train(tinyConfig(a, extra), data, quiet);
    const { mean, std } = tokenStatistics(data);
    const stored = (name: string) => Array.from(full.student.store.get(name).dataSync());
    expect(stored('decoder.token_mean')).toEqual(Array.from(Float32Array.from(mean)));
    expect(stored('decoder.token_std')).toEqual(Array.from(Float32Array.from(std)));
    const expected = Buffer.from((await full.student.save()).weights);
    full.student.dispose();
    const b = tmp();
    (await train(tinyConfig(b, extra), data, { ...quiet, maxSteps: 3 })).student.dispose();
    const second = await train(tinyConfig(b, extra), data, { ...quiet, resume: true });
    expect(Buffer.from((await second.student.save()).weights).equals(expected)).toBe(true);
    second.student.dispose();
    // The options change training: without them the same run ends elsewhere.
    const c = tmp();
    const plain = await train(tinyConfig(c, { student: tinyStudent() }), data, quiet);
    expect(Buffer.from((await plain.student.save()).weights).equals(expected)).toBe(false);
    plain.student.dispose();
  }, 60_000);
});

describe('stepPlan', () => {
  const optim = { epochs: 2, warmupEpochs: 0.5 };
  test('epochs of the training set when no minSteps is given (the cpu preset on CIFAR-10: 390)', () => {
    expect(stepPlan(optim, 195)).toEqual({ totalSteps: 390, warmupSteps: 98 });
  });
  test('minSteps stretches a small set’s run and its warm-up by the same factor', () => {
    // 1,438 digits at batch 256: 5 steps an epoch, 10 by epochs; 1,560 asked.
    expect(stepPlan({ ...optim, minSteps: 1560 }, 5)).toEqual({ totalSteps: 1560, warmupSteps: 390 });
  });
  test('minSteps below what the epochs give changes nothing; maxSteps still caps', () => {
    expect(stepPlan({ ...optim, minSteps: 100 }, 195)).toEqual({ totalSteps: 390, warmupSteps: 98 });
    expect(stepPlan({ ...optim, minSteps: 1560, maxSteps: 7 }, 5)).toEqual({
      totalSteps: 7,
      warmupSteps: 390,
    });
  });
});
