import { type BaselineMethod, codeBaselines } from '@symseq/probe';
import type { ExtraRow, ExtraRowContext } from './evaluation';
import { cleanPooled } from './features';
import type { Series } from './plot';

/** How the report names each no-learning row. */
export const BASELINE_NAMES: Record<BaselineMethod, string> = {
  teacher: 'teacher pooled features',
  'residual-kmeans': 'residual k-means',
  'product-quantization': 'product quantization',
};

/** Depth of the retrieval metric: the deep-hashing literature's mAP@1000 on CIFAR-10. */
export const MAP_R = 1000;

/**
 * The no-learning rows of issue 10 on the run's own cached teacher features and k-NN protocol:
 * residual k-means (one stage per symbol, prefix l = sum of its first l centroids) and product
 * quantization (l codebooks over l slices for length l), both with the student's vocabulary as
 * centroids per codebook and the run's seed; plus mAP@1000 for each and for the teacher's features.
 * The teacher row has length 0 (continuous features, no code).
 */
export async function baselineRows(ctx: ExtraRowContext): Promise<ExtraRow[]> {
  const { config, train, test } = ctx;
  if (!config.eval.baselines) return [];
  const table = await codeBaselines({
    trainFeatures: cleanPooled(train),
    trainLabels: train.labels,
    testFeatures: cleanPooled(test),
    testLabels: test.labels,
    numClasses: train.manifest.classes.length,
    lengths: ctx.lengths,
    codebookSize: config.student.vocabSize,
    seed: config.seed,
    k: config.eval.k,
    T: config.eval.temperature,
    mapR: MAP_R,
    onProgress: ctx.quiet ? undefined : (line) => console.error(`baselines: ${line}`),
  });
  return table.rows.map((r) => ({
    method: BASELINE_NAMES[r.method],
    length: r.length,
    top1: r.top1,
    top5: r.top5,
    [`mAP@${table.R}`]: r.mAP ?? Number.NaN,
  }));
}

/** The student's row beside the baselines: its k-NN accuracies at `length` and the mAP@R of its embeddings. */
export function studentMapRow(
  length: number,
  knn: { top1: number; top5: number },
  map: { mAP: number; R: number },
): ExtraRow {
  return { method: 'student', length, top1: knn.top1, top5: knn.top5, [`mAP@${map.R}`]: map.mAP };
}

const COLOURS: Record<string, string> = {
  [BASELINE_NAMES['residual-kmeans']]: '#ff7f0e',
  [BASELINE_NAMES['product-quantization']]: '#9467bd',
};

/** Plot series of the code baselines among `extra` rows (accuracy vs length), dashed beside the student. */
export function baselineSeries(extra: ExtraRow[]): Series[] {
  return Object.entries(COLOURS)
    .map(([method, colour]) => ({
      label: method,
      points: extra.filter((x) => x.method === method).map((x) => [x.length, x.top1] as [number, number]),
      colour,
      dashed: true,
    }))
    .filter((s) => s.points.length > 0);
}
