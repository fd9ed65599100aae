import * as tf from '@tensorflow/tfjs-core';
import type { FeatureInput, LabelInput, SymbolInput } from './inputs';
import { type KnnOptions, knnClassify } from './knn';
import { symbolKnnClassify } from './symbol-knn';

/** What `featurize(length)` returns: features for the k-NN probe, or raw symbols for the symbolic probe. */
export type LengthFeatures =
  | { trainFeatures: FeatureInput; testFeatures: FeatureInput }
  | { trainSymbols: SymbolInput; testSymbols: SymbolInput; representation?: 'position' | 'bag' };

export interface AccuracyVsLengthInput {
  /** Features of every sample for a prefix of `length` symbols. Tensors it returns are disposed after use. */
  featurize: (length: number) => LengthFeatures | Promise<LengthFeatures>;
  trainLabels: LabelInput;
  testLabels: LabelInput;
  numClasses: number;
  /** Prefix lengths to evaluate (default 1, 2, 4, 8: the paper's table). */
  lengths?: number[];
  knn?: Omit<KnnOptions, 'returnPredictions'>;
}

export interface LengthRow {
  length: number;
  top1: number;
  top5: number;
}

/**
 * Accuracy of the weighted k-NN probe for each prefix length: `featurize(l)` gives the features
 * (e.g. the symbol encoder's output on the first l symbols) or the symbols themselves, which are
 * then classified by `knnClassify` or `symbolKnnClassify` (prefix = the first l symbols).
 */
export async function accuracyVsLength(input: AccuracyVsLengthInput): Promise<LengthRow[]> {
  const lengths = input.lengths ?? [1, 2, 4, 8];
  if (lengths.length === 0) throw new Error('accuracyVsLength: lengths is empty');
  for (const l of lengths) {
    if (!Number.isInteger(l) || l < 1)
      throw new Error(`accuracyVsLength: length ${l} must be an integer ≥ 1`);
  }
  const rows: LengthRow[] = [];
  for (const length of lengths) {
    const f = await input.featurize(length);
    const common = {
      trainLabels: input.trainLabels,
      testLabels: input.testLabels,
      numClasses: input.numClasses,
      ...input.knn,
    };
    try {
      const r =
        'trainFeatures' in f
          ? await knnClassify({ ...common, trainFeatures: f.trainFeatures, testFeatures: f.testFeatures })
          : await symbolKnnClassify({
              ...symbolOptions(common),
              trainSymbols: f.trainSymbols,
              testSymbols: f.testSymbols,
              representation: f.representation,
              prefixLength: length,
            });
      rows.push({ length, top1: r.top1, top5: r.top5 });
    } finally {
      for (const v of Object.values(f)) if (v instanceof tf.Tensor) v.dispose();
    }
  }
  return rows;
}

/** The symbolic probe searches without blocks: chunk sizes do not apply to it. */
function symbolOptions<T extends { chunkSize?: number; bankChunkSize?: number }>(o: T) {
  const { chunkSize: _c, bankChunkSize: _b, ...rest } = o;
  return rest;
}

/** The table as Markdown: one row per length, accuracies in percent with two decimals. */
export function formatLengthTable(rows: LengthRow[]): string {
  const lines = ['| symbols | top-1 (%) | top-5 (%) |', '|---:|---:|---:|'];
  for (const r of rows) lines.push(`| ${r.length} | ${r.top1.toFixed(2)} | ${r.top5.toFixed(2)} |`);
  return lines.join('\n');
}
