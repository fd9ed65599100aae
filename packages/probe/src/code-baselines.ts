import { kmeans, nearest } from '@symseq/discretize';
import { l2Normalize, parseConfig, Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { featureSchema, toFeatureTensor } from './inputs';
import { ranges } from './weighted-vote';

/**
 * No-learning discrete codes of the student's size, fitted on the rows of a feature matrix after
 * L2-normalisation (as the k-NN probe sees them): residual k-means (stage s quantises what stages < s
 * left) and product quantization (one codebook per slice of the feature). Both use `kmeans` from
 * `@symseq/discretize` (k-means++ seeding from a seeded `Rng`, then Lloyd iterations), so a seed
 * fixes the result. Codebooks live in host memory; encoding runs block by block over the rows.
 */
const codeOptionsSchema = z
  .object({
    /** Centroids per codebook (the student's vocabulary V). */
    codebookSize: z.number().int().positive(),
    /** Seed of the k-means++ seeding. */
    seed: z.number().int().default(0),
    /** Lloyd iterations per codebook. */
    iters: z.number().int().nonnegative().default(10),
    /** k-means++ seeds from a random subset of at most this many rows (it runs on the host). */
    maxSeedPoints: z.number().int().positive().default(16384),
    /** Rows per block when encoding (memory ≈ blockRows × (D + codebookSize) floats). */
    blockRows: z.number().int().positive().default(8192),
    /**
     * Rows of each codebook's data used as its initial centres instead of k-means++ (one list of
     * `codebookSize` row indices per codebook): to reproduce another implementation exactly.
     */
    initRows: z.array(z.array(z.number().int().nonnegative())).optional(),
  })
  .strict();

const residualOptionsSchema = codeOptionsSchema.extend({
  /** Stages L: a code is L indices, prefix l decodes to the sum of its first l centroids. */
  stages: z.number().int().positive(),
  trainFeatures: featureSchema,
  /** Rows of `trainFeatures` when it is a Float32Array. */
  rows: z.number().int().positive().optional(),
});

const productOptionsSchema = codeOptionsSchema.extend({
  /** Codebooks L, one per slice of the feature; a code is L indices. */
  codebooks: z.number().int().positive(),
  trainFeatures: featureSchema,
  rows: z.number().int().positive().optional(),
});

export type ResidualKMeansOptions = z.input<typeof residualOptionsSchema>;
export type ProductQuantizerOptions = z.input<typeof productOptionsSchema>;

/** Codes of `rows` samples, row-major `[rows, length]`. */
export interface Codes {
  data: Int32Array;
  rows: number;
  length: number;
}

/** Residual k-means: L codebooks [V, D]; image x gets c_1 = nearest(x), c_s = nearest(x − Σ_{t<s} centroid_t). */
export class ResidualKMeans {
  private constructor(
    /** One `[V · D]` row-major codebook per stage. */
    readonly codebooks: Float32Array[],
    readonly codebookSize: number,
    readonly dim: number,
    private readonly blockRows: number,
  ) {}

  get stages(): number {
    return this.codebooks.length;
  }

  /** Fits the stages one after another on the L2-normalised training rows. */
  static fit(options: ResidualKMeansOptions): ResidualKMeans {
    const cfg = parseConfig(residualOptionsSchema, options, 'ResidualKMeans options');
    checkInitRows(cfg.initRows, cfg.stages, cfg.codebookSize, 'ResidualKMeans', 'stages');
    const rng = new Rng(cfg.seed);
    let residual = normalizedRows(cfg.trainFeatures, cfg.rows, 'ResidualKMeans trainFeatures');
    const [n, dim] = residual.shape;
    if (cfg.initRows) checkRowRange(cfg.initRows, n, 'ResidualKMeans');
    const codebooks: Float32Array[] = [];
    try {
      for (let s = 0; s < cfg.stages; s++) {
        const centres = fitCodebook(residual, cfg, rng, cfg.initRows?.[s]);
        codebooks.push(centres.dataSync() as Float32Array);
        const next = tf.tidy(() => tf.sub(residual, tf.gather(centres, nearest(residual, centres, false))));
        centres.dispose();
        residual.dispose();
        residual = next as tf.Tensor2D;
      }
    } finally {
      residual.dispose();
    }
    return new ResidualKMeans(codebooks, cfg.codebookSize, dim, cfg.blockRows);
  }

  /** Codes [rows, L] of the L2-normalised rows of `features`. */
  encode(features: tf.Tensor | Float32Array, rows?: number): Codes {
    const x = normalizedRows(features, rows, 'ResidualKMeans.encode features', this.dim);
    const n = x.shape[0];
    const L = this.stages;
    const out = new Int32Array(n * L);
    const books = this.codebooks.map((c) => tf.tensor2d(c, [this.codebookSize, this.dim]));
    try {
      for (const [s, e] of ranges(n, this.blockRows)) {
        const codes = tf.tidy(() => {
          let residual = tf.slice(x, [s, 0], [e - s, -1]);
          const perStage: tf.Tensor[] = [];
          for (const book of books) {
            const c = nearest(residual, book, false);
            perStage.push(c);
            residual = tf.sub(residual, tf.gather(book, c));
          }
          return tf.stack(perStage, 1);
        });
        out.set(codes.dataSync(), s * L);
        codes.dispose();
      }
    } finally {
      tf.dispose([x, ...books]);
    }
    return { data: out, rows: n, length: L };
  }

  /** Embeddings [rows · D] of the first `length` symbols of each code: the sum of their centroids. */
  decode(codes: Codes, length: number): Float32Array {
    checkLength(length, this.stages, codes, 'ResidualKMeans.decode');
    const D = this.dim;
    const out = new Float32Array(codes.rows * D);
    for (let i = 0; i < codes.rows; i++) {
      const row = out.subarray(i * D, (i + 1) * D);
      for (let s = 0; s < length; s++) {
        const c = codes.data[i * codes.length + s];
        const centroid = this.codebooks[s].subarray(c * D, (c + 1) * D);
        for (let j = 0; j < D; j++) row[j] += centroid[j];
      }
    }
    return out;
  }
}

/**
 * Product quantization: the L2-normalised feature is cut into L contiguous slices and each slice has
 * its own codebook of V centroids; a code decodes to the concatenated centroids. When L does not
 * divide D, the slices differ by one dimension: the first D mod L slices get ⌈D / L⌉ dimensions,
 * the others ⌊D / L⌋ (numpy.array_split's rule), so no dimension is dropped or padded.
 */
export class ProductQuantizer {
  private constructor(
    /** Codebook of slice j: `[V · width_j]` row-major. */
    readonly codebooks: Float32Array[],
    /** [start, end) columns of each slice. */
    readonly slices: Array<[number, number]>,
    readonly codebookSize: number,
    readonly dim: number,
    private readonly blockRows: number,
  ) {}

  static fit(options: ProductQuantizerOptions): ProductQuantizer {
    const cfg = parseConfig(productOptionsSchema, options, 'ProductQuantizer options');
    checkInitRows(cfg.initRows, cfg.codebooks, cfg.codebookSize, 'ProductQuantizer', 'codebooks');
    const x = normalizedRows(cfg.trainFeatures, cfg.rows, 'ProductQuantizer trainFeatures');
    const [n, dim] = x.shape;
    if (cfg.initRows) checkRowRange(cfg.initRows, n, 'ProductQuantizer');
    if (cfg.codebooks > dim) {
      x.dispose();
      throw new Error(
        `ProductQuantizer: ${cfg.codebooks} codebooks need at least as many feature dimensions, got ${dim}`,
      );
    }
    const slices = splitDims(dim, cfg.codebooks);
    const rng = new Rng(cfg.seed);
    const codebooks: Float32Array[] = [];
    try {
      slices.forEach(([a, b], j) => {
        const part = tf.slice(x, [0, a], [-1, b - a]);
        const centres = fitCodebook(part, cfg, rng, cfg.initRows?.[j]);
        codebooks.push(centres.dataSync() as Float32Array);
        tf.dispose([part, centres]);
      });
    } finally {
      x.dispose();
    }
    return new ProductQuantizer(codebooks, slices, cfg.codebookSize, dim, cfg.blockRows);
  }

  /** Codes [rows, L] of the L2-normalised rows of `features`. */
  encode(features: tf.Tensor | Float32Array, rows?: number): Codes {
    const x = normalizedRows(features, rows, 'ProductQuantizer.encode features', this.dim);
    const n = x.shape[0];
    const L = this.slices.length;
    const out = new Int32Array(n * L);
    const books = this.codebooks.map((c, j) => tf.tensor2d(c, [this.codebookSize, this.width(j)]));
    try {
      for (const [s, e] of ranges(n, this.blockRows)) {
        const codes = tf.tidy(() =>
          tf.stack(
            this.slices.map(([a, b], j) => nearest(tf.slice(x, [s, a], [e - s, b - a]), books[j], false)),
            1,
          ),
        );
        out.set(codes.dataSync(), s * L);
        codes.dispose();
      }
    } finally {
      tf.dispose([x, ...books]);
    }
    return { data: out, rows: n, length: L };
  }

  /** Embeddings [rows · D]: each slice replaced by its centroid. */
  decode(codes: Codes): Float32Array {
    const L = this.slices.length;
    checkLength(L, L, codes, 'ProductQuantizer.decode');
    const D = this.dim;
    const out = new Float32Array(codes.rows * D);
    for (let i = 0; i < codes.rows; i++) {
      this.slices.forEach(([a, b], j) => {
        const w = b - a;
        const c = codes.data[i * L + j];
        out.set(this.codebooks[j].subarray(c * w, (c + 1) * w), i * D + a);
      });
    }
    return out;
  }

  private width(j: number): number {
    return this.slices[j][1] - this.slices[j][0];
  }
}

/** [start, end) of `parts` contiguous slices of `dim` columns, sizes differing by at most one (larger first). */
export function splitDims(dim: number, parts: number): Array<[number, number]> {
  const base = Math.floor(dim / parts);
  const extra = dim % parts;
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let j = 0; j < parts; j++) {
    const w = base + (j < extra ? 1 : 0);
    out.push([start, start + w]);
    start += w;
  }
  return out;
}

function fitCodebook(
  data: tf.Tensor2D,
  cfg: { codebookSize: number; iters: number; maxSeedPoints: number },
  rng: Rng,
  initRows: number[] | undefined,
): tf.Tensor2D {
  const init = initRows ? tf.gather(data, initRows) : undefined;
  try {
    const { centres, counts } = kmeans(data, cfg.codebookSize, {
      rng,
      iters: cfg.iters,
      maxSeedPoints: cfg.maxSeedPoints,
      init: init as tf.Tensor2D | undefined,
    });
    counts.dispose();
    return centres;
  } finally {
    init?.dispose();
  }
}

/** A float32 [rows, D] tensor of L2-normalised rows (a new tensor), checking D when `dim` is given. */
function normalizedRows(x: tf.Tensor | Float32Array, rows: number | undefined, what: string, dim?: number) {
  const n = x instanceof tf.Tensor ? x.shape[0] : rows;
  if (n === undefined) throw new Error(`${what}: a Float32Array needs its row count (rows)`);
  const t = toFeatureTensor(x, n, what);
  if (dim !== undefined && t.shape[1] !== dim) {
    t.dispose();
    throw new Error(`${what}: rows have ${t.shape[1]} dimensions, the codebooks ${dim}`);
  }
  const out = l2Normalize(t);
  t.dispose();
  return out;
}

function checkInitRows(
  initRows: number[][] | undefined,
  books: number,
  V: number,
  what: string,
  field: string,
) {
  if (!initRows) return;
  if (initRows.length !== books) {
    throw new Error(
      `${what}: initRows has ${initRows.length} lists, expected one per codebook (${field} = ${books})`,
    );
  }
  initRows.forEach((r, s) => {
    if (r.length !== V)
      throw new Error(`${what}: initRows[${s}] has ${r.length} rows, expected codebookSize = ${V}`);
  });
}

function checkRowRange(initRows: number[][], n: number, what: string) {
  initRows.forEach((r, s) => {
    const bad = r.find((i) => i >= n);
    if (bad !== undefined)
      throw new Error(`${what}: initRows[${s}] names row ${bad}, the data has ${n} rows`);
  });
}

function checkLength(length: number, max: number, codes: Codes, what: string) {
  if (codes.length !== max) throw new Error(`${what}: codes have length ${codes.length}, expected ${max}`);
  if (!Number.isInteger(length) || length < 1 || length > max) {
    throw new Error(`${what}: length ${length} must be an integer in [1, ${max}]`);
  }
}
