import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, test } from 'vitest';
import { attnCommand } from '../src/commands/attn';
import { encodeCommand } from '../src/commands/encode';
import { exportCommand } from '../src/commands/export';
import { cifar, mobilenet, realDataReady, trainTinyCifarRun } from './helpers';

// A real (tiny) run on CIFAR-10 with the MobileNet teacher, then the commands that read a run.
const ready = realDataReady('trainer command tests');

describe.skipIf(!ready)('train → encode, attn, export on real data', () => {
  const run = join(mkdtempSync(join(tmpdir(), 'symseq-cmd-')), 'run');

  test('train writes a run, attn draws montages and a consistency table, export and encode agree', async () => {
    await trainTinyCifarRun(run, ['optim.batchSize=50', 'eval.lengths=[1,2,4,8]']);
    for (const f of [
      'config.json',
      'student.json',
      'student.safetensors',
      'report.md',
      'report.json',
      'accuracy.svg',
    ]) {
      expect(existsSync(join(run, f)), f).toBe(true);
    }
    const report = JSON.parse(readFileSync(join(run, 'report.json'), 'utf8'));
    expect(report.result.rows.map((r: { length: number }) => r.length)).toEqual([1, 2, 4, 8]);
    // On CIFAR-10 the report is titled so and compares with the paper's CIFAR-10 numbers.
    expect(readFileSync(join(run, 'report.md'), 'utf8').split('\n')[0]).toBe('# symseq run: cpu on CIFAR-10');
    expect(report.paper).toEqual([
      [1, 28.5],
      [8, 43.9],
    ]);
    expect(readFileSync(join(run, 'accuracy.svg'), 'utf8')).toMatch(
      /^<svg[\s\S]*paper \(ViT-B\/16\)[\s\S]*<\/svg>$/,
    );

    const attn = await attnCommand({
      run,
      perClass: 1,
      consistencyPerClass: 4,
      backend: 'wasm',
      quiet: true,
      dataDir: cifar,
      teacher: mobilenet,
    });
    expect(attn.montages.length).toBe(10);
    const png = PNG.sync.read(readFileSync(attn.montages[0]));
    // 9 cells (image + 8 symbols) of 128 px panels at scale 4, in one row.
    expect(png.width).toBeGreaterThan(9 * 128);
    expect(png.height).toBeGreaterThan(128);
    const consistency = JSON.parse(readFileSync(join(run, 'attention', 'consistency.json'), 'utf8'));
    expect(consistency.score.length).toBe(10);
    expect(consistency.score[0].length).toBe(8);
    expect(attn.table).toContain('| airplane |');

    const out = join(run, '..', 'export');
    await exportCommand({
      run,
      out,
      perClass: 2,
      backend: 'wasm',
      quiet: true,
      dataDir: cifar,
      teacher: mobilenet,
    });
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.format).toBe('symseq-demo-export');
    expect(manifest.version).toBe(1);
    expect(manifest.grid).toEqual([8, 8]); // the cpu preset: conv_pw_11_relu tokens at 128 px
    const gallery = JSON.parse(readFileSync(join(out, 'gallery.json'), 'utf8'));
    expect(gallery.length).toBe(20);
    expect(existsSync(join(out, 'teacher', 'model.json'))).toBe(true);

    // encode on the exported gallery PNGs gives the symbols export stored for them.
    const files = gallery.slice(0, 4).map((g: { file: string }) => join(out, g.file));
    const log2 = console.log;
    console.log = () => {};
    let lines: string[];
    try {
      ({ lines } = await encodeCommand({ run, inputs: files, backend: 'wasm', teacher: mobilenet }));
    } finally {
      console.log = log2;
    }
    expect(lines.map((l) => JSON.parse(l).symbols)).toEqual(
      gallery.slice(0, 4).map((g: { symbols: number[] }) => g.symbols),
    );

    // Only unreadable inputs: encode fails (the CLI exits non-zero) instead of writing nothing.
    const bad = join(run, '..', 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'a.jpg'), 'not a jpeg');
    writeFileSync(join(bad, 'b.png'), Buffer.alloc(0));
    const err = console.error;
    console.error = () => {};
    try {
      await expect(
        encodeCommand({ run, inputs: [bad], backend: 'wasm', teacher: mobilenet }),
      ).rejects.toThrow('encode: none of the 2 input image(s) could be read');
    } finally {
      console.error = err;
    }

    // An export destination that cannot be created is named as such (not a raw ENOENT of a temp folder).
    writeFileSync(join(run, '..', 'file'), 'x');
    await expect(
      exportCommand({
        run,
        out: join(run, '..', 'file', 'export'),
        backend: 'wasm',
        quiet: true,
        teacher: mobilenet,
      }),
    ).rejects.toThrow(/export destination folder .*file is not writable \((ENOTDIR|EEXIST)\)/);
  });
});
