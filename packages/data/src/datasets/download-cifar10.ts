import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tar from 'tar';
import { createProgress } from '../progress';
import { cifar10BatchFiles } from './cifar10-binary';
import { CIFAR10_MD5, CIFAR10_URL } from './resolve-cifar10';

export interface DownloadCifar10Options {
  /** Archive location (the official one by default). */
  url?: string;
  /** Expected md5 of the archive (the official one's by default). */
  md5?: string;
  quiet?: boolean;
}

/**
 * Downloads the official CIFAR-10 binary archive into `destDir`, checks its md5, and extracts it; returns
 * the `cifar-10-batches-bin` folder. The archive goes to a temporary file and is extracted into a
 * temporary folder that is renamed into place only when complete, so an interrupted or corrupt download
 * never leaves a half dataset. Does nothing when the folder is already there.
 */
export async function downloadCifar10(
  destDir: string,
  options: DownloadCifar10Options = {},
): Promise<string> {
  const url = options.url ?? CIFAR10_URL;
  const md5 = (options.md5 ?? CIFAR10_MD5).toLowerCase();
  const dest = resolve(destDir);
  const target = join(dest, 'cifar-10-batches-bin');
  if (existsSync(join(target, cifar10BatchFiles('test')[0]))) return target;
  await mkdir(dest, { recursive: true }).catch((e) => {
    throw new Error(`downloadCifar10: cannot create ${dest}: ${(e as Error).message}`);
  });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const archive = join(dest, `.cifar-10-binary.tar.gz.${tag}.part`);
  const staging = join(dest, `.cifar-10-extract.${tag}`);
  try {
    const got = await fetchToFile(url, archive, options.quiet);
    if (got !== md5) {
      throw new Error(
        `downloadCifar10: ${url} has md5 ${got}, expected ${md5}: the download is corrupt or not the CIFAR-10 archive`,
      );
    }
    await mkdir(staging);
    await tar.x({ file: archive, cwd: staging });
    const extracted = join(staging, 'cifar-10-batches-bin');
    const missing = [...cifar10BatchFiles('train'), ...cifar10BatchFiles('test')].filter(
      (f) => !existsSync(join(extracted, f)),
    );
    if (missing.length > 0) {
      throw new Error(
        `downloadCifar10: the archive from ${url} lacks cifar-10-batches-bin/${missing.join(', ')}`,
      );
    }
    await rename(extracted, target).catch((e) => {
      // Another process may have finished the same download first; its copy is as good.
      if (!existsSync(join(target, cifar10BatchFiles('test')[0]))) throw e;
    });
    return target;
  } finally {
    await rm(archive, { force: true });
    await rm(staging, { recursive: true, force: true });
  }
}

/** Streams `url` into `file` with a progress bar; returns the md5 (hex) of what was written. */
async function fetchToFile(url: string, file: string, quiet?: boolean): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    const cause = (e as { cause?: Error }).cause?.message ?? (e as Error).message;
    throw new Error(
      `downloadCifar10: cannot reach ${url} (${cause}). Without internet, fetch cifar-10-binary.tar.gz elsewhere, ` +
        'extract it and pass its folder with --data-dir or CIFAR10_DIR',
    );
  }
  if (!res.ok || !res.body)
    throw new Error(`downloadCifar10: ${url} answered HTTP ${res.status} ${res.statusText}`);
  const total = Number(res.headers.get('content-length') ?? 0);
  const progress = createProgress({
    label: 'downloading CIFAR-10',
    total: total / 1e6,
    unit: 'MB',
    decimals: 1,
    quiet,
  });
  const hash = createHash('md5');
  const out = await open(file, 'w');
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      await out.write(chunk);
      progress.increment(chunk.length / 1e6);
    }
    await out.sync();
  } finally {
    progress.stop();
    await out.close();
  }
  return hash.digest('hex');
}
