// Data-parallel training (train --workers N): replicas in worker threads stay bit-identical, and N
// replicas give what one gives, to float rounding, including the batch-level terms (usage regulariser on
// the whole batch's logits, DINO centre from the whole batch). Worker threads run the built
// dist/train-replica.js (npm run build).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '@symseq/nn';
import { describe, expect, test } from 'vitest';
import { splitBatch } from '../src/data-parallel';
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

describe('train --workers', () => {
  test('splitBatch: contiguous parts differing by at most one', () => {
    expect(splitBatch(16, 2)).toEqual([8, 8]);
    expect(splitBatch(16, 3)).toEqual([5, 5, 6]);
    expect(splitBatch(5, 4)).toEqual([1, 1, 1, 2]);
  });

  const usage = { objective: { regularizer: { usageWeight: 0.5, infoMaxWeight: 0.2 } } };
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
  ];
  for (const c of cases) {
    test(`2 and 3 replicas give one replica's losses and weights; replicas identical (${c.name})`, async () => {
      const one = tmp();
      const r1 = await train(tinyConfig(one, c.extra), c.data, quiet);
      const w1 = await weightsOf(r1);
      expect(r1.replicaWeights).toBeUndefined();
      r1.student.dispose();
      for (const workers of [2, 3]) {
        const dir = tmp();
        const r = await train(tinyConfig(dir, c.extra), c.data, { ...quiet, workers });
        expect(r.replicaWeights).toHaveLength(workers);
        expect(new Set(r.replicaWeights).size).toBe(1);
        const m1 = metrics(one);
        const mn = metrics(dir);
        expect(mn.map((m) => m.step)).toEqual(m1.map((m) => m.step));
        for (const [i, m] of mn.entries()) {
          for (const key of Object.keys(m1[i]).filter((k) => k !== 'time')) {
            expect(
              Math.abs(m[key] - m1[i][key]),
              `${key} at step ${m.step}, ${workers} replicas`,
            ).toBeLessThan(1e-4 * Math.max(1, Math.abs(m1[i][key])));
          }
        }
        // The regulariser saw the whole batch: its value is one replica's, not a mean over parts.
        expect(mn[0].regularizer).toBeDefined();
        const { diff, scale } = maxDiff(await weightsOf(r), w1);
        expect(diff, `weights, ${workers} replicas`).toBeLessThan(1e-4 * Math.max(1, scale));
        r.student.dispose();
      }
    }, 120_000);
  }

  test('--resume with 2 replicas ends with the bytes of an uninterrupted 2-replica run', async () => {
    const data = syntheticFeatures(64);
    const a = tmp();
    const full = await train(tinyConfig(a, usage), data, { ...quiet, workers: 2 });
    const expected = Buffer.from((await full.student.save()).weights);
    full.student.dispose();
    const b = tmp();
    const first = await train(tinyConfig(b, usage), data, { ...quiet, workers: 2, maxSteps: 3 });
    first.student.dispose();
    const second = await train(tinyConfig(b, usage), data, { ...quiet, workers: 2, resume: true });
    expect(Buffer.from((await second.student.save()).weights).equals(expected)).toBe(true);
    second.student.dispose();
  }, 120_000);

  test('a discretizer with noise or EMA state, or an in-batch contrastive objective, is refused with the reason', async () => {
    const cfg = tinyConfig(tmp(), { student: { discretizer: { kind: 'gumbel' } } });
    await expect(train(cfg, syntheticFeatures(64), { ...quiet, workers: 2 })).rejects.toThrow(
      /train --workers > 1 supports the temperature and fsq discretizers, not 'gumbel'/,
    );
    const contrast = tinyConfig(tmp(), { objective: { kind: 'contrast' } });
    await expect(train(contrast, syntheticFeatures(64), { ...quiet, workers: 2 })).rejects.toThrow(
      /supports the features and dino objectives, not 'contrast': its loss compares each image with the rest of the batch/,
    );
  });
});
