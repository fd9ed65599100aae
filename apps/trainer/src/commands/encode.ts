import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { assertWritableFolder, decodeImageFile, IMAGE_EXTENSIONS, writeFileAtomic } from '@symseq/data';
import * as tf from '@tensorflow/tfjs-core';
import { encodeImages } from '../inference';
import { openRun } from '../run-folder';
import { loadTeacher } from '../teacher-source';

/** Image files named directly or found (recursively, sorted) under named folders. */
export function listImages(inputs: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    if (!existsSync(p)) throw new Error(`encode: ${resolve(p)} does not exist`);
    if (statSync(p).isDirectory()) {
      for (const f of readdirSync(p).sort()) walk(join(p, f));
    } else if (IMAGE_EXTENSIONS.includes(extname(p).toLowerCase())) out.push(p);
  };
  for (const i of inputs) {
    if (existsSync(i) && statSync(i).isFile() && !IMAGE_EXTENSIONS.includes(extname(i).toLowerCase())) {
      throw new Error(`encode: ${i} is not an image file (expected ${IMAGE_EXTENSIONS.join(', ')})`);
    }
    walk(i);
  }
  return out;
}

export interface EncodeFlags {
  run: string;
  inputs: string[];
  out?: string;
  backend?: string;
  teacher?: string;
  strict?: boolean;
}

/**
 * `symseq encode`: the symbols of each image, one JSON line per image, {"file", "symbols"}, through
 * the same inference path as `attn` and `export`. Unreadable images are skipped (listed on stderr),
 * unless `strict`; when none can be read, it fails.
 */
export async function encodeCommand(flags: EncodeFlags): Promise<{ lines: string[]; skipped: string[] }> {
  const files = listImages(flags.inputs);
  if (!files.length)
    throw new Error(`encode: no image files (${IMAGE_EXTENSIONS.join(', ')}) in ${flags.inputs.join(', ')}`);
  if (flags.out) assertWritableFolder(dirname(resolve(flags.out)), 'output (--out)');
  const { config, student } = await openRun(flags);
  const teacher = await loadTeacher(config);
  const lines: string[] = [];
  const skipped: string[] = [];
  try {
    for (const file of files) {
      let img: Awaited<ReturnType<typeof decodeImageFile>>;
      try {
        img = await decodeImageFile(file);
      } catch (e) {
        if (flags.strict) throw e;
        skipped.push(`${file}: ${(e as Error).message}`);
        continue;
      }
      // Images can differ in size: each goes alone; the teacher resizes it to its input size.
      const pixels = new Float32Array(img.data.length);
      for (let i = 0; i < pixels.length; i++) pixels[i] = img.data[i] / 255;
      const batch = tf.tensor4d(pixels, [1, img.height, img.width, 3]);
      const enc = await encodeImages(student, teacher, batch);
      batch.dispose();
      lines.push(JSON.stringify({ file, symbols: Array.from(enc.symbols) }));
    }
  } finally {
    teacher.dispose();
    student.dispose();
  }
  for (const s of skipped) console.error(`skipped ${s}`);
  if (!lines.length) throw new Error(`encode: none of the ${files.length} input image(s) could be read`);
  if (flags.out) await writeFileAtomic(flags.out, `${lines.join('\n')}\n`);
  else for (const l of lines) console.log(l);
  return { lines, skipped };
}
