// Whole runs of the built CLI on a tiny image folder and a random-weight teacher: resuming a finished
// run, run folders used from another directory, the options every run has. Needs the built CLI.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyStudent } from './helpers';
import { cliPath, runCli, tinyRunFolder, writeTinyInputs } from './tiny-image-run';

const tiny = tinyRunFolder('symseq-runs-');
const { root, dataDir, teacherDir, configPath } = tiny;

// 2 × 8 train images in batches of 8: 2 steps per epoch.
const CONFIG = {
  name: 'tiny-runs',
  seed: 3,
  data: { dataset: 'imagefolder' },
  teacher: { kind: 'mobilenet', inputSize: 16, tokensLayer: 'feat', pooledLayer: 'feat', batchSize: 8 },
  cache: { dir: join(root, 'cache'), dtype: 'float32' },
  student: tinyStudent(16),
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
  await writeTinyInputs(tiny, { train: 8, test: 3 }, CONFIG);
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

describe('the options every run has', () => {
  it('--version prints the package version', () => {
    const r = runCli(['--version']);
    expect(r.status, r.err).toBe(0);
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
    expect(r.out.trim()).toBe(pkg.version);
  });

  it('-c without --preset merges over the cpu preset; --batch-size, --lr, --max-steps; --print-config exits', () => {
    const cpu = JSON.parse(readFileSync(join(__dirname, '..', 'configs', 'cpu.json'), 'utf8'));
    const file = join(root, 'partial.json');
    writeFileSync(file, JSON.stringify({ name: 'partial', optim: { epochs: 7 } }));
    const out = join(root, 'never-written');
    const r = runCli([
      'train',
      ...['-c', file, '-o', out, '--batch-size', '32', '--lr', '0.002', '--max-steps', '9'],
      '--print-config',
    ]);
    expect(r.status, r.err).toBe(0);
    const printed = JSON.parse(r.out);
    expect(printed.name).toBe('partial');
    // From the cpu preset, which the file does not mention.
    expect(printed.student.dModel).toBe(cpu.student.dModel);
    expect(printed.teacher.inputSize).toBe(cpu.teacher.inputSize);
    expect(printed.objective.regularizer).toEqual(cpu.objective.regularizer);
    expect(printed.optim).toMatchObject({ epochs: 7, batchSize: 32, lr: 0.002, maxSteps: 9 });
    expect(existsSync(out)).toBe(false);
    const bad = runCli(['train', '--lr', '-1', '--print-config']);
    expect(bad.status).not.toBe(0);
    expect(bad.err).toContain("expected a number > 0, got '-1'");
  });

  it('relative paths: the run folder works from another directory; --max-steps; the bar line shows the loss', () => {
    const config = join(root, 'relative.json');
    writeFileSync(config, JSON.stringify({ ...CONFIG, cache: { dir: 'cache-rel', dtype: 'float32' } }));
    const t = runCli(
      [
        'train',
        ...['-c', 'relative.json', '--data-dir', 'data', '--teacher', 'teacher', '-o', 'runs/rel'],
        ...['--backend', 'wasm', '--max-steps', '3'],
      ],
      {},
      root,
    );
    expect(t.status, t.err).toBe(0);
    expect(t.out).toMatch(/trained 3 steps in \d+ s; final loss/);
    const run = join(root, 'runs', 'rel');
    const saved = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect([saved.data.dir, saved.teacher.path, saved.cache.dir]).toEqual([
      dataDir,
      teacherDir,
      join(root, 'cache-rel'),
    ]);
    const metrics = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3]);
    // Not a terminal: a line per 10 %, each with the loss of its last step, as metrics.jsonl has it.
    const lines = t.err.split('\n').filter((l) => l.startsWith('train: '));
    expect(lines).toHaveLength(3);
    lines.forEach((l, i) => {
      expect(l).toMatch(new RegExp(`^train: ${i + 1}/3 step .*, ETA \\d+ s, loss -?\\d+\\.\\d{4}$`));
      expect(l.endsWith(`loss ${metrics[i].total.toFixed(4)}`)).toBe(true);
    });

    const elsewhere = mkdtempSync(join(tmpdir(), 'symseq-elsewhere-'));
    const e = runCli(['eval', '-r', run, '--backend', 'wasm', '-q'], {}, elsewhere);
    expect(e.status, e.err).toBe(0);
    expect(e.out).toMatch(
      /teacher ceiling: \d+\.\d+% top-1; \d\.\d\d distinct symbols per \d-symbol sequence/,
    );
    // eval rewrites the report but keeps what train wrote of the training.
    expect(readFileSync(join(run, 'report.md'), 'utf8')).toMatch(
      /Training: 3 steps in \d+ s, final loss -?\d+\.\d{4}\./,
    );
    const enc = runCli(['encode', '-r', run, join(dataDir, 'test', 'c1')], {}, elsewhere);
    expect(enc.status, enc.err).toBe(0);
    expect(enc.out.trim().split('\n')).toHaveLength(3);
    const x = runCli(['export', '-r', run, '-o', 'exported', '--per-class', '1', '-q'], {}, elsewhere);
    expect(x.status, x.err).toBe(0);
    expect(existsSync(join(elsewhere, 'exported', 'manifest.json'))).toBe(true);
  }, 180_000);

  it('encode on an empty folder exits non-zero and says so', () => {
    const empty = mkdtempSync(join(tmpdir(), 'symseq-empty-'));
    const r = runCli(['encode', '-r', join(root, 'finished'), empty]);
    expect(r.status).toBe(1);
    expect(r.err).toContain(`encode: no image files (.jpg, .jpeg, .png`);
    expect(r.err).toContain(`) in ${empty}`);
  });
});

describe('what a finished run reports', () => {
  it("attn's header states the images per class it used; the report names the run and dataset, without the paper's CIFAR-10 numbers", () => {
    const run = join(root, 'finished');
    expect(existsSync(join(run, 'student.json'))).toBe(true);
    // 3 test images per class exist; 50 are asked for.
    const a = runCli(
      ['attn', '-r', run, '--per-class', '1', '--consistency-per-class', '50', '--backend', 'wasm', '-q'],
      {},
    );
    expect(a.status, a.err).toBe(0);
    expect(a.out).toContain('attention map across 3 test images per class');
    expect(a.out).not.toContain('across 50');
    const md = readFileSync(join(run, 'report.md'), 'utf8');
    expect(md.split('\n')[0]).toBe("# symseq run: tiny-runs on image folder 'data'");
    expect(md).not.toContain('Paper (');
    expect(JSON.parse(readFileSync(join(run, 'report.json'), 'utf8')).paper).toBeNull();
    const svg = readFileSync(join(run, 'accuracy.svg'), 'utf8');
    expect(svg).toContain("tiny-runs on image folder 'data'");
    expect(svg).not.toContain('paper (ViT-B/16)');
  }, 60_000);
});
