// Whole runs of the built CLI on a tiny image folder and a random-weight teacher: resuming a finished
// run, run folders used from another directory, the options every run has. Needs the built CLI.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliPath, runCli, writeTinyImageFolder, writeTinyTeacher } from './tiny-image-run';

const root = mkdtempSync(join(tmpdir(), 'symseq-runs-'));
const dataDir = join(root, 'data');
const teacherDir = join(root, 'teacher');
const configPath = join(root, 'config.json');

// 2 × 8 train images in batches of 8: 2 steps per epoch.
const CONFIG = {
  name: 'tiny-runs',
  seed: 3,
  data: { dataset: 'imagefolder' },
  teacher: { kind: 'mobilenet', inputSize: 16, tokensLayer: 'feat', batchSize: 8 },
  cache: { dir: join(root, 'cache'), dtype: 'float32' },
  student: {
    dModel: 16,
    heads: 2,
    vocabSize: 8,
    maxLength: 4,
    decoder: { layers: 1 },
    encoder: { layers: 1 },
    projector: { layers: 2, hiddenDim: 16, bottleneckDim: 8 },
  },
  objective: { lengths: [1, 2, 4] },
  optim: { epochs: 2, batchSize: 8, warmupEpochs: 0.5 },
  eval: { lengths: [1, 2, 4], k: 3 },
  checkpointEvery: 2,
  logEvery: 1,
};

const train = (out: string, extra: string[] = []) =>
  runCli([
    'train',
    ...['-c', configPath, '--data-dir', dataDir, '--teacher', teacherDir, '-o', out],
    ...['--backend', 'wasm', '-q', ...extra],
  ]);

beforeAll(async () => {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build first`);
  writeTinyImageFolder(dataDir, { train: 8, test: 3 });
  await writeTinyTeacher(teacherDir);
  writeFileSync(configPath, JSON.stringify(CONFIG));
}, 60_000);

describe('train --resume of a finished run', () => {
  it('says it was already finished, with the last loss, and writes the final files and report again', () => {
    const out = join(root, 'finished');
    const first = train(out);
    expect(first.status, first.err).toBe(0);
    const loss = first.out.match(/trained 4 steps in \d+ s; final loss (-?\d+\.\d{4})/)?.[1];
    expect(loss, first.out).toBeDefined();
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
    for (const f of ['student.json', 'student.safetensors', 'report.md', 'report.json']) rmSync(join(out, f));
    const again = train(out, ['--resume']);
    expect(again.status, again.err).toBe(0);
    expect(again.out).toContain('--resume: already finished at step 4 of 4; nothing to train');
    expect(again.out).toContain(
      `already finished at step 4; final loss ${loss}; final student and report written again`,
    );
    expect(again.out).not.toMatch(/NaN/);
    for (const f of ['student.json', 'student.safetensors', 'report.md', 'report.json'])
      expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).toBe(metrics);
  }, 120_000);
});
