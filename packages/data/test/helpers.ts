import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

/** The project's read-only shared folder (data, models), beside the repository. */
export const SHARED =
  process.env.SYMSEQ_SHARED ?? fileURLToPath(new URL('../../../../shared', import.meta.url));
export const CIFAR_JPEG = join(SHARED, 'data/cifar10-jpeg');
export const MOBILENET = join(SHARED, 'models/mobilenet_v1_0.75_224');
export const hasCifarJpeg = existsSync(join(CIFAR_JPEG, 'test/cat'));
export const hasMobilenet = existsSync(join(MOBILENET, 'model.json'));

export const FIXTURES = fileURLToPath(new URL('./fixtures', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: JSON fixture
export const reference: any = JSON.parse(readFileSync(join(FIXTURES, 'data_reference.json'), 'utf8'));

/** A fresh temporary folder, removed after the file's tests. */
export async function tempDir(prefix = 'symseq-data-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length} differ`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
