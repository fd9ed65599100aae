import { createProgress } from '@symseq/data';
import type { Student } from '@symseq/decoder';
import { Rng } from '@symseq/nn';
import { knnClassify, symbolClassStats, symbolKnnClassify, symbolUsage } from '@symseq/probe';
import * as tf from '@tensorflow/tfjs-core';
import { type FeatureSet, gatherTokens } from './features';

/** Symbols and symbol-encoder embeddings of every image (clean view), per prefix length. */
export interface Encoded {
  /** [n, L] */
  symbols: Int32Array;
  length: number;
  /** length → [n, d] */
  embeddings: Map<number, Float32Array>;
  dim: number;
}

/** Runs the student in inference mode (hard symbols, no noise) over a feature set. */
export async function encodeAll(
  student: Student,
  f: FeatureSet,
  lengths: number[],
  opts: { batchSize?: number; label?: string; quiet?: boolean } = {},
): Promise<Encoded> {
  const bs = opts.batchSize ?? 500;
  const L = Math.max(...lengths);
  const symbols = new Int32Array(f.n * L);
  const embeddings = new Map<number, Float32Array>();
  let dim = 0;
  const bar = createProgress({ label: opts.label ?? 'encode', total: f.n, unit: 'img', quiet: opts.quiet });
  for (let s = 0; s < f.n; s += bs) {
    const idx = Array.from({ length: Math.min(bs, f.n - s) }, (_, i) => s + i);
    const out = tf.tidy(() => {
      const tokens = tf.tensor3d(
        gatherTokens(f, idx, () => 0),
        [idx.length, f.tokensPerView, f.tokenDim],
      );
      const o = student.forward(tokens, { mode: 'inference', lengths });
      return { symbols: o.decoder.symbols, emb: o.prefixes.map((p) => p.embedding) };
    });
    symbols.set(await out.symbols.data(), s * L);
    for (let i = 0; i < lengths.length; i++) {
      const e = (await out.emb[i].data()) as Float32Array;
      dim = out.emb[i].shape[1] as number;
      if (!embeddings.has(lengths[i])) embeddings.set(lengths[i], new Float32Array(f.n * dim));
      embeddings.get(lengths[i])!.set(e, s * dim);
    }
    tf.dispose([out.symbols, ...out.emb]);
    bar.increment(idx.length);
  }
  bar.stop();
  return { symbols, length: L, embeddings, dim };
}

export interface LengthResult {
  length: number;
  /** k-NN on the symbol encoder's embedding of the hard prefix. */
  top1: number;
  top5: number;
  /** k-NN on the symbol ids alone (fraction of matching positions), no learned embedding. */
  symbolicTop1: number;
  /** NMI between the prefix (as one joint code) and the classes. */
  nmi: number;
  /** Perplexity of the symbol at this position (the last of the prefix). */
  perplexity: number;
}

export interface EvalResult {
  rows: LengthResult[];
  /** k-NN on the teacher's own pooled features: the ceiling for this teacher. */
  teacher: { top1: number; top5: number };
  usage: { used: number; vocab: number; perplexity: number };
  bank: number;
  queries: number;
}

/** The paper's table: k-NN top-1 at each prefix length, bank = train set, queries = test set. */
export async function evaluate(
  student: Student,
  trainSet: FeatureSet,
  test: FeatureSet,
  opts: { lengths: number[]; k: number; T: number; batchSize?: number; quiet?: boolean; seed?: number },
): Promise<EvalResult> {
  const lengths = [...opts.lengths].sort((a, b) => a - b);
  const numClasses = trainSet.classes.length;
  // Images with the same symbols have identical embeddings, so k-NN meets large ties, which top-k breaks
  // by bank order. A class-sorted bank (ImageFolder) would then vote for its first class; a seeded
  // shuffle of the bank makes ties break at random, as in the official (unsorted) CIFAR-10 batches.
  // Images are encoded independently, so the encoded bank is permuted rather than the teacher features.
  const order = new Rng((opts.seed ?? 0) + 4242).permutation(trainSet.n);
  const encoded = await encodeAll(student, trainSet, lengths, { ...opts, label: 'encode train' });
  const a: Encoded = {
    ...encoded,
    symbols: permuteRows(encoded.symbols, order, encoded.length),
    embeddings: new Map([...encoded.embeddings].map(([l, e]) => [l, permuteRows(e, order, encoded.dim)])),
  };
  const train = { n: trainSet.n, labels: permuteRows(trainSet.labels, order, 1) };
  const b = await encodeAll(student, test, lengths, { ...opts, label: 'encode test' });
  const vocab = (student.config as { vocabSize: number }).vocabSize;
  const usage = symbolUsage({ data: b.symbols, shape: [test.n, b.length] }, { vocabSize: vocab });
  const stats = symbolClassStats({ data: b.symbols, shape: [test.n, b.length] }, test.labels, { lengths });
  const rows: LengthResult[] = [];
  for (const length of lengths) {
    const knn = await knnClassify({
      trainFeatures: a.embeddings.get(length)!,
      trainLabels: train.labels,
      testFeatures: b.embeddings.get(length)!,
      testLabels: test.labels,
      numClasses,
      k: opts.k,
      T: opts.T,
    });
    const sym = await symbolKnnClassify({
      trainSymbols: { data: a.symbols, shape: [train.n, a.length] },
      trainLabels: train.labels,
      testSymbols: { data: b.symbols, shape: [test.n, b.length] },
      testLabels: test.labels,
      numClasses,
      k: opts.k,
      T: opts.T,
      prefixLength: length,
    });
    rows.push({
      length,
      top1: knn.top1,
      top5: knn.top5,
      symbolicTop1: sym.top1,
      nmi: stats.perPrefix.find((p) => p.length === length)?.nmi ?? Number.NaN,
      perplexity: usage.perPosition[length - 1]?.perplexity ?? Number.NaN,
    });
  }
  const teacher = await knnClassify({
    trainFeatures: permuteRows(cleanPooled(trainSet), order, trainSet.pooledDim),
    trainLabels: train.labels,
    testFeatures: cleanPooled(test),
    testLabels: test.labels,
    numClasses,
    k: opts.k,
    T: opts.T,
  });
  return {
    rows,
    teacher: { top1: teacher.top1, top5: teacher.top5 },
    usage: { used: usage.overall.used, vocab, perplexity: usage.overall.perplexity },
    bank: train.n,
    queries: test.n,
  };
}

/** Rows (of `width` values) of `src` in the order `order` gives: row i of the result is row order[i]. */
export function permuteRows<T extends Float32Array | Int32Array>(src: T, order: number[], width: number): T {
  const out = new (src.constructor as new (n: number) => T)(src.length);
  for (let to = 0; to < order.length; to++)
    out.set(src.subarray(order[to] * width, (order[to] + 1) * width), to * width);
  return out;
}

function cleanPooled(f: FeatureSet): Float32Array {
  if (f.views === 1) return f.pooled;
  const out = new Float32Array(f.n * f.pooledDim);
  for (let i = 0; i < f.n; i++)
    out.set(f.pooled.subarray(i * f.views * f.pooledDim, (i * f.views + 1) * f.pooledDim), i * f.pooledDim);
  return out;
}
