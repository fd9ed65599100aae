import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { injectFault } from './fault-injection';

/** `<name>.tmp-<pid>` or `<name>.tmp-<pid>-<8 hex>`: what `writeFileAtomic` (and the trainer's temp folders) create. */
const TEMP_NAME = /\.tmp-(\d+)(?:-[0-9a-f]{8})?$/;

/** Folders already swept by this process: one sweep per folder is enough (later temp files are ours). */
const swept = new Set<string>();

/**
 * Writes `data` to `path` so that a reader sees either the old file or the complete new one, never a
 * partial write: the bytes go to a temporary file in the same folder (same file system, so the rename
 * is atomic), are flushed to disk with fsync, and the temporary file is then renamed over `path`.
 * The first write into a folder removes temporary files that killed processes left there.
 * The folder must exist; an error names it when it does not or is not writable.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const target = resolve(path);
  const folder = dirname(target);
  if (!swept.has(folder)) {
    sweepStaleTempFiles(folder);
    swept.add(folder);
  }
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
    injectFault('before-rename', target);
    await rename(temp, target);
  } catch (e) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw new Error(`writeFileAtomic: writing ${target} failed: ${(e as Error).message}`);
  }
  await syncFolder(folder);
  injectFault('after-rename', target);
}

/** `writeFileAtomic` of `JSON.stringify(value, null, 2)` plus a final newline. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Removes the temporary files and folders (`*.tmp-<pid>[-<hex>]`) in `folder` whose writing process is no
 * longer running: what a kill -9 during an atomic write leaves behind. Those of live processes (another
 * run writing now) are kept. Returns the names removed; a missing or unreadable folder removes nothing.
 */
export function sweepStaleTempFiles(folder: string): string[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || processIsAlive(Number(m[1]))) continue;
    try {
      rmSync(join(folder, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Not ours to remove (permissions): leave it.
    }
  }
  return removed;
}

function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Creates `folder` if needed and proves it writable by creating and deleting a file in it, so a read-only
 * disk, a path under a regular file or a folder without write permission fails at once, before slow work,
 * with an error that names the folder and its `role` (e.g. 'cache.dir'). Unlike `access(W_OK)` this also
 * holds for root and for read-only mounts.
 */
export function assertWritableFolder(folder: string, role: string): void {
  const dir = resolve(folder);
  const probe = join(dir, `.write-probe.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new Error(`${role} folder ${dir} is not writable (${err.code ?? err.message})`);
  }
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
