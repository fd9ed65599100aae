import { readFileSync } from 'node:fs';
import { parseConfig } from '@symseq/nn';
import { z } from 'zod';

const positiveInt = z.number().int().positive();

/**
 * Everything a training run needs. Unknown keys are rejected (with a suggestion); the student,
 * objective and discretizer sections are validated again by their own packages' schemas.
 */
export const trainConfigSchema = z
  .object({
    name: z.string().default('run'),
    seed: z.number().int().default(0),
    backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto'),
    data: z
      .object({
        /** `cifar10`: official binary batches or the ImageFolder copy; `imagefolder`: root/<split>/<class>/*. */
        dataset: z.enum(['cifar10', 'imagefolder']).default('cifar10'),
        /** Dataset folder; default: the CIFAR10_DIR environment variable. */
        dir: z.string().optional(),
        trainSplit: z.string().default('train'),
        testSplit: z.string().default('test'),
        /** Use only the first N images of each split (a balanced subset is taken by stride). */
        trainLimit: positiveInt.optional(),
        testLimit: positiveInt.optional(),
        /** Stop at the first unreadable image instead of skipping it. */
        strict: z.boolean().default(false),
      })
      .strict()
      .default({}),
    teacher: z
      .object({
        kind: z.enum(['mobilenet', 'vit']).default('mobilenet'),
        /** MobileNet: folder with model.json (default MOBILENET_DIR). ViT: .safetensors file or URL (default VIT_WEIGHTS). */
        path: z.string().optional(),
        /** ViT architecture (ignored for MobileNet). */
        arch: z.enum(['vit-s16', 'vit-s8', 'vit-b16', 'vit-b8']).default('vit-b16'),
        /** Images are resized (bilinear) to this size before the teacher. */
        inputSize: positiveInt.default(64),
        /** MobileNet layer whose feature-map cells become the tokens. */
        tokensLayer: z.string().default('conv_pw_13_relu'),
        batchSize: positiveInt.default(64),
      })
      .strict()
      .default({}),
    cache: z
      .object({
        dir: z.string().default('.cache/symseq'),
        /** Augmented (DINO) views per training image cached besides the clean one. */
        views: z.number().int().min(0).default(0),
        dtype: z.enum(['float16', 'float32']).default('float16'),
      })
      .strict()
      .default({}),
    /** @symseq/decoder Student config, without teacherDim (taken from the teacher). */
    student: z.record(z.string(), z.unknown()).default({}),
    objective: z
      .object({
        /** `features`: cosine regression of the teacher's pooled features; `dino`: DINO cross-entropy to the teacher head. */
        kind: z.enum(['features', 'dino']).default('features'),
        lengths: z.array(positiveInt).nonempty().default([1, 2, 4, 8]),
        weights: z.array(z.number().nonnegative()).optional(),
        /** `same`: student and target from the same view; `cross`: DINO's view swap (needs cache.views ≥ 1). */
        pairing: z.enum(['same', 'cross']).default('same'),
        /** Options for @symseq/loss DinoLoss (student/teacher temperatures, centre momentum, warm-up). */
        dino: z.record(z.string(), z.unknown()).default({}),
        /** Number of prototypes when the teacher has no DINO head (k-means on pooled features). */
        prototypes: positiveInt.default(1024),
        /** Weights of @symseq/loss SymbolRegularizer terms. */
        regularizer: z.record(z.string(), z.unknown()).default({}),
        /** Weight of the discretizer's auxiliary loss (VQ commitment). */
        auxWeight: z.number().nonnegative().default(1),
      })
      .strict()
      .default({}),
    optim: z
      .object({
        epochs: positiveInt.default(10),
        batchSize: positiveInt.default(128),
        lr: z.number().positive().default(1e-3),
        minLr: z.number().nonnegative().default(1e-5),
        warmupEpochs: z.number().nonnegative().default(1),
        weightDecay: z.number().nonnegative().default(0.04),
        /** Clip the global gradient norm to this (0: off). */
        clipGrad: z.number().nonnegative().default(3),
      })
      .strict()
      .default({}),
    eval: z
      .object({
        k: positiveInt.default(20),
        temperature: z.number().positive().default(0.07),
        lengths: z.array(positiveInt).nonempty().default([1, 2, 4, 8]),
        batchSize: positiveInt.default(500),
      })
      .strict()
      .default({}),
    /** Append a line to metrics.jsonl every N optimizer steps. */
    logEvery: positiveInt.default(10),
    /** Write a checkpoint every N optimizer steps (and at the end of every epoch). */
    checkpointEvery: positiveInt.default(500),
    out: z.string().default('runs/run'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.objective.pairing === 'cross' && c.cache.views < 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['objective', 'pairing'],
        message: "'cross' needs augmented views: set cache.views to 1 or more",
      });
    }
    const kind = (c.student as { discretizer?: { kind?: string } }).discretizer?.kind ?? 'temperature';
    if (Object.keys(c.objective.regularizer).length && (kind === 'vq' || kind === 'fsq')) {
      ctx.addIssue({
        code: 'custom',
        path: ['objective', 'regularizer'],
        message: `symbol regularisers read logits, but the '${kind}' discretizer's decoder writes vectors; use temperature or gumbel, or drop the regulariser`,
      });
    }
    if (c.objective.weights && c.objective.weights.length !== c.objective.lengths.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['objective', 'weights'],
        message: 'needs one weight per length',
      });
    }
  });

export type TrainConfig = z.output<typeof trainConfigSchema>;
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

/** Deep-merges plain objects (arrays and scalars are replaced). */
export function merge<T>(base: T, over: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(out[k], v);
  return out as T;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Reads a JSON config file; errors name the file. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(
      `config file ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  try {
    const v = JSON.parse(text);
    if (!isPlainObject(v)) throw new Error('the top level must be a JSON object');
    return v;
  } catch (e) {
    throw new Error(`config file ${path}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Sets a dotted key from a `--set a.b=value` flag; the value is parsed as JSON when it can be
 * (numbers, booleans, arrays), else taken as a string.
 */
export function setDotted(obj: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new Error(`--set expects key=value (e.g. optim.epochs=3), got '${assignment}'`);
  const keys = assignment.slice(0, eq).split('.');
  const raw = assignment.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // not JSON: keep the string
  }
  let o: Record<string, unknown> = obj;
  for (const k of keys.slice(0, -1)) {
    if (!isPlainObject(o[k])) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1]] = value;
}

export function resolveTrainConfig(raw: unknown, source = 'config'): TrainConfig {
  return parseConfig(trainConfigSchema, raw, source);
}
