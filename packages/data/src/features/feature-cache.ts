import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { float16ToFloat32, float32ToFloat16, Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { assertWritableFolder, writeFileAtomic, writeJsonAtomic } from '../atomic-write';
import {
  type AugmentationConfig,
  type AugmentationConfigInput,
  parseAugmentationConfig,
} from '../augment/config';
import { DinoAugmentation } from '../augment/dino-augmentation';
import { batchToTensor, type ImageDataset } from '../datasets/image-dataset';
import { createProgress } from '../progress';

export const FEATURE_CACHE_FORMAT = 'symseq-feature-cache';
export const FEATURE_CACHE_VERSION = 1;

export type FeatureDtype = 'float16' | 'float32';

/**
 * A frozen teacher: [B, S, S, 3] images in [0, 1] → patch tokens [B, N, Dt] and pooled features [B, Dp]
 * (Dp may differ from Dt, e.g. tokens of an earlier layer than the pooled feature).
 */
export type Featurizer = (
  images: tf.Tensor4D,
) => { tokens: tf.Tensor; pooled: tf.Tensor } | Promise<{ tokens: tf.Tensor; pooled: tf.Tensor }>;

export interface FeatureCacheOptions {
  /** Folder of the cache (created if missing); holds `manifest.json` and `shard-NNNNN.bin`. */
  dir: string;
  dataset: ImageDataset;
  /** The teacher, run in this thread; optional when `executor` computes the shards elsewhere. */
  featurize?: Featurizer;
  /**
   * Computes the shards (e.g. in worker threads, each with its own teacher and backend); shards computed
   * in the caller's thread by `featurize` when omitted. Every shard's bytes depend only on the plan and the
   * shard index, so any executor with the same backend gives the same cache.
   */
  executor?: FeatureShardExecutor;
  /**
   * Build only job `index` of `count` (0-based), a contiguous block of shards, for extraction spread over
   * machines; the cache becomes complete when the last job's shards are in (or a reader finds them all).
   */
  part?: { index: number; count: number };
  /** Names the teacher and its weights; a different id means different features. */
  teacherId: string;
  /** Side of the square images given to the teacher. */
  inputSize: number;
  /** Augmented views per image besides the clean one (view 0); 0 stores only the clean image. */
  views?: number;
  /** Augmentation of the extra views (DINO's first global view by default); its size is `inputSize`. */
  augmentation?: AugmentationConfigInput;
  /** Seed of the augmentations. */
  seed?: number;
  /** float16 halves disk and memory at ~3 significant digits. */
  dtype?: FeatureDtype;
  /** Images per teacher call. */
  batchSize?: number;
  /** Images per shard: the unit that survives an interruption. */
  shardSize?: number;
  quiet?: boolean;
}

/** What must match for a cache to be reused. */
export interface FeatureCacheKey {
  teacherId: string;
  inputSize: number;
  datasetFingerprint: string;
  count: number;
  views: number;
  augmentation: unknown;
  seed: number;
  dtype: FeatureDtype;
  shardSize: number;
}

export interface FeatureCacheManifest {
  format: typeof FEATURE_CACHE_FORMAT;
  version: number;
  key: FeatureCacheKey;
  /** Views stored per image: the clean one plus `key.views` augmented ones. */
  viewCount: number;
  /** Known once the first shard is computed. */
  shapes: { tokens: [number, number, number, number]; pooled: [number, number, number] } | null;
  shards: number;
  classes: string[];
  labels: number[];
  complete: boolean;
}

export interface BuildFeatureCacheResult {
  /** `reused`: nothing computed; `resumed`: completed shards kept; `built`: computed from scratch. */
  status: 'reused' | 'resumed' | 'built';
  /** Shards computed by this call. */
  computedShards: number;
  /** Shards still missing (only a `part` build leaves some: other jobs' shards). */
  missingShards: number[];
  manifest: FeatureCacheManifest;
}

/** Everything a shard's features depend on besides the teacher and the images: plain data, sendable to a worker. */
export interface FeatureShardPlan {
  teacherId: string;
  inputSize: number;
  viewCount: number;
  /** Parsed augmentation of the extra views; null when there are none. */
  augmentation: AugmentationConfig | null;
  seed: number;
  dtype: FeatureDtype;
  batchSize: number;
  shardSize: number;
  count: number;
}

/** One computed shard, encoded as stored on disk. */
export interface ComputedFeatureShard {
  index: number;
  /** Tokens per image and their size, and the pooled feature's size, as the teacher returned them. */
  tokenCount: number;
  tokenDim: number;
  pooledDim: number;
  bytes: Uint8Array;
}

/**
 * Computes the shards `todo` of `plan` (in any order, any number at a time), handing each to `onShard`
 * (awaited; it writes the file) and reporting progress in views through `onViews`.
 */
export type FeatureShardExecutor = (job: {
  plan: FeatureShardPlan;
  todo: number[];
  onShard: (shard: ComputedFeatureShard) => Promise<void>;
  onViews: (views: number) => void;
}) => Promise<void>;

/** The shards of job `index` of `count`: a contiguous block, the blocks of all jobs covering every shard once. */
export function shardsOfPart(shards: number, part: { index: number; count: number }): number[] {
  const { index, count } = part;
  if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 && index < count)) {
    throw new Error(
      `feature cache part: expected index/count with 0 <= index < count, got ${index}/${count}`,
    );
  }
  const from = Math.floor((index * shards) / count);
  const to = Math.floor(((index + 1) * shards) / count);
  return Array.from({ length: to - from }, (_, i) => from + i);
}

const MANIFEST = 'manifest.json';

export function shardFileName(index: number): string {
  return `shard-${String(index).padStart(5, '0')}.bin`;
}

/**
 * Runs the frozen teacher over a dataset once and stores its features on disk in shards. A cache whose
 * manifest matches (teacher id, input size, dataset fingerprint, views, augmentation, seed, dtype) is
 * reused; one that does not is deleted and rebuilt; an interrupted build keeps its finished shards and
 * computes only the rest (each shard's augmentations come from its own seeded stream, so a resumed cache
 * equals an uninterrupted one). Every file is written atomically.
 */
export async function buildFeatureCache(options: FeatureCacheOptions): Promise<BuildFeatureCacheResult> {
  const views = options.views ?? 0;
  const batchSize = options.batchSize ?? 32;
  const shardSize = options.shardSize ?? 1024;
  const dtype = options.dtype ?? 'float16';
  // The seed only draws augmented views: a clean-only cache (views 0) is the same for every seed, so
  // it is stored as seed 0 and shared, not rebuilt (and overwritten) when a run changes its seed.
  const seed = views > 0 ? (options.seed ?? 0) : 0;
  const { dataset, inputSize } = options;
  for (const [name, v, min] of [
    ['views', views, 0],
    ['batchSize', batchSize, 1],
    ['shardSize', shardSize, 1],
    ['inputSize', inputSize, 1],
  ] as const) {
    if (!(Number.isInteger(v) && v >= min))
      throw new Error(`buildFeatureCache: ${name} must be an integer >= ${min}, got ${v}`);
  }
  if (dtype !== 'float16' && dtype !== 'float32') {
    throw new Error(`buildFeatureCache: dtype must be 'float16' or 'float32', got '${dtype}'`);
  }
  if (!options.featurize && !options.executor) {
    throw new Error('buildFeatureCache: give a featurize function (the teacher) or an executor');
  }
  let augmentation: AugmentationConfig | null = null;
  if (views > 0) {
    const requested = options.augmentation ?? {};
    if (requested.size !== undefined && requested.size !== inputSize) {
      throw new Error(
        `buildFeatureCache: augmentation.size ${requested.size} differs from inputSize ${inputSize}`,
      );
    }
    augmentation = parseAugmentationConfig({ ...requested, size: inputSize });
  }
  const key: FeatureCacheKey = {
    teacherId: options.teacherId,
    inputSize,
    datasetFingerprint: dataset.fingerprint(),
    count: dataset.length,
    views,
    augmentation,
    seed,
    dtype,
    shardSize,
  };
  const dir = options.dir;
  const shards = Math.ceil(dataset.length / shardSize);
  const mine = options.part ? shardsOfPart(shards, options.part) : null;
  // Before the teacher runs: a read-only cache folder must not cost a whole extraction.
  assertWritableFolder(dir, 'buildFeatureCache: cache');
  const viewCount = views + 1;

  const { manifest: existing, problem } = await readManifest(dir);
  let manifest: FeatureCacheManifest;
  let status: BuildFeatureCacheResult['status'];
  const done = new Set<number>();
  if (existing && stableJson(existing.key) === stableJson(key)) {
    manifest = existing;
    if (manifest.shapes) {
      for (let s = 0; s < shards; s++) {
        if (await shardIsComplete(dir, manifest, s)) done.add(s);
      }
    }
    status = done.size === shards && manifest.complete ? 'reused' : 'resumed';
    if (status === 'reused') return { status, computedShards: 0, missingShards: [], manifest };
  } else {
    if (mine && existing) {
      // Other jobs may be writing into this folder: a part build never deletes what it did not write.
      throw new Error(
        `buildFeatureCache: the cache in ${dir} was made with other options (teacher, data, views, seed, dtype or shard size); ` +
          'a part (--shard) build does not delete it because other jobs may share the folder: remove the folder, or use another cache.dir',
      );
    }
    if (mine && problem && existsSync(join(dir, MANIFEST))) {
      throw new Error(`buildFeatureCache: ${problem}; a part (--shard) build does not replace it`);
    }
    await removeShards(dir, mine ?? undefined);
    manifest = {
      format: FEATURE_CACHE_FORMAT,
      version: FEATURE_CACHE_VERSION,
      key,
      viewCount,
      shapes: null,
      shards,
      classes: [...dataset.classes],
      labels: Array.from(dataset.labels),
      complete: false,
    };
    await writeJsonAtomic(join(dir, MANIFEST), manifest);
    status = 'built';
  }

  const todo = (mine ?? Array.from({ length: shards }, (_, s) => s)).filter((s) => !done.has(s));
  const plan: FeatureShardPlan = {
    teacherId: options.teacherId,
    inputSize,
    viewCount,
    augmentation,
    seed,
    dtype,
    batchSize,
    shardSize,
    count: dataset.length,
  };
  const images = todo.reduce((n, s) => n + shardLength(manifest, s), 0);
  const progress = createProgress({
    label: 'teacher features',
    total: images * viewCount,
    unit: 'view',
    quiet: options.quiet,
  });
  const executor = options.executor ?? localShardExecutor(dataset, options.featurize as Featurizer);
  try {
    if (todo.length > 0) {
      await executor({
        plan,
        todo,
        onViews: (n) => progress.increment(n),
        onShard: async (shard) => {
          if (!todo.includes(shard.index)) {
            throw new Error(
              `buildFeatureCache: executor returned shard ${shard.index}, which was not asked for`,
            );
          }
          manifest = await ensureShapes(dir, manifest, shard, options.teacherId);
          const expected = shardBytes(manifest, shard.index);
          if (shard.bytes.byteLength !== expected) {
            throw new Error(
              `buildFeatureCache: shard ${shard.index} holds ${shard.bytes.byteLength} bytes, expected ${expected}`,
            );
          }
          await writeFileAtomic(join(dir, shardFileName(shard.index)), shard.bytes);
          done.add(shard.index);
        },
      });
    }
  } finally {
    progress.stop();
  }
  const missingShards = Array.from({ length: shards }, (_, s) => s).filter((s) => !done.has(s));
  if (mine && missingShards.length > 0) {
    // Another job may have finished meanwhile: look again before leaving the cache incomplete.
    const fresh = (await readManifest(dir)).manifest ?? manifest;
    const stillMissing = fresh.shapes ? await missingShardsOf(dir, fresh) : missingShards;
    if (stillMissing.length > 0) {
      return { status, computedShards: todo.length, missingShards: stillMissing, manifest: fresh };
    }
    manifest = fresh;
  }
  manifest = { ...manifest, complete: true };
  await writeJsonAtomic(join(dir, MANIFEST), manifest);
  return { status, computedShards: todo.length, missingShards: [], manifest };
}

/** Computes shards one after another in this thread. */
function localShardExecutor(dataset: ImageDataset, featurize: Featurizer): FeatureShardExecutor {
  return async ({ plan, todo, onShard, onViews }) => {
    for (const s of todo) await onShard(await computeFeatureShard(plan, dataset, featurize, s, onViews));
  };
}

/**
 * Features of shard `s` of `plan`, encoded as stored: pooled [n, views, Dp] then tokens [n, views, N, Dt],
 * image-major. View 0 is the clean image; views 1.. come from the shard's own seeded augmentation stream,
 * so a shard's bytes do not depend on which shards ran before or where.
 */
export async function computeFeatureShard(
  plan: FeatureShardPlan,
  dataset: ImageDataset,
  featurize: Featurizer,
  s: number,
  onViews: (views: number) => void = () => {},
): Promise<ComputedFeatureShard> {
  const { shardSize, batchSize, viewCount, inputSize, teacherId } = plan;
  const first = s * shardSize;
  const n = Math.min(shardSize, plan.count - first);
  if (!(Number.isInteger(s) && s >= 0 && n > 0)) {
    throw new Error(`computeFeatureShard: shard ${s} is outside 0..${Math.ceil(plan.count / shardSize) - 1}`);
  }
  const augmentation = plan.augmentation ? new DinoAugmentation(plan.augmentation) : undefined;
  const rng = new Rng(shardSeed(plan.seed, s));
  const pooledParts: Float32Array[] = [];
  const tokenParts: Float32Array[] = [];
  let shape: FeatureShape | undefined;
  for (let start = first; start < first + n; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, first + n - start) }, (_, i) => start + i);
    const perView: { tokens: Float32Array; pooled: Float32Array }[] = [];
    for (let v = 0; v < viewCount; v++) {
      const input =
        v === 0
          ? batchToTensor(dataset.load(indices, { size: inputSize }))
          : tf.tidy(() => {
              const raw = batchToTensor(dataset.load(indices));
              return augmentation!.apply(raw, rng);
            });
      const out = await runTeacher(featurize, input, teacherId);
      input.dispose();
      const now = out.shape;
      if (shape && describeShape(shape) !== describeShape(now)) {
        throw new Error(
          `buildFeatureCache: teacher '${teacherId}' returned ${describeShape(now)}, then ${describeShape(shape)} earlier in shard ${s}`,
        );
      }
      shape = now;
      perView.push(out);
      onViews(indices.length);
    }
    // Interleave to image-major [b, views, …] order.
    const { tokenCount, tokenDim, pooledDim: dp } = shape!;
    const tokenSize = tokenCount * tokenDim;
    const pooled = new Float32Array(indices.length * viewCount * dp);
    const tokens = new Float32Array(indices.length * viewCount * tokenSize);
    for (let b = 0; b < indices.length; b++) {
      for (let v = 0; v < viewCount; v++) {
        pooled.set(perView[v].pooled.subarray(b * dp, (b + 1) * dp), (b * viewCount + v) * dp);
        tokens.set(
          perView[v].tokens.subarray(b * tokenSize, (b + 1) * tokenSize),
          (b * viewCount + v) * tokenSize,
        );
      }
    }
    pooledParts.push(pooled);
    tokenParts.push(tokens);
  }
  return {
    index: s,
    ...shape!,
    bytes: encodeShard(concat(pooledParts), concat(tokenParts), plan.dtype),
  };
}

/** Sizes of one image's features: N tokens of Dt, and a pooled feature of Dp. */
interface FeatureShape {
  tokenCount: number;
  tokenDim: number;
  pooledDim: number;
}

const describeShape = (s: FeatureShape) =>
  `${s.tokenCount} tokens of size ${s.tokenDim} and pooled features of size ${s.pooledDim}`;

async function runTeacher(
  featurize: Featurizer,
  input: tf.Tensor4D,
  teacherId: string,
): Promise<{ tokens: Float32Array; pooled: Float32Array; shape: FeatureShape }> {
  const { tokens, pooled } = await featurize(input);
  try {
    const b = input.shape[0];
    if (tokens.rank !== 3 || tokens.shape[0] !== b) {
      throw new Error(
        `buildFeatureCache: teacher '${teacherId}' returned tokens of shape [${tokens.shape}], expected [${b}, N, D]`,
      );
    }
    if (pooled.rank !== 2 || pooled.shape[0] !== b || !((pooled.shape[1] ?? 0) >= 1)) {
      throw new Error(
        `buildFeatureCache: teacher '${teacherId}' returned pooled of shape [${pooled.shape}], expected [${b}, D]`,
      );
    }
    const [t, p] = await Promise.all([tokens.data(), pooled.data()]);
    return {
      tokens: Float32Array.from(t),
      pooled: Float32Array.from(p),
      shape: {
        tokenCount: tokens.shape[1] as number,
        tokenDim: tokens.shape[2] as number,
        pooledDim: pooled.shape[1] as number,
      },
    };
  } finally {
    tokens.dispose();
    pooled.dispose();
  }
}

/** Records the feature shapes in the manifest on the first shard; later shards must agree. */
async function ensureShapes(
  dir: string,
  manifest: FeatureCacheManifest,
  got: FeatureShape,
  teacherId: string,
): Promise<FeatureCacheManifest> {
  if (manifest.shapes) {
    const held = shapeOf(manifest);
    if (describeShape(held) !== describeShape(got)) {
      throw new Error(
        `buildFeatureCache: teacher '${teacherId}' returned ${describeShape(got)}, but the cache in ${dir} holds ${describeShape(held)}; ` +
          'a changed teacher needs a new teacherId',
      );
    }
    return manifest;
  }
  const { count } = manifest.key;
  const next: FeatureCacheManifest = {
    ...manifest,
    shapes: {
      tokens: [count, manifest.viewCount, got.tokenCount, got.tokenDim],
      pooled: [count, manifest.viewCount, got.pooledDim],
    },
  };
  await writeJsonAtomic(join(dir, MANIFEST), next);
  return next;
}

function shardLength(manifest: FeatureCacheManifest, s: number): number {
  const { count, shardSize } = manifest.key;
  return Math.min(shardSize, count - s * shardSize);
}

/** The per-image feature sizes a manifest records (its shapes must be known). */
function shapeOf(manifest: FeatureCacheManifest): FeatureShape {
  const [, , tokenCount, tokenDim] = manifest.shapes!.tokens;
  return { tokenCount, tokenDim, pooledDim: manifest.shapes!.pooled[2] };
}

function shardBytes(manifest: FeatureCacheManifest, s: number): number {
  const { tokenCount, tokenDim, pooledDim } = shapeOf(manifest);
  const floats = manifest.viewCount * (tokenCount * tokenDim + pooledDim);
  return shardLength(manifest, s) * floats * (manifest.key.dtype === 'float16' ? 2 : 4);
}

async function shardIsComplete(dir: string, manifest: FeatureCacheManifest, s: number): Promise<boolean> {
  try {
    return (await stat(join(dir, shardFileName(s)))).size === shardBytes(manifest, s);
  } catch {
    return false;
  }
}

/** Seed of shard `s`'s augmentation stream: independent of which shards ran before. */
function shardSeed(seed: number, s: number): number {
  return (Math.imul((seed >>> 0) ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(s + 1, 0x85ebca6b)) >>> 0;
}

function encodeShard(pooled: Float32Array, tokens: Float32Array, dtype: FeatureDtype): Uint8Array {
  const all = new Float32Array(pooled.length + tokens.length);
  all.set(pooled);
  all.set(tokens, pooled.length);
  const typed = dtype === 'float16' ? float32ToFloat16(all) : all;
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const count = z.number().int().nonnegative();
/** What a manifest on disk must hold before any field of it is trusted (the key is compared, not typed). */
const manifestSchema = z.object({
  format: z.literal(FEATURE_CACHE_FORMAT),
  version: z.literal(FEATURE_CACHE_VERSION),
  key: z.object({ count, shardSize: count.positive(), dtype: z.enum(['float16', 'float32']) }).passthrough(),
  viewCount: count.positive(),
  shapes: z
    .object({ tokens: z.tuple([count, count, count, count]), pooled: z.tuple([count, count, count]) })
    .nullable(),
  shards: count,
  classes: z.array(z.string()),
  labels: z.array(count),
  complete: z.boolean(),
});

/** The manifest in `dir`, or why there is none usable (missing, not JSON, wrong fields). */
async function readManifest(dir: string): Promise<{ manifest?: FeatureCacheManifest; problem?: string }> {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return { problem: `${path} does not exist` };
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    return { problem: `${path} is not valid JSON (${(e as Error).message})` };
  }
  const r = manifestSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    return {
      problem: `${path}: field '${issue.path.join('.') || '(root)'}': ${issue.message} (expected a ${FEATURE_CACHE_FORMAT} v${FEATURE_CACHE_VERSION} manifest)`,
    };
  }
  const m = json as FeatureCacheManifest;
  if (m.labels.length !== m.key.count || m.shards !== Math.ceil(m.key.count / m.key.shardSize)) {
    return {
      problem: `${path}: ${m.labels.length} labels and ${m.shards} shards do not fit ${m.key.count} images in shards of ${m.key.shardSize}`,
    };
  }
  if (m.shapes) {
    const expected = `[${m.key.count}, ${m.viewCount}, …]`;
    for (const part of ['tokens', 'pooled'] as const) {
      const [n, v] = m.shapes[part];
      if (n !== m.key.count || v !== m.viewCount) {
        return {
          problem: `${path}: field 'shapes.${part}' is [${m.shapes[part].join(', ')}], expected ${expected} (images, views)`,
        };
      }
    }
  }
  return { manifest: m };
}

/** Deletes shards (and temporary files of interrupted writes) left by another cache in `dir`; only `only`'s when given. */
async function removeShards(dir: string, only?: number[]): Promise<void> {
  if (only) {
    for (const s of only) await rm(join(dir, shardFileName(s)), { force: true });
    return;
  }
  for (const name of await readdir(dir)) {
    if (/^shard-\d+\.bin$/.test(name) || /^\.(shard-\d+\.bin|manifest\.json)\.tmp-/.test(name)) {
      await rm(join(dir, name), { force: true });
    }
  }
}

/** Shards of `manifest` whose file is absent or of the wrong size. */
async function missingShardsOf(dir: string, manifest: FeatureCacheManifest): Promise<number[]> {
  const missing: number[] = [];
  for (let s = 0; s < manifest.shards; s++) {
    if (!manifest.shapes || !(await shardIsComplete(dir, manifest, s))) missing.push(s);
  }
  return missing;
}

/** Names missing shards with their image ranges, the first few of them. */
function describeMissing(manifest: FeatureCacheManifest, missing: number[]): string {
  const shown = missing.slice(0, 8).map((s) => {
    const first = s * manifest.key.shardSize;
    return `${shardFileName(s)} (images ${first}..${first + shardLength(manifest, s) - 1})`;
  });
  const more = missing.length > shown.length ? `, and ${missing.length - shown.length} more` : '';
  return `${missing.length} of ${manifest.shards} shards missing: ${shown.join(', ')}${more}`;
}

/**
 * Assembles a cache built by part (--shard i/n) jobs: checks that every shard is there with its size and
 * marks the cache complete; the error names the missing shards and their images.
 */
export async function mergeFeatureCache(dir: string): Promise<FeatureCacheManifest> {
  const { manifest, problem } = await readManifest(dir);
  if (!manifest) throw new Error(`mergeFeatureCache: no usable manifest in ${dir}: ${problem}`);
  const missing = await missingShardsOf(dir, manifest);
  if (missing.length > 0) {
    throw new Error(
      `mergeFeatureCache: the cache in ${dir} is incomplete, ${describeMissing(manifest, missing)}; ` +
        'run the --shard jobs that build them (or build without --shard to compute them here)',
    );
  }
  if (manifest.complete) return manifest;
  const merged = { ...manifest, complete: true };
  await writeJsonAtomic(join(dir, MANIFEST), merged);
  return merged;
}

/** JSON with sorted object keys, so equal keys compare equal whatever order they were written in. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/**
 * Features of a complete cache, held in memory in their stored dtype; conversion to float32 per request.
 * Tokens are [N, tokenDim] per image and view, pooled features [pooledDim] (the sizes may differ).
 */
export class FeatureCache {
  readonly count: number;
  readonly viewCount: number;
  readonly tokenCount: number;
  readonly tokenDim: number;
  readonly pooledDim: number;
  readonly labels: Int32Array;

  constructor(
    readonly manifest: FeatureCacheManifest,
    private readonly shards: (Uint16Array | Float32Array)[],
  ) {
    const [count, viewCount, tokenCount, tokenDim] = manifest.shapes!.tokens;
    this.count = count;
    this.viewCount = viewCount;
    this.tokenCount = tokenCount;
    this.tokenDim = tokenDim;
    this.pooledDim = manifest.shapes!.pooled[2];
    this.labels = Int32Array.from(manifest.labels);
  }

  /** Tokens of `view` for the images at `indices`: [indices.length, N, tokenDim]. */
  tokens(indices: ArrayLike<number>, view = 0): Float32Array {
    const size = this.tokenCount * this.tokenDim;
    const out = new Float32Array(indices.length * size);
    for (let i = 0; i < indices.length; i++) {
      const [shard, offset] = this.locate(indices[i], view, 'tokens');
      this.copy(shard, offset, size, out, i * size);
    }
    return out;
  }

  /** Pooled features of `view` for the images at `indices`: [indices.length, pooledDim]. */
  pooled(indices: ArrayLike<number>, view = 0): Float32Array {
    const d = this.pooledDim;
    const out = new Float32Array(indices.length * d);
    for (let i = 0; i < indices.length; i++) {
      const [shard, offset] = this.locate(indices[i], view, 'pooled');
      this.copy(shard, offset, d, out, i * d);
    }
    return out;
  }

  /** Everything as float32: tokens [count, views, N, tokenDim], pooled [count, views, pooledDim]. */
  toArrays(): { tokens: Float32Array; pooled: Float32Array; labels: Int32Array } {
    const ts = this.tokenCount * this.tokenDim;
    const d = this.pooledDim;
    const tokens = new Float32Array(this.count * this.viewCount * ts);
    const pooled = new Float32Array(this.count * this.viewCount * d);
    for (let i = 0; i < this.count; i++) {
      for (let v = 0; v < this.viewCount; v++) {
        const row = i * this.viewCount + v;
        this.copy(...this.locate(i, v, 'tokens'), ts, tokens, row * ts);
        this.copy(...this.locate(i, v, 'pooled'), d, pooled, row * d);
      }
    }
    return { tokens, pooled, labels: this.labels };
  }

  private locate(
    index: number,
    view: number,
    part: 'tokens' | 'pooled',
  ): [Uint16Array | Float32Array, number] {
    if (!(Number.isInteger(index) && index >= 0 && index < this.count)) {
      throw new Error(`FeatureCache: image index ${index} is outside 0..${this.count - 1}`);
    }
    if (!(Number.isInteger(view) && view >= 0 && view < this.viewCount)) {
      throw new Error(`FeatureCache: view ${view} is outside 0..${this.viewCount - 1}`);
    }
    const shardSize = this.manifest.key.shardSize;
    const s = Math.floor(index / shardSize);
    const local = index - s * shardSize;
    const n = shardLength(this.manifest, s);
    const row = local * this.viewCount + view;
    // A shard holds pooled [n, views, Dp] then tokens [n, views, N, Dt].
    const offset =
      part === 'pooled'
        ? row * this.pooledDim
        : n * this.viewCount * this.pooledDim + row * this.tokenCount * this.tokenDim;
    return [this.shards[s], offset];
  }

  private copy(
    src: Uint16Array | Float32Array,
    offset: number,
    length: number,
    out: Float32Array,
    at: number,
  ): void {
    const part = src.subarray(offset, offset + length);
    if (src instanceof Float32Array) out.set(part, at);
    else float16ToFloat32(part, out.subarray(at, at + length));
  }
}

/** Opens a complete feature cache; the error says to resume when it is incomplete. */
export async function openFeatureCache(dir: string): Promise<FeatureCache> {
  const { manifest, problem } = await readManifest(dir);
  if (!manifest) throw new Error(`openFeatureCache: no usable manifest in ${dir}: ${problem}`);
  if (!manifest.complete || !manifest.shapes) {
    // Part (--shard) jobs leave the cache unmarked until the last one ends: all shards there is complete.
    const missing = await missingShardsOf(dir, manifest);
    if (missing.length > 0) {
      throw new Error(
        `openFeatureCache: the cache in ${dir} is incomplete, ${describeMissing(manifest, missing)}; ` +
          'run buildFeatureCache with the same options (or the missing --shard jobs) to complete it',
      );
    }
  }
  const shards: (Uint16Array | Float32Array)[] = [];
  for (let s = 0; s < manifest.shards; s++) {
    const path = join(dir, shardFileName(s));
    const expected = shardBytes(manifest, s);
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch {
      throw new Error(`openFeatureCache: missing shard ${path}; run buildFeatureCache again to recompute it`);
    }
    if (buf.length !== expected) {
      throw new Error(`openFeatureCache: ${path} has ${buf.length} bytes, expected ${expected}`);
    }
    // Copy to a fresh, aligned buffer: typed views need offsets that are multiples of the element size.
    const bytes = new Uint8Array(buf.length);
    bytes.set(buf);
    shards.push(
      manifest.key.dtype === 'float16' ? new Uint16Array(bytes.buffer) : new Float32Array(bytes.buffer),
    );
  }
  return new FeatureCache(manifest, shards);
}

/** A complete cache as float32 arrays: tokens [count, views, N, Dt], pooled [count, views, Dp], labels. */
export async function loadFeatureCache(dir: string): Promise<{
  manifest: FeatureCacheManifest;
  tokens: Float32Array;
  pooled: Float32Array;
  labels: Int32Array;
}> {
  const cache = await openFeatureCache(dir);
  return { manifest: cache.manifest, ...cache.toArrays() };
}
