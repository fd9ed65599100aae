import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { dictionaryAtlas, dictionaryHtml, symbolAttentionMaps, symbolDictionary } from '@symseq/attnviz';
import { createProgress, resizeRgb, writeFileAtomic, writeJsonAtomic } from '@symseq/data';
import { openSplit } from '../data-source';
import { datasetImages, encodeImages, firstPerClass } from '../inference';
import { openRun } from '../run-folder';
import { loadTeacher } from '../teacher-source';
import { encodePng } from './attn';

export interface DictionaryFlags {
  run: string;
  out?: string;
  /** Test images per class the dictionary is built from. */
  perClass?: number;
  /** Most confident uses shown per symbol. */
  top?: number;
  /** Integer upscaling of the images in the pictures. */
  scale?: number;
  /** Rows of the PNG atlas (the most used symbols; the HTML page has them all). */
  atlasRows?: number;
  layer?: number;
  backend?: string;
  dataDir?: string;
  teacher?: string;
  quiet?: boolean;
}

/**
 * The symbol dictionary of a trained run: for every symbol id written on `perClass` test images per
 * class, how often and where it is used, its mean attention map, its class mix and its most confident
 * uses (with overlays), as one PNG atlas, a self-contained HTML page and a JSON file.
 */
export async function dictionaryCommand(
  flags: DictionaryFlags,
): Promise<{ png: string; html: string; json: string; symbols: number; images: number }> {
  const { config, student } = await openRun(flags);
  const out = flags.out ?? join(flags.run, 'dictionary');
  mkdirSync(out, { recursive: true });
  const test = await openSplit(config, 'test', { quiet: flags.quiet });
  const teacher = await loadTeacher(config);
  const grid = teacher.dims.grid;
  const scale = flags.scale ?? 2;
  const pool = firstPerClass(test, flags.perClass ?? 50);
  const L = student.config.maxLength;
  const symbols = new Int32Array(pool.length * L);
  const confidences = new Float32Array(pool.length * L);
  const mapData = new Float32Array(pool.length * L * grid[0] * grid[1]);
  const bar = createProgress({ label: 'dictionary', total: pool.length, unit: 'img', quiet: flags.quiet });
  const bs = 200;
  for (let s = 0; s < pool.length; s += bs) {
    const idx = pool.slice(s, s + bs);
    const batch = datasetImages(test, idx);
    const e = await encodeImages(student, teacher, batch, { layer: flags.layer, confidences: true });
    batch.dispose();
    symbols.set(e.symbols, s * L);
    confidences.set(e.confidences!, s * L);
    mapData.set(symbolAttentionMaps(e.attention, { grid }).data, s * L * grid[0] * grid[1]);
    bar.increment(idx.length);
  }
  bar.stop();
  const maps = { batch: pool.length, symbols: L, height: grid[0], width: grid[1], data: mapData };
  const labels = Int32Array.from(pool, (i) => test.labels[i]);
  const dictionary = symbolDictionary({ symbols, maps, labels, confidences }, { top: flags.top ?? 6 });
  const images = pool.map((i) => {
    const img = test.image(i);
    return {
      width: img.width * scale,
      height: img.height * scale,
      data: resizeRgb(img, img.height * scale, img.width * scale),
    };
  });
  const png = join(out, 'dictionary.png');
  await writeFileAtomic(
    png,
    encodePng(dictionaryAtlas({ dictionary, maps, images }, { maxEntries: flags.atlasRows ?? 32 })),
  );
  const html = join(out, 'dictionary.html');
  await writeFileAtomic(
    html,
    dictionaryHtml(
      {
        dictionary,
        maps,
        images,
        labels,
        classes: [...test.classes],
        title: `Symbol dictionary: ${config.name}`,
        note: `${flags.perClass ?? 50} test images per class of ${test.name}; teacher ${teacher.id}; confidence = the student's softmax probability of the symbol it wrote.`,
      },
      (img) => new Uint8Array(encodePng(img)),
    ),
  );
  const json = join(out, 'dictionary.json');
  await writeJsonAtomic(json, {
    classes: test.classes,
    grid,
    length: L,
    images: pool.length,
    entries: dictionary.entries.map((e) => ({
      ...e,
      meanMap: Array.from(e.meanMap.data),
      top: e.top.map((o) => ({ ...o, index: pool[o.image], source: test.source(pool[o.image]) })),
    })),
  });
  teacher.dispose();
  student.dispose();
  return { png, html, json, symbols: dictionary.entries.length, images: pool.length };
}
