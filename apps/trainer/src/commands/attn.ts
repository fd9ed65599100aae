import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  montage,
  overlayHeatmap,
  symbolAttentionMaps,
  symbolMap,
  symbolRegionConsistency,
} from '@symseq/attnviz';
import { createProgress, resizeRgb, writeFileAtomic, writeJsonAtomic } from '@symseq/data';
import { PNG } from 'pngjs';
import { openSplit } from '../data-source';
import { datasetImages, encodeImages, firstPerClass } from '../inference';
import { openRun } from '../run-folder';
import { loadTeacher } from '../teacher-source';

export interface AttnFlags {
  run: string;
  out?: string;
  perClass?: number;
  /** Images per class for the consistency score. */
  consistencyPerClass?: number;
  scale?: number;
  layer?: number;
  backend?: string;
  dataDir?: string;
  teacher?: string;
  quiet?: boolean;
}

export function encodePng(img: {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}): Buffer {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return PNG.sync.write(png);
}

/**
 * Attention montages (the image, then one overlay per symbol) for `perClass` test images of each
 * class, and the per-class symbol-to-region consistency table, from a trained run.
 */
export async function attnCommand(flags: AttnFlags): Promise<{ montages: string[]; table: string }> {
  const { config, student } = await openRun(flags);
  const out = flags.out ?? join(flags.run, 'attention');
  mkdirSync(out, { recursive: true });
  const test = await openSplit(config, 'test', { quiet: flags.quiet });
  const teacher = await loadTeacher(config);
  const grid = teacher.dims.grid;
  const scale = flags.scale ?? 4;
  const montages: string[] = [];

  // Montages.
  const shown = firstPerClass(test, flags.perClass ?? 2);
  const images = datasetImages(test, shown);
  const enc = await encodeImages(student, teacher, images, { layer: flags.layer });
  images.dispose();
  const maps = symbolAttentionMaps(enc.attention, { grid });
  for (let b = 0; b < shown.length; b++) {
    const src = test.image(shown[b]);
    const big = {
      width: src.width * scale,
      height: src.height * scale,
      data: resizeRgb(src, src.height * scale, src.width * scale),
    };
    const panels = Array.from({ length: enc.length }, (_, t) =>
      overlayHeatmap(big, symbolMap(maps, b, t), { alpha: 0.6 }),
    );
    const symbols = enc.symbols.subarray(b * enc.length, (b + 1) * enc.length);
    const m = montage({ image: big, panels, symbols, imageLabel: `C${test.labels[shown[b]]}` });
    const file = join(out, `${test.classes[test.labels[shown[b]]]}-${shown[b]}.png`);
    await writeFileAtomic(file, encodePng(m));
    montages.push(file);
  }

  // Consistency over more images per class, in batches.
  const pool = firstPerClass(test, flags.consistencyPerClass ?? 50);
  const data: Float32Array[] = [];
  const bar = createProgress({ label: 'attention', total: pool.length, unit: 'img', quiet: flags.quiet });
  for (let s = 0; s < pool.length; s += 200) {
    const idx = pool.slice(s, s + 200);
    const batch = datasetImages(test, idx);
    const e = await encodeImages(student, teacher, batch, { layer: flags.layer });
    batch.dispose();
    data.push(symbolAttentionMaps(e.attention, { grid }).data);
    bar.increment(idx.length);
  }
  bar.stop();
  const all = new Float32Array(data.reduce((n, d) => n + d.length, 0));
  let off = 0;
  for (const d of data) {
    all.set(d, off);
    off += d.length;
  }
  const allMaps = { batch: pool.length, symbols: enc.length, height: grid[0], width: grid[1], data: all };
  const labels = Int32Array.from(pool, (i) => test.labels[i]);
  const r = symbolRegionConsistency(allMaps, labels, { seed: config.seed });
  // The images actually used per class: fewer than asked where a class has fewer.
  const perClass = test.classes.map((_, k) => labels.filter((l) => l === k).length);
  const [least, most] = [Math.min(...perClass), Math.max(...perClass)];
  const used = least === most ? `${least}` : `${least} to ${most}`;
  const header = `| class | ${Array.from({ length: enc.length }, (_, t) => `P${t}`).join(' | ')} |`;
  const rows = test.classes.map(
    (c, k) => `| ${c} | ${r.score[k].map((v, t) => `${fmt(v)} (${fmt(r.baseline[k][t])})`).join(' | ')} |`,
  );
  const mean = `| **mean** | ${r.meanScore.map((v, t) => `**${fmt(v)}** (${fmt(r.meanBaseline[t])})`).join(' | ')} |`;
  const table = [
    `Symbol-to-region consistency: mean pairwise Pearson correlation of each symbol position's attention map across ${used} test images per class (in parentheses: the same with shuffled labels). Grid ${grid[0]}×${grid[1]}.`,
    '',
    header,
    `|---|${Array.from({ length: enc.length }, () => '---:').join('|')}|`,
    ...rows,
    mean,
  ].join('\n');
  await writeFileAtomic(join(out, 'consistency.md'), `${table}\n`);
  await writeJsonAtomic(join(out, 'consistency.json'), { grid, classes: test.classes, ...r });
  teacher.dispose();
  student.dispose();
  return { montages, table };
}

const fmt = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(2));
