import { existsSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic, writeJsonAtomic } from '../atomic-write';

export const PIXEL_CACHE_FORMAT = 'symseq-pixel-cache';
export const PIXEL_CACHE_VERSION = 1;

/** What a decoded-pixel cache holds besides the pixels. */
export interface PixelCacheManifest {
  format: typeof PIXEL_CACHE_FORMAT;
  version: number;
  /** Fingerprint of the source file list (paths, sizes, mtimes) and the decode settings. */
  key: string;
  root: string;
  count: number;
  height: number;
  width: number;
  classes: string[];
  labels: number[];
  /** Kept files, relative to the root, in dataset order. */
  files: string[];
  skipped: { file: string; reason: string }[];
}

export interface PixelCacheEntry {
  manifest: PixelCacheManifest;
  pixels: Uint8Array;
}

const count = z.number().int().nonnegative();
const manifestSchema = z.object({
  count,
  height: count,
  width: count,
  classes: z.array(z.string()),
  labels: z.array(count),
  files: z.array(z.string()),
  skipped: z.array(z.object({ file: z.string(), reason: z.string() })),
});

/** Paths of the cache pair (`.bin` pixels, `.json` manifest) for `key` in `dir`. */
export function pixelCachePaths(dir: string, key: string): { bin: string; manifest: string } {
  const stem = join(dir, `pixels-${key.slice(0, 20)}`);
  return { bin: `${stem}.bin`, manifest: `${stem}.json` };
}

/**
 * Reads the cache for `key`, or undefined when there is none or it does not match (other key, other
 * format version, pixel file of the wrong size: e.g. left over from an interrupted write).
 */
export async function readPixelCache(dir: string, key: string): Promise<PixelCacheEntry | undefined> {
  const paths = pixelCachePaths(dir, key);
  if (!existsSync(paths.manifest) || !existsSync(paths.bin)) return undefined;
  let manifest: PixelCacheManifest;
  try {
    manifest = JSON.parse(await readFile(paths.manifest, 'utf8'));
  } catch {
    return undefined;
  }
  if (
    manifest?.format !== PIXEL_CACHE_FORMAT ||
    manifest.version !== PIXEL_CACHE_VERSION ||
    manifest.key !== key
  ) {
    return undefined;
  }
  // A damaged manifest is a cache miss (the images are decoded again), never a crash or wrong labels.
  const valid = manifestSchema.safeParse(manifest);
  if (
    !valid.success ||
    manifest.labels.length !== manifest.count ||
    manifest.files.length !== manifest.count
  ) {
    return undefined;
  }
  const expected = manifest.count * manifest.height * manifest.width * 3;
  if ((await stat(paths.bin)).size !== expected) return undefined;
  const buf = await readFile(paths.bin);
  return { manifest, pixels: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
}

/** Writes the pixels, then the manifest (each atomically): a manifest on disk always has its pixels. */
export async function writePixelCache(dir: string, entry: PixelCacheEntry): Promise<void> {
  await mkdir(dir, { recursive: true }).catch((e) => {
    throw new Error(`pixel cache: cannot create cache folder ${dir}: ${(e as Error).message}`);
  });
  const paths = pixelCachePaths(dir, entry.manifest.key);
  await writeFileAtomic(paths.bin, entry.pixels);
  await writeJsonAtomic(paths.manifest, entry.manifest);
}
