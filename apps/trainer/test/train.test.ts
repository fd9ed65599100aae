import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { evaluate } from '../src/evaluation';
import { train } from '../src/train';
import { syntheticArrays, syntheticFeatures, tinyConfig, withViews } from './helpers';

const tmp = () => mkdtempSync(join(tmpdir(), 'symseq-train-'));
const metrics = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; total: number; time: number });
const weightsOf = async (r: { student: { save(): Promise<{ weights: Uint8Array }> } }) =>
  Buffer.from((await r.student.save()).weights);
const quiet = { quiet: true, log: () => {} };

describe('training loop', () => {
  const data = syntheticFeatures(64);
  const twoViews = withViews([syntheticArrays(64, 1), syntheticArrays(64, 2)]);

  // tiny config: 64 images / batch 16 = 4 steps per epoch, 2 epochs; checkpoints at 3, 4, 6, 8 and where a call stops.
  const kinds = [
    { name: 'temperature', data, extra: {} },
    { name: 'gumbel', data, extra: { student: { discretizer: { kind: 'gumbel' as const } } } },
    {
      name: 'dino (cross views)',
      data: twoViews,
      extra: {
        cache: { views: 1 },
        objective: { kind: 'dino' as const, pairing: 'cross' as const, prototypes: 8 },
      },
    },
  ];
  for (const k of kinds) {
    test(`--resume at steps 1, 3, 5 and 7 ends with the same bytes as an uninterrupted run (${k.name})`, async () => {
      const a = tmp();
      const full = await train(tinyConfig(a, k.extra), k.data, quiet);
      const expected = await weightsOf(full);
      full.student.dispose();
      for (const at of [1, 3, 5, 7]) {
        const b = tmp();
        const cfg = tinyConfig(b, k.extra);
        const first = await train(cfg, k.data, { ...quiet, maxSteps: at });
        first.student.dispose();
        const second = await train(cfg, k.data, { ...quiet, resume: true });
        expect(second.steps).toBe(full.steps);
        expect((await weightsOf(second)).equals(expected), `resumed at step ${at}`).toBe(true);
        second.student.dispose();
        // metrics.jsonl: every step once, with the uninterrupted run's exact losses.
        expect(metrics(b)).toEqual(metrics(a).map((m, i) => ({ ...m, time: metrics(b)[i].time })));
      }
    });
  }

  test('--resume falls back to the older checkpoint when the newest is damaged, and says so', async () => {
    const a = tmp();
    const full = await train(tinyConfig(a), data, quiet);
    const expected = await weightsOf(full);
    full.student.dispose();
    const b = tmp();
    const first = await train(tinyConfig(b), data, { ...quiet, maxSteps: 6 });
    first.student.dispose();
    const ck = join(b, 'checkpoints');
    expect(readdirSync(ck).filter((f) => f.endsWith('.state.json'))).toEqual([
      'step-0000004.state.json',
      'step-0000006.state.json',
    ]);
    // Truncate the newest student weights, as a full disk or a kill during a copy would.
    const w = join(ck, 'step-0000006.student.safetensors');
    writeFileSync(w, readFileSync(w).subarray(0, 100));
    const lines: string[] = [];
    const second = await train(tinyConfig(b), data, { quiet: true, resume: true, log: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(
      /checkpoint step-0000006 is unusable: .*step-0000006\.student\.safetensors does not match the checksum .*; falling back to step-0000004/,
    );
    expect((await weightsOf(second)).equals(expected)).toBe(true);
    second.student.dispose();
  });

  test('damaged checkpoints are named with what is wrong when none is usable', async () => {
    const b = tmp();
    const first = await train(tinyConfig(b), data, { ...quiet, maxSteps: 6 });
    first.student.dispose();
    const ck = join(b, 'checkpoints');
    writeFileSync(join(ck, 'step-0000006.state.json'), '{"format": "symseq-train-state", ');
    writeFileSync(join(ck, 'step-0000004.state.safetensors'), Buffer.alloc(0));
    await expect(train(tinyConfig(b), data, { ...quiet, resume: true })).rejects.toThrow(
      /no usable checkpoint in .*checkpoints:\n {2}checkpoint step-0000006 is unusable: .*step-0000006\.state\.json is not valid JSON .*\n {2}checkpoint step-0000004 is unusable: .*step-0000004\.state\.safetensors does not match the checksum/,
    );
  });

  test('the loss falls and the symbols carry class information after training', async () => {
    const dir = tmp();
    const bigger = syntheticFeatures(128);
    const r = await train(tinyConfig(dir, { optim: { epochs: 12 } }), bigger, quiet);
    const curve = metrics(dir);
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
    const warm = await train(cfg, data, quiet);
    warm.student.dispose();
    const before = tf.memory().numTensors;
    const r = await train(tinyConfig(tmp(), { optim: { epochs: 6 } }), data, quiet);
    const afterTrain = tf.memory().numTensors;
    r.student.dispose();
    // Only the student's own variables may remain while it lives; none once it is disposed.
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
    expect(afterTrain).toBeGreaterThan(before);
    const s2 = await train(tinyConfig(tmp(), { optim: { epochs: 1 } }), data, quiet);
    const e0 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++)
      await evaluate(s2.student, data, data, { lengths: [1, 4], k: 5, T: 0.07, quiet: true });
    expect(tf.memory().numTensors).toBe(e0);
    s2.student.dispose();
  });

  test('numTensors stays flat over training steps with the exact first-symbol term (the cpu preset objective)', async () => {
    const exact = {
      objective: {
        kind: 'contrast' as const,
        weights: [0.5, 0.25, 0.25],
        contrast: { temperature: 0.1, exactFirstSymbol: true },
        regularizer: { usageWeight: 0.1 },
      },
    };
    const warm = await train(tinyConfig(tmp(), { ...exact, optim: { epochs: 1 } }), data, quiet);
    warm.student.dispose();
    const before = tf.memory().numTensors;
    const short = await train(tinyConfig(tmp(), { ...exact, optim: { epochs: 1 } }), data, quiet);
    const afterShort = tf.memory().numTensors;
    short.student.dispose();
    const long = await train(tinyConfig(tmp(), { ...exact, optim: { epochs: 6 } }), data, quiet);
    // Six times the steps leave exactly as many tensors as one epoch: the student's variables only.
    expect(tf.memory().numTensors).toBe(afterShort);
    expect(afterShort).toBeGreaterThan(before);
    long.student.dispose();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
  });

  test('cross-view pairing (DINO objective with prototypes) trains on two views and learns', async () => {
    const two = withViews([syntheticArrays(128, 1), syntheticArrays(128, 2)]);
    const dir = tmp();
    const cfg = tinyConfig(dir, {
      cache: { views: 1 },
      objective: { kind: 'dino', pairing: 'cross', prototypes: 16, dino: { teacherTemp: 0.04 } },
      optim: { epochs: 10 },
    });
    const r = await train(cfg, two, quiet);
    const curve = metrics(dir);
    expect(curve[curve.length - 1].total).toBeLessThan(curve[0].total);
    const e = await evaluate(r.student, two, withViews([syntheticArrays(64, 99)]), {
      lengths: [1, 2, 4],
      k: 5,
      T: 0.07,
      quiet: true,
    });
    expect(e.rows[e.rows.length - 1].top1).toBeGreaterThan(40);
    r.student.dispose();
  });

  test('a non-finite loss stops with a clear message; step numbers are those of the files', async () => {
    const dir = tmp();
    // Hard symbols stop NaN tokens from reaching the loss, so poison the targets of the second epoch's images instead.
    const arrays = syntheticArrays(64);
    arrays.pooled.fill(Number.NaN);
    const { asCache } = await import('./helpers');
    await expect(train(tinyConfig(dir), asCache(arrays), quiet)).rejects.toThrow(
      /loss became NaN at step 1 \(epoch 0\); stopping\. The last finite checkpoint is none yet\./,
    );
  });

  test('a huge learning rate: no checkpoint with non-finite values is written, and the message names the last finite one', async () => {
    const dir = tmp();
    // Checkpoint after every step, so the first non-finite update meets a checkpoint write.
    const cfg = {
      ...tinyConfig(dir, { optim: { lr: 1e30, warmupEpochs: 0, clipGrad: 0 } }),
      checkpointEvery: 1,
    };
    const err = await train(cfg, data, quiet).then(
      () => 'no error',
      (e: Error) => e.message,
    );
    expect(err).toMatch(
      /^the parameters became non-finite by step 1: \d+ non-finite values in \d+ tensors .*; stopping without writing that checkpoint\. The last finite checkpoint is none yet\./,
    );
    expect(existsSync(join(dir, 'checkpoints', 'step-0000001.state.json'))).toBe(false);
  });
});
