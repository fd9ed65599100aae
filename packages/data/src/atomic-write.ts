import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Writes `data` to `path` so that a reader sees either the old file or the complete new one, never a
 * partial write: the bytes go to a temporary file in the same folder (same file system, so the rename
 * is atomic), are flushed to disk with fsync, and the temporary file is then renamed over `path`.
 * The folder must exist; an error names it when it does not or is not writable.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const target = resolve(path);
  const folder = dirname(target);
  const temp = join(folder, `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(temp, 'wx');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(
      `writeFileAtomic: cannot write to folder ${folder} (${err.code ?? err.message}) for ${target}`,
    );
  }
  try {
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    await rename(temp, target);
  } catch (e) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw new Error(`writeFileAtomic: writing ${target} failed: ${(e as Error).message}`);
  }
  await syncFolder(folder);
}

/** `writeFileAtomic` of `JSON.stringify(value, null, 2)` plus a final newline. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Flushes the folder entry so the rename itself survives a power loss (best effort: not every OS allows it). */
async function syncFolder(folder: string): Promise<void> {
  try {
    const dir = await open(folder, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Some platforms (Windows) cannot open or fsync a folder; the file itself is already durable.
  }
}
