// A tiny ImageFolder dataset, a random-weight layers-model teacher and a runner for the built CLI: what
// tests of whole commands (feature extraction, training) start from. Needs the built CLI (npm run build).
import '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PNG } from 'pngjs';

export const cliPath = join(__dirname, '..', 'dist', 'cli.js');

/** Where one suite's tiny inputs go: a fresh temporary folder with its image folder, teacher and config. */
export interface TinyRunFolder {
  root: string;
  dataDir: string;
  teacherDir: string;
  configPath: string;
}

export function tinyRunFolder(prefix: string): TinyRunFolder {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return {
    root,
    dataDir: join(root, 'data'),
    teacherDir: join(root, 'teacher'),
    configPath: join(root, 'config.json'),
  };
}

/** The CLI arguments naming a suite's config, image folder and teacher. */
export const inputArgs = (f: TinyRunFolder): string[] => [
  '--config',
  f.configPath,
  '--data-dir',
  f.dataDir,
  '--teacher',
  f.teacherDir,
];

/** 2 classes of 16×16 PNGs (class 0 reddish, class 1 bluish, seeded noise) in `dir/{train,test}/c{0,1}`. */
export function writeTinyImageFolder(dir: string, perClass: { train: number; test: number }): void {
  const rng = new Rng(11);
  for (const split of ['train', 'test'] as const) {
    for (const cls of ['c0', 'c1']) {
      const folder = join(dir, split, cls);
      mkdirSync(folder, { recursive: true });
      for (let i = 0; i < perClass[split]; i++) {
        const png = new PNG({ width: 16, height: 16 });
        const base = cls === 'c0' ? [200, 60, 40] : [40, 80, 200];
        for (let p = 0; p < 256; p++) {
          for (let c = 0; c < 3; c++) {
            png.data[p * 4 + c] = Math.max(0, Math.min(255, Math.round(base[c] + 40 * rng.normal())));
          }
          png.data[p * 4 + 3] = 255;
        }
        writeFileSync(join(folder, `${String(i).padStart(3, '0')}.png`), PNG.sync.write(png));
      }
    }
  }
}

/**
 * Random-weight conv net as teacher: 16×16×3 → 4×4×8 feature map named 'feat', saved as model.json +
 * weights.bin; with `deepChannels`, a further layer 'deep' (2×2×deepChannels) for a pooled feature of
 * another width than the tokens.
 */
export async function writeTinyTeacher(dir: string, opts: { deepChannels?: number } = {}): Promise<void> {
  const layers = [
    tfl.layers.conv2d({
      inputShape: [16, 16, 3],
      filters: 8,
      kernelSize: 4,
      strides: 4,
      activation: 'relu',
      name: 'feat',
    }),
  ];
  if (opts.deepChannels) {
    layers.push(
      tfl.layers.conv2d({
        filters: opts.deepChannels,
        kernelSize: 2,
        strides: 2,
        activation: 'relu',
        name: 'deep',
      }),
    );
  }
  const model = tfl.sequential({ layers });
  const rng = new Rng(5);
  model.setWeights(model.getWeights().map((w) => tf.tensor(rng.fill(w.size, 'normal'), w.shape)));
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      writeFileSync(join(dir, 'weights.bin'), Buffer.from(a.weightData as ArrayBuffer));
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({
          format: 'layers-model',
          modelTopology: a.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
}

/** Writes a suite's inputs: the tiny image folder, the random-weight teacher and `config` as JSON. */
export async function writeTinyInputs(
  f: TinyRunFolder,
  perClass: { train: number; test: number },
  config: object,
  teacher: { deepChannels?: number } = {},
): Promise<void> {
  writeTinyImageFolder(f.dataDir, perClass);
  await writeTinyTeacher(f.teacherDir, teacher);
  writeFileSync(f.configPath, JSON.stringify(config));
}

/** Runs the built CLI (in `cwd` when given); exit status and output. */
export function runCli(args: string[], env: Record<string, string> = {}, cwd?: string) {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { status: r.status, signal: r.signal, out: r.stdout, err: r.stderr };
}
