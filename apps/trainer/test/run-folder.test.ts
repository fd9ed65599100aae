import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Student } from '@symseq/decoder';
import { describe, expect, test } from 'vitest';
import { RunFolder } from '../src/run-folder';
import { train } from '../src/train';
import { syntheticFeatures, tinyConfig } from './helpers';

const tmp = () => mkdtempSync(join(tmpdir(), 'symseq-runfolder-'));
const tinyStudent = (seed: number) =>
  new Student(
    {
      teacherDim: 8,
      dModel: 16,
      heads: 2,
      vocabSize: 8,
      maxLength: 2,
      lengths: [1, 2],
      projector: { layers: 2, hiddenDim: 16, bottleneckDim: 8, outDim: 8 },
    },
    { seed },
  );

describe('run folder', () => {
  test('a fresh train into a folder holding a run is refused; --resume or --overwrite are the ways on', () => {
    const dir = tmp();
    const f = new RunFolder(dir);
    expect(() => f.checkStart({})).not.toThrow();
    writeFileSync(join(dir, 'config.json'), '{}');
    expect(() => f.checkStart({})).toThrow(
      /already holds a run .*pass --resume to continue it, --overwrite to replace it/,
    );
    expect(() => f.checkStart({ resume: true })).not.toThrow();
    expect(() => f.checkStart({ overwrite: true })).not.toThrow();
    expect(() => f.checkStart({ resume: true, overwrite: true })).toThrow(
      '--resume and --overwrite exclude each other',
    );
  });

  test('--overwrite replaces the old run cleanly: its checkpoints cannot mix with the new ones', async () => {
    const dir = tmp();
    const data = syntheticFeatures(64);
    // An old, longer run leaves checkpoints of higher steps behind.
    const old = await train(tinyConfig(dir, { optim: { epochs: 4 } }), data, { quiet: true, log: () => {} });
    old.student.dispose();
    const folder = new RunFolder(dir);
    await folder.begin(tinyConfig(dir), { overwrite: true });
    expect(existsSync(join(dir, 'checkpoints'))).toBe(false);
    expect(existsSync(join(dir, 'metrics.jsonl'))).toBe(false);
    const fresh = await train(tinyConfig(dir), data, { quiet: true, log: () => {}, maxSteps: 3 });
    fresh.student.dispose();
    // The new run's own checkpoint is there and resumable (the old cleanup deleted it at once).
    const again = await train(tinyConfig(dir), data, { quiet: true, log: () => {}, resume: true });
    expect(again.steps).toBe(8);
    again.student.dispose();
  });

  test('the final student pair is one unit: weights from another write are refused, naming both files', async () => {
    const dir = tmp();
    mkdirSync(dir, { recursive: true });
    const folder = new RunFolder(dir);
    const a = tinyStudent(1);
    await folder.writeStudent(a, { step: 23 });
    const loaded = folder.readStudent();
    loaded.dispose();
    // A kill between the two files: newer weights beside the older JSON.
    const b = tinyStudent(2);
    writeFileSync(join(dir, 'student.safetensors'), (await b.save()).weights);
    expect(() => folder.readStudent()).toThrow(
      /student\.safetensors is not the file .*student\.json was written with \(sha256 differs/,
    );
    a.dispose();
    b.dispose();
  });

  test('a resumed run keeps each step once in metrics.jsonl, even when the log went further than the checkpoint', async () => {
    const dir = tmp();
    const data = syntheticFeatures(64);
    const first = await train(tinyConfig(dir), data, { quiet: true, log: () => {}, maxSteps: 3 });
    first.student.dispose();
    // As if the run had logged steps 4 and 5 and was killed before their checkpoint, mid-line.
    const p = join(dir, 'metrics.jsonl');
    writeFileSync(p, `${readFileSync(p, 'utf8')}{"step":4,"total":1}\n{"step":5,"tot`);
    const second = await train(tinyConfig(dir), data, { quiet: true, log: () => {}, resume: true });
    second.student.dispose();
    const steps = readFileSync(p, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { step: number }).step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
