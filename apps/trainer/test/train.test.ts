import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { evaluate } from '../src/evaluate';
import { train } from '../src/train';
import { syntheticFeatures, tinyConfig, withViews } from './helpers';

const tmp = () => mkdtempSync(join(tmpdir(), 'symseq-train-'));
const losses = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; total: number });

describe('training loop', () => {
  const data = syntheticFeatures(64);

  test('--resume continues exactly: same loss curve as an uninterrupted run', async () => {
    for (const kind of ['temperature', 'gumbel'] as const) {
      const a = tmp();
      const full = await train(tinyConfig(a, { student: { discretizer: { kind } } }), data, { quiet: true });
      const b = tmp();
      const cfgB = tinyConfig(b, { student: { discretizer: { kind } } });
      const first = await train(cfgB, data, { quiet: true, maxSteps: 3 });
      first.student.dispose();
      const second = await train(cfgB, data, { quiet: true, resume: true, log: () => {} });
      expect(second.steps).toBe(full.steps);
      const la = losses(a);
      const lb = losses(b).filter((r, i, all) => all.findIndex((x) => x.step === r.step) === i);
      expect(lb.map((r) => r.step)).toEqual(la.map((r) => r.step));
      for (let i = 0; i < la.length; i++) expect(lb[i].total).toBeCloseTo(la[i].total, 5);
      const wa = await full.student.trainableVariables()[0].data();
      const wb = await second.student.trainableVariables()[0].data();
      expect(Array.from(wb)).toEqual(Array.from(wa));
      full.student.dispose();
      second.student.dispose();
    }
  });

  test('the loss falls and the symbols carry class information after training', async () => {
    const dir = tmp();
    const bigger = syntheticFeatures(128);
    const r = await train(tinyConfig(dir, { optim: { epochs: 12 } }), bigger, { quiet: true });
    const curve = losses(dir);
    expect(curve[curve.length - 1].total).toBeLessThan(curve[0].total * 0.75);
    const test = syntheticFeatures(64, 99);
    const e = await evaluate(r.student, bigger, test, { lengths: [1, 2, 4], k: 5, T: 0.07, quiet: true });
    // 4 classes: chance is 25%; the hard 4-symbol prefix must separate them well above it.
    expect(e.rows[e.rows.length - 1].top1).toBeGreaterThan(45);
    r.student.dispose();
  });

  test('numTensors stays flat over training steps and evaluation', async () => {
    const dir = tmp();
    const cfg = tinyConfig(dir, { optim: { epochs: 1 } });
    const warm = await train(cfg, data, { quiet: true });
    warm.student.dispose();
    const before = tf.memory().numTensors;
    const r = await train(tinyConfig(tmp(), { optim: { epochs: 6 } }), data, { quiet: true });
    const afterTrain = tf.memory().numTensors;
    r.student.dispose();
    // Only the student's own variables (and the optimizer's slots, freed with it) may remain.
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 2);
    expect(afterTrain).toBeGreaterThan(before);
    const s2 = await train(tinyConfig(tmp(), { optim: { epochs: 1 } }), data, { quiet: true });
    const e0 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++)
      await evaluate(s2.student, data, data, { lengths: [1, 4], k: 5, T: 0.07, quiet: true });
    expect(tf.memory().numTensors).toBe(e0);
    s2.student.dispose();
  });

  test('cross-view pairing (DINO objective with prototypes) trains on two views and learns', async () => {
    const two = withViews([syntheticFeatures(128, 1), syntheticFeatures(128, 2)]);
    const dir = tmp();
    const cfg = tinyConfig(dir, {
      cache: { views: 1 },
      objective: { kind: 'dino', pairing: 'cross', prototypes: 16, dino: { teacherTemp: 0.04 } },
      optim: { epochs: 10 },
    });
    const r = await train(cfg, two, { quiet: true });
    const curve = losses(dir);
    expect(curve[curve.length - 1].total).toBeLessThan(curve[0].total);
    const e = await evaluate(r.student, two, withViews([syntheticFeatures(64, 99)]), {
      lengths: [1, 2, 4],
      k: 5,
      T: 0.07,
      quiet: true,
    });
    expect(e.rows[e.rows.length - 1].top1).toBeGreaterThan(40);
    r.teacherHead?.dispose();
    r.student.dispose();
  });

  test('a non-finite loss stops with a clear message and keeps the last good checkpoint', async () => {
    const dir = tmp();
    // Hard symbols stop NaN tokens from reaching the loss, so poison the target instead.
    const bad = syntheticFeatures(64);
    bad.pooled.fill(Number.NaN, 0, bad.pooled.length);
    await expect(train(tinyConfig(dir), bad, { quiet: true })).rejects.toThrow(
      /loss became NaN at step 0 \(epoch 0\); stopping\. The last good checkpoint is kept in/,
    );
  });
});
