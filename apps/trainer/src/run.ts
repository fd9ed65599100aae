import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImageFile, IMAGE_EXTENSIONS, writeFileAtomic, writeJsonAtomic } from '@symseq/data';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from './backend';
import { merge, readConfigFile, resolveTrainConfig, setDotted, type TrainConfig } from './config';
import { evaluate } from './evaluate';
import { checkDataLocation, featuresOf, loadTeacher, openRun, openSplits } from './pipeline';
import { resultTable, writeReport } from './report';
import { train } from './train';

const here = dirname(fileURLToPath(import.meta.url));
/** Presets ship beside the CLI: apps/trainer/configs (from src/ or dist/). */
export const PRESET_DIR = resolve(here, '..', 'configs');

export interface TrainFlags {
  config?: string;
  preset?: string;
  dataDir?: string;
  teacher?: string;
  out?: string;
  epochs?: number;
  seed?: number;
  backend?: string;
  trainLimit?: number;
  testLimit?: number;
  set?: string[];
  resume?: boolean;
  quiet?: boolean;
  strict?: boolean;
}

export function presetPath(name: string): string {
  const p = join(PRESET_DIR, `${name}.json`);
  if (!existsSync(p)) {
    const known = readdirSync(PRESET_DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''));
    throw new Error(`unknown preset '${name}'; presets: ${known.join(', ')}`);
  }
  return p;
}

/** Preset → config file → flags, then validated. */
export function buildTrainConfig(flags: TrainFlags): TrainConfig {
  let raw: Record<string, unknown> =
    flags.preset || !flags.config ? readConfigFile(presetPath(flags.preset ?? 'cpu')) : {};
  if (flags.config) raw = merge(raw, readConfigFile(flags.config));
  const o: Record<string, unknown> = {};
  if (flags.dataDir) setDotted(o, `data.dir=${JSON.stringify(flags.dataDir)}`);
  if (flags.teacher) setDotted(o, `teacher.path=${JSON.stringify(flags.teacher)}`);
  if (flags.out) o.out = flags.out;
  if (flags.epochs !== undefined) setDotted(o, `optim.epochs=${flags.epochs}`);
  if (flags.seed !== undefined) o.seed = flags.seed;
  if (flags.backend) o.backend = flags.backend;
  if (flags.trainLimit) setDotted(o, `data.trainLimit=${flags.trainLimit}`);
  if (flags.testLimit) setDotted(o, `data.testLimit=${flags.testLimit}`);
  if (flags.strict) setDotted(o, 'data.strict=true');
  for (const s of flags.set ?? []) setDotted(o, s);
  return resolveTrainConfig(merge(raw, o), flags.config ? `config (${flags.config} + flags)` : 'config');
}

/** Fails early, naming the folder, when the output folder cannot be written. */
export function ensureWritableDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new Error(
      `output folder ${resolve(dir)} is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
}

export async function trainCommand(flags: TrainFlags): Promise<void> {
  const config = buildTrainConfig(flags);
  ensureWritableDir(config.out);
  const log = (l: string) => console.log(l);
  const backend = await selectBackend(config.backend);
  log(`backend: ${backend.name}${backend.notes.length ? ` (passed over: ${backend.notes.join('; ')})` : ''}`);
  await writeJsonAtomic(join(config.out, 'config.json'), config);
  const t0 = Date.now();
  // Data location and teacher first: a missing one stops the run before any slow work.
  checkDataLocation(config);
  const teacher = await loadTeacher(config);
  log(`teacher: ${teacher.id} (${teacher.dims.numTokens} tokens × ${teacher.dims.tokenDim})`);
  const splits = await openSplits(config, { quiet: flags.quiet });
  log(
    `data: ${splits.train.length} train / ${splits.test.length} test images, ${splits.train.classes.length} classes`,
  );
  const trainF = await featuresOf(config, teacher, splits.train, 'train', config.cache.views, {
    quiet: flags.quiet,
  });
  const testF = await featuresOf(config, teacher, splits.test, 'test', 0, { quiet: flags.quiet });
  teacher.dispose();
  const featureSeconds = (Date.now() - t0) / 1000;
  const result = await train(config, trainF, { resume: flags.resume, quiet: flags.quiet, log });
  const saved = await result.student.save({
    step: result.steps,
    teacher: teacher.id,
    grid: trainF.grid,
    classes: trainF.classes,
  });
  await writeFileAtomic(join(config.out, 'student.safetensors'), saved.weights);
  await writeFileAtomic(join(config.out, 'student.json'), saved.json);
  log(
    `trained ${result.steps} steps in ${result.seconds.toFixed(0)} s; final loss ${result.finalLoss.toFixed(4)}`,
  );
  const r = await evaluate(result.student, trainF, testF, {
    lengths: config.eval.lengths,
    k: config.eval.k,
    T: config.eval.temperature,
    batchSize: config.eval.batchSize,
    quiet: flags.quiet,
  });
  await writeReport(config.out, config, r, {
    backend: backend.name,
    teacherId: teacher.id,
    trainImages: trainF.n,
    testImages: testF.n,
    steps: result.steps,
    trainSeconds: result.seconds,
    featureSeconds,
    finalLoss: result.finalLoss,
    command: process.argv.slice(1).join(' '),
  });
  log('');
  log(resultTable(r));
  log(`teacher ceiling: ${r.teacher.top1.toFixed(2)}% top-1; report: ${join(config.out, 'report.md')}`);
  result.student.dispose();
}

export async function evalCommand(flags: {
  run: string;
  backend?: string;
  dataDir?: string;
  teacher?: string;
  quiet?: boolean;
}) {
  const { config, student, backend } = await openRun(flags);
  console.log(`backend: ${backend.name}`);
  const splits = await openSplits(config, { quiet: flags.quiet });
  const teacher = await loadTeacher(config);
  const trainF = await featuresOf(config, teacher, splits.train, 'train', config.cache.views, flags);
  const testF = await featuresOf(config, teacher, splits.test, 'test', 0, flags);
  teacher.dispose();
  const r = await evaluate(student, trainF, testF, {
    lengths: config.eval.lengths,
    k: config.eval.k,
    T: config.eval.temperature,
    batchSize: config.eval.batchSize,
    quiet: flags.quiet,
  });
  await writeReport(flags.run, config, r, {
    backend: backend.name,
    teacherId: teacher.id,
    trainImages: trainF.n,
    testImages: testF.n,
    command: process.argv.slice(1).join(' '),
  });
  console.log(resultTable(r));
  console.log(`teacher ceiling: ${r.teacher.top1.toFixed(2)}% top-1`);
  student.dispose();
}

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

/** Symbols of each image, one JSON line per image: {"file", "symbols"}. */
export async function encodeCommand(flags: {
  run: string;
  inputs: string[];
  out?: string;
  backend?: string;
  teacher?: string;
  batchSize?: number;
  strict?: boolean;
}): Promise<{ lines: string[]; skipped: string[] }> {
  const { config, student } = await openRun(flags);
  const files = listImages(flags.inputs);
  const teacher = await loadTeacher(config);
  const lines: string[] = [];
  const skipped: string[] = [];
  const bs = flags.batchSize ?? 64;
  for (let s = 0; s < files.length; s += bs) {
    const batch: { file: string; pixels: Float32Array; height: number; width: number }[] = [];
    for (const file of files.slice(s, s + bs)) {
      try {
        const img = await decodeImageFile(file);
        batch.push({ file, pixels: toUnitFloat(img.data), height: img.height, width: img.width });
      } catch (e) {
        if (flags.strict) throw e;
        skipped.push(`${file}: ${(e as Error).message}`);
      }
    }
    for (const item of batch) {
      // Images can differ in size: the teacher resizes each to its input size.
      const symbols = tf.tidy(() => {
        const img = tf.tensor4d(item.pixels, [1, item.height, item.width, 3]);
        return student.encode(teacher.forward(img).tokens).symbols;
      });
      lines.push(JSON.stringify({ file: item.file, symbols: Array.from(await symbols.data()) }));
      symbols.dispose();
    }
  }
  if (flags.out) await writeFileAtomic(flags.out, lines.length ? `${lines.join('\n')}\n` : '');
  else for (const l of lines) console.log(l);
  for (const s of skipped) console.error(`skipped ${s}`);
  teacher.dispose();
  student.dispose();
  return { lines, skipped };
}

function toUnitFloat(rgb: Uint8Array): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < out.length; i++) out[i] = rgb[i] / 255;
  return out;
}
