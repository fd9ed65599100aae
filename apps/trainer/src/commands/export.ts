import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { assertWritableFolder, writeFileAtomic, writeJsonAtomic } from '@symseq/data';
import { openSplit } from '../data-source';
import { datasetImages, encodeImages, firstPerClass } from '../inference';
import { openRun } from '../run-folder';
import { loadTeacher } from '../teacher-source';
import { encodePng } from './attn';

export const DEMO_EXPORT_FORMAT = 'symseq-demo-export';
export const DEMO_EXPORT_VERSION = 1;

export interface ExportFlags {
  run: string;
  out: string;
  perClass?: number;
  backend?: string;
  dataDir?: string;
  teacher?: string;
  quiet?: boolean;
}

/**
 * Writes what the browser demo loads: the student checkpoint, the teacher's TF.js model files, and a
 * gallery of test images with their symbols and embeddings at each prefix length (for neighbours).
 * The folder is assembled beside `out` and renamed into place, so a failed export leaves no half folder.
 */
export async function exportCommand(flags: ExportFlags): Promise<string> {
  const { config, student } = await openRun(flags);
  if (config.teacher.kind !== 'mobilenet') {
    student.dispose();
    throw new Error(
      `export: the demo loads TF.js layers teachers; this run's teacher is '${config.teacher.kind}'`,
    );
  }
  const out = resolve(flags.out);
  try {
    assertWritableFolder(dirname(out), 'export destination');
  } catch (e) {
    student.dispose();
    throw e;
  }
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'teacher'), { recursive: true });
  mkdirSync(join(tmp, 'gallery'), { recursive: true });

  // Teacher: model.json and the weight files it names.
  const modelDir = config.teacher.path ?? process.env.MOBILENET_DIR;
  if (!modelDir)
    throw new Error(
      'export: pass --teacher <MobileNet folder> or set MOBILENET_DIR (the demo needs the model files)',
    );
  const modelJson = modelDir.endsWith('.json') ? modelDir : join(modelDir, 'model.json');
  const manifest = JSON.parse(readFileSync(modelJson, 'utf8')) as { weightsManifest: { paths: string[] }[] };
  copyFileSync(modelJson, join(tmp, 'teacher', 'model.json'));
  for (const group of manifest.weightsManifest) {
    for (const p of group.paths) copyFileSync(join(dirname(modelJson), p), join(tmp, 'teacher', p));
  }

  // Student.
  copyFileSync(join(flags.run, 'student.json'), join(tmp, 'student.json'));
  copyFileSync(join(flags.run, 'student.safetensors'), join(tmp, 'student.safetensors'));

  // Gallery: test images, encoded by the same path as `encode`.
  const test = await openSplit(config, 'test', { quiet: flags.quiet });
  const teacher = await loadTeacher(config);
  const lengths = [...config.eval.lengths].sort((a, b) => a - b);
  const idx = firstPerClass(test, flags.perClass ?? 10);
  const images = datasetImages(test, idx);
  const enc = await encodeImages(student, teacher, images, { lengths });
  images.dispose();
  const gallery = [];
  for (let i = 0; i < idx.length; i++) {
    const img = test.image(idx[i]);
    const file = `gallery/${String(i).padStart(4, '0')}.png`;
    const rgba = new Uint8Array(img.width * img.height * 4);
    for (let p = 0; p < img.width * img.height; p++) {
      rgba.set(img.data.subarray(3 * p, 3 * p + 3), 4 * p);
      rgba[4 * p + 3] = 255;
    }
    await writeFileAtomic(join(tmp, file), encodePng({ width: img.width, height: img.height, data: rgba }));
    const embeddings: Record<string, number[]> = {};
    for (const l of lengths) {
      const e = enc.embeddings.get(l)!;
      const d = e.length / enc.count;
      embeddings[l] = Array.from(e.subarray(i * d, (i + 1) * d), (v) => Math.round(v * 1e5) / 1e5);
    }
    gallery.push({
      file,
      label: test.labels[idx[i]],
      class: test.classes[test.labels[idx[i]]],
      source: test.source(idx[i]),
      symbols: Array.from(enc.symbols.subarray(i * enc.length, (i + 1) * enc.length)),
      embeddings,
    });
  }
  await writeJsonAtomic(join(tmp, 'gallery.json'), gallery);
  await writeJsonAtomic(join(tmp, 'manifest.json'), {
    format: DEMO_EXPORT_FORMAT,
    version: DEMO_EXPORT_VERSION,
    student: { json: 'student.json', weights: 'student.safetensors' },
    teacher: {
      kind: 'mobilenet',
      id: teacher.id,
      model: 'teacher/model.json',
      inputSize: config.teacher.inputSize,
      layer: config.teacher.tokensLayer,
    },
    grid: teacher.dims.grid,
    lengths,
    classes: test.classes,
    gallery: 'gallery.json',
  });
  teacher.dispose();
  student.dispose();
  if (existsSync(out)) rmSync(out, { recursive: true });
  mkdirSync(dirname(out), { recursive: true });
  renameSync(tmp, out);
  return out;
}
