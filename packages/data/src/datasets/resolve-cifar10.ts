import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CIFAR10_CLASSES, type Cifar10Split, cifar10BatchFiles, openCifar10Binary } from './cifar10-binary';
import type { ImageDataset } from './image-dataset';
import { openImageFolder } from './image-folder';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';

/** Where CIFAR-10 was found and in which layout. */
export interface Cifar10Source {
  /** `binary`: `dir` is the `cifar-10-batches-bin` folder; `imagefolder`: `dir` holds `train/` and `test/`. */
  layout: 'binary' | 'imagefolder';
  dir: string;
}

export interface ResolveCifar10Options {
  /** A folder given on the command line; wins over the environment. */
  dir?: string;
  /** Environment to read `CIFAR10_DIR` from (pass `process.env`). */
  env?: Record<string, string | undefined>;
  /** Name of the command-line flag, for error messages. */
  flag?: string;
}

/**
 * Finds CIFAR-10 from a flag or the `CIFAR10_DIR` environment variable, in either layout: the official
 * binary one (the folder itself or its parent holding `cifar-10-batches-bin/`), or ImageFolder
 * (`train/<class>/…`, `test/<class>/…`). When nothing is given or found, the error says how to get it.
 */
export function resolveCifar10(options: ResolveCifar10Options = {}): Cifar10Source {
  const flag = options.flag ?? '--data-dir';
  const given = options.dir ?? options.env?.CIFAR10_DIR;
  const origin = options.dir !== undefined ? flag : 'CIFAR10_DIR';
  if (given === undefined || given === '') {
    throw new Error(
      `CIFAR-10 not found: pass ${flag} <folder> or set CIFAR10_DIR.\n` +
        `  Get it from ${CIFAR10_URL} (170 MB, md5 ${CIFAR10_MD5}) and extract it (the folder is cifar-10-batches-bin),\n` +
        '  or call downloadCifar10(folder) from @symseq/data; an ImageFolder copy (train/<class>/*.jpg, test/<class>/*.jpg) works too.',
    );
  }
  const dir = resolve(given);
  if (!isDir(dir)) throw new Error(`CIFAR-10: ${dir} (from ${origin}) does not exist or is not a folder`);
  const hasBatches = (d: string) =>
    [...cifar10BatchFiles('train'), ...cifar10BatchFiles('test')].every((f) => existsSync(join(d, f)));
  if (hasBatches(dir)) return { layout: 'binary', dir };
  if (hasBatches(join(dir, 'cifar-10-batches-bin')))
    return { layout: 'binary', dir: join(dir, 'cifar-10-batches-bin') };
  if (isDir(join(dir, 'train')) && isDir(join(dir, 'test'))) return { layout: 'imagefolder', dir };
  throw new Error(
    `CIFAR-10: ${dir} (from ${origin}) holds neither the binary layout (data_batch_1..5.bin and test_batch.bin, ` +
      'here or in cifar-10-batches-bin/) nor the ImageFolder layout (train/<class>/*.jpg and test/<class>/*.jpg)',
  );
}

export interface OpenCifar10Options {
  /** Decoded-pixel cache folder, for the ImageFolder layout. */
  cacheDir?: string;
  quiet?: boolean;
  strict?: boolean;
  /** ImageFolder layout: open and decode only this many images, every (count / limit)-th (see openImageFolder). */
  limit?: number;
}

/** Opens a split of a resolved CIFAR-10 source; both layouts give 32×32 images and the same class order. */
export async function openCifar10(
  source: Cifar10Source,
  split: Cifar10Split,
  options: OpenCifar10Options = {},
): Promise<ImageDataset> {
  if (source.layout === 'binary') return openCifar10Binary(source.dir, split);
  const ds = await openImageFolder({ root: source.dir, split, imageSize: 32, ...options });
  if (ds.classes.join() !== CIFAR10_CLASSES.join()) {
    throw new Error(
      `CIFAR-10: ${join(source.dir, split)} has classes [${ds.classes.join(', ')}], expected [${CIFAR10_CLASSES.join(', ')}]`,
    );
  }
  return ds;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
