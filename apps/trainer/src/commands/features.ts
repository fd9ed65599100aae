import { assertWritableFolder, mergeFeatureCache } from '@symseq/data';
import { selectBackend } from '../backend';
import { buildTrainConfig, type TrainFlags } from '../config';
import { checkDataLocation, openSplits } from '../data-source';
import { buildFeaturesOf, featureCacheDir } from '../features';
import { loadTeacher } from '../teacher-source';

export interface FeaturesFlags extends TrainFlags {
  workers?: number;
  /** `i/n`: build only job i (0-based) of n. */
  shard?: string;
  /** Check that every job's shards are in and mark the caches complete; computes nothing. */
  merge?: boolean;
}

/** `--shard i/n` → { index: i, count: n }, 0 <= i < n. */
export function parseShard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!(count >= 1 && index < count)) {
    throw new Error(
      `--shard ${value}: expected i/n with 0 <= i < n, e.g. --shard 0/4 … --shard 3/4 (Slurm: $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)`,
    );
  }
  return { index, count };
}

/**
 * `symseq features`: extract (or resume) the teacher feature caches of a config's train and test splits
 * without training: all of them, only job i of n (`--shard i/n`, for a scheduler's array of jobs sharing
 * cache.dir), or, with `--merge`, check that every job's shards are in. `train` then reuses the caches.
 */
export async function featuresCommand(flags: FeaturesFlags): Promise<string[]> {
  const part = flags.shard !== undefined ? parseShard(flags.shard) : undefined;
  if (part && flags.merge)
    throw new Error('--shard and --merge exclude each other: merge after all jobs ran');
  const config = buildTrainConfig(flags);
  assertWritableFolder(config.cache.dir, 'cache.dir');
  const backend = await selectBackend(config.backend);
  checkDataLocation(config);
  const teacher = await loadTeacher(config);
  const splits = await openSplits(config, { quiet: flags.quiet });
  const lines: string[] = [`backend: ${backend.name}`];
  try {
    for (const [split, ds, views] of [
      ['train', splits.train, config.cache.views],
      ['test', splits.test, 0],
    ] as const) {
      if (flags.merge) {
        const dir = featureCacheDir(config, teacher, ds, split, views);
        const m = await mergeFeatureCache(dir);
        lines.push(`features ${split}: complete, ${m.shards} shards (${dir})`);
        continue;
      }
      const { dir, result } = await buildFeaturesOf(config, teacher, ds, split, views, {
        quiet: flags.quiet,
        workers: flags.workers,
        part,
      });
      const left = result.missingShards.length;
      lines.push(
        `features ${split}: ${result.status}, ${result.computedShards} shards computed${part ? ` (job ${part.index}/${part.count})` : ''}, ` +
          `${left ? `${left} of ${result.manifest.shards} left to other jobs` : 'complete'} (${dir})`,
      );
    }
  } finally {
    teacher.dispose();
  }
  return lines;
}
