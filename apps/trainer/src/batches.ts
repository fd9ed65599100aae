import { createProgress } from '@symseq/data';

/**
 * Calls `fn` on consecutive slices of `items` (at most `batchSize` each; `start` = the slice's offset)
 * one after another, with a progress bar counting images.
 */
export async function forEachBatch<T>(
  items: readonly T[],
  batchSize: number,
  progress: { label: string; quiet?: boolean },
  fn: (batch: T[], start: number) => Promise<void>,
): Promise<void> {
  const bar = createProgress({
    label: progress.label,
    total: items.length,
    unit: 'img',
    quiet: progress.quiet,
  });
  for (let start = 0; start < items.length; start += batchSize) {
    const batch = items.slice(start, start + batchSize);
    await fn(batch, start);
    bar.increment(batch.length);
  }
  bar.stop();
}
