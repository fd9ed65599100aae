import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  montage,
  overlayHeatmap,
  symbolAttentionMaps,
  symbolMap,
  symbolRegionConsistency,
} from '@symseq/attnviz';
import { resizeRgb, writeFileAtomic, writeJsonAtomic } from '@symseq/data';
import { PNG } from 'pngjs';
import { openSplit, openSplits } from '../data-source';
import { featuresOf } from '../features';
import { datasetImages, encodeImages, firstPerClass } from '../inference';
import {
  encodePool,
  type Interpretability,
  poolFaithfulness,
  poolStats,
  prefixComparison,
  prefixPuritySvg,
  writeInterpretability,
} from '../interpretability';
import { openRun } from '../run-folder';
import { loadTeacher } from '../teacher-source';

export interface AttnFlags {
  run: string;
  out?: string;
  perClass?: number;
  /** Images per class for the consistency score. */
  consistencyPerClass?: number;
  /** Images per class for the occlusion (deletion) test; 0 skips it. */
  faithfulnessPerClass?: number;
  /** false: skip the prefix tree of the test set (it reads the feature caches). */
  prefix?: boolean;
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
export async function attnCommand(
  flags: AttnFlags,
): Promise<{ montages: string[]; table: string; interpretability: string }> {
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
  const encoded = await encodePool(student, teacher, test, pool, { layer: flags.layer, quiet: flags.quiet });
  const allMaps = encoded.maps;
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

  // Distinctness, consistency with intervals, the deletion test and the prefix tree, into the report.
  const fPer = flags.faithfulnessPerClass ?? 50;
  const fPool =
    fPer === (flags.consistencyPerClass ?? 50)
      ? encoded
      : fPer > 0
        ? await encodePool(student, teacher, test, firstPerClass(test, fPer), {
            layer: flags.layer,
            quiet: flags.quiet,
          })
        : undefined;
  const faithfulness = fPool
    ? {
        ...(await poolFaithfulness(student, teacher, test, fPool, {
          seed: config.seed,
          layer: flags.layer,
          quiet: flags.quiet,
        })),
        imagesPerClass: fPer,
      }
    : undefined;
  let prefix: Interpretability['prefix'];
  if (flags.prefix !== false) {
    const splits = await openSplits(config, { quiet: flags.quiet });
    const trainF = await featuresOf(config, teacher, splits.train, 'train', config.cache.views, flags);
    const testF = await featuresOf(config, teacher, splits.test, 'test', 0, flags);
    prefix = await prefixComparison(student, trainF, testF, {
      codebookSize: student.config.vocabSize,
      length: enc.length,
      seed: config.seed,
      quiet: flags.quiet,
    });
    await writeFileAtomic(
      join(out, 'prefix-purity.svg'),
      prefixPuritySvg(prefix, `prefix-tree purity — ${config.name}`),
    );
  }
  const interpretability = await writeInterpretability(out, flags.run, {
    grid,
    classes: test.classes,
    imagesPerClass: flags.consistencyPerClass ?? 50,
    ...poolStats(encoded, config.seed),
    faithfulness,
    prefix,
  });
  teacher.dispose();
  student.dispose();
  return { montages, table, interpretability };
}

const fmt = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(2));
