// The cpu preset, unchanged, on an ImageFolder that is not CIFAR: 8-bit grayscale PNGs (colour type
// 0, one channel) of four drawn shape classes, through the built CLI and the real MobileNet teacher.
// The preset's accuracy on a real grayscale set (scikit-learn's digits) is measured by the command
// in docs/grayscale-digits.md; this test proves the path works and reports the baselines beside it.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@symseq/nn';
import { PNG } from 'pngjs';
import { expect, test } from 'vitest';
import { mobilenet, realDataReady } from './helpers';
import { runCli } from './tiny-image-run';

const ready = realDataReady('grayscale ImageFolder run');
const SIZE = 32;

/** One 32×32 grayscale image of class `c`: horizontal bars, vertical bars, a disc, a cross; noise and jitter. */
function draw(c: number, rng: Rng): Uint8Array {
  const px = new Uint8Array(SIZE * SIZE);
  const dx = rng.int(6) - 3;
  const dy = rng.int(6) - 3;
  const period = 5 + rng.int(4);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const u = x - 16 - dx;
      const v = y - 16 - dy;
      const on =
        c === 0
          ? Math.floor((y + dy + 32) / period) % 2 === 0
          : c === 1
            ? Math.floor((x + dx + 32) / period) % 2 === 0
            : c === 2
              ? u * u + v * v < 81
              : Math.abs(u) < 3 || Math.abs(v) < 3;
      px[y * SIZE + x] = Math.max(0, Math.min(255, Math.round((on ? 210 : 40) + 25 * rng.normal())));
    }
  }
  return px;
}

function writeGrayscaleFolder(dir: string, perClass: { train: number; test: number }): void {
  const rng = new Rng(21);
  for (const split of ['train', 'test'] as const) {
    for (let c = 0; c < 4; c++) {
      const folder = join(dir, split, `shape${c}`);
      mkdirSync(folder, { recursive: true });
      for (let i = 0; i < perClass[split]; i++) {
        const g = draw(c, rng);
        const png = new PNG({ width: SIZE, height: SIZE });
        for (let p = 0; p < g.length; p++) {
          png.data.set([g[p], g[p], g[p], 255], p * 4);
        }
        // colorType 0: the file holds one 8-bit gray channel, not RGB.
        writeFileSync(join(folder, `${i}.png`), PNG.sync.write(png, { colorType: 0, inputHasAlpha: true }));
      }
    }
  }
}

test.runIf(ready)(
  'the cpu preset trains and evaluates on a grayscale ImageFolder, with residual k-means beside the student',
  () => {
    const root = mkdtempSync(join(tmpdir(), 'symseq-gray-'));
    const data = join(root, 'gray');
    // 320 training images: more than the preset's batch of 256.
    writeGrayscaleFolder(data, { train: 80, test: 20 });
    const sample = readFileSync(join(data, 'train', 'shape2', '0.png'));
    expect(sample[25], 'PNG colour type of the generated files').toBe(0);
    const out = join(root, 'run');
    const r = runCli([
      'train',
      '--preset',
      'cpu',
      '--set',
      'data.dataset=imagefolder',
      '--data-dir',
      data,
      '--teacher',
      mobilenet,
      '--set',
      `cache.dir=${join(root, 'cache')}`,
      '--out',
      out,
      '--max-steps',
      '3',
      '-q',
    ]);
    expect(r.status, r.err + r.out).toBe(0);
    expect(r.out).toContain('data: 320 train / 80 test images, 4 classes');
    expect(r.out).not.toMatch(/skipped/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).result;
    const rows = report.extra as { method: string; length: number; top1: number }[];
    const rkm8 = rows.find((x) => x.method === 'residual k-means' && x.length === 8);
    const student8 = rows.find((x) => x.method === 'student' && x.length === 8);
    expect(rkm8 && student8, JSON.stringify(rows)).toBeTruthy();
    // Four well-separated shapes: the teacher's features and the no-learning code both tell them apart.
    expect(report.teacher.top1).toBeGreaterThan(90);
    expect(rkm8!.top1).toBeGreaterThan(80);
    expect(student8!.top1).toBeGreaterThanOrEqual(0);
  },
  300_000,
);
