import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { studentConfigSchema } from '@symseq/decoder';
import { OBJECTIVES, symbolRegularizerConfigSchema } from '@symseq/loss';
import { parseConfig } from '@symseq/nn';
import { z } from 'zod';
import { regularizerActive } from './train-step';

const positiveInt = z.number().int().positive();

/**
 * The student section: @symseq/decoder's own Student schema without what the run fixes itself
 * (teacherDim from the teacher, lengths from the objective, projector.outDim from the objective).
 */
const studentObject = studentConfigSchema.innerType();
const studentSectionSchema = studentObject
  .omit({ teacherDim: true, lengths: true })
  .extend({ projector: studentObject.shape.projector.removeDefault().omit({ outDim: true }).default({}) })
  .strict();

/** The objective section: common keys, plus one options section per registered objective (`dino`, `features`…). */
const objectiveOptions = Object.fromEntries(
  Object.entries(OBJECTIVES).map(([kind, spec]) => [kind, (spec.options as z.ZodTypeAny).default({})]),
) as { [K in keyof typeof OBJECTIVES]: z.ZodDefault<(typeof OBJECTIVES)[K]['options']> };

/**
 * Everything a training run needs. It is composed from the packages' own schemas (Student,
 * discretizers, DINO loss, regulariser), so every key at every depth is checked, with a "did you
 * mean", before any dataset is opened.
 */
export const trainConfigSchema = z
  .object({
    name: z.string().default('run'),
    seed: z.number().int().default(0),
    backend: z.enum(['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']).default('auto'),
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
        /** MobileNet layer whose global average is the pooled feature (default: the tokens layer). */
        pooledLayer: z.string().optional(),
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
        /** Images per cache shard: the unit of resume, of worker threads and of --shard jobs. */
        shardSize: positiveInt.default(1024),
      })
      .strict()
      .default({}),
    /** @symseq/decoder Student config, without teacherDim (from the teacher), lengths and projector.outDim (from the objective). */
    student: studentSectionSchema.default({}),
    objective: z
      .object({
        /** `features`: cosine regression of the teacher's pooled features; `dino`: DINO cross-entropy to the teacher head. */
        kind: z
          .enum(Object.keys(OBJECTIVES) as [keyof typeof OBJECTIVES, ...(keyof typeof OBJECTIVES)[]])
          .default('features'),
        lengths: z.array(positiveInt).nonempty().default([1, 2, 4, 8]),
        weights: z.array(z.number().nonnegative()).optional(),
        /** `same`: student and target from the same view; `cross`: DINO's view swap (needs cache.views ≥ 1). */
        pairing: z.enum(['same', 'cross']).default('same'),
        /** Number of prototypes when the teacher has no DINO head (k-means on pooled features). */
        prototypes: positiveInt.default(1024),
        /** Weights of @symseq/loss SymbolRegularizer terms; {} (the default) adds none. */
        regularizer: symbolRegularizerConfigSchema.partial().strict().default({}),
        /** Weight of the discretizer's auxiliary loss (VQ commitment). */
        auxWeight: z.number().nonnegative().default(1),
        ...objectiveOptions,
      })
      .strict()
      .default({}),
    optim: z
      .object({
        epochs: positiveInt.default(10),
        /** Stop after this many optimizer steps (the lr schedule spans them) when fewer than the epochs give. */
        maxSteps: positiveInt.optional(),
        /**
         * Train at least this many optimizer steps: on a training set too small for `epochs` to give
         * them, more epochs are run and the warm-up is stretched by the same factor (maxSteps still caps).
         * A preset's floor goes with the preset's epochs: a config file or flag that sets optim.epochs drops it.
         */
        minSteps: positiveInt.optional(),
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
        /** No-learning rows (residual k-means, PQ; the student's vocabulary per codebook) and mAP@1000 for all, in the report. */
        baselines: z.boolean().default(true),
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
    const kind = c.student.discretizer.kind;
    if (regularizerActive(c.objective.regularizer) && (kind === 'vq' || kind === 'fsq')) {
      ctx.addIssue({
        code: 'custom',
        path: ['objective', 'regularizer'],
        message: `symbol regularisers read logits, but the '${kind}' discretizer's decoder writes vectors; use temperature or gumbel, or switch the regulariser off (objective.regularizer.usageWeight=0)`,
      });
    }
    if (c.objective.kind === 'contrast' && c.objective.contrast.exactFirstSymbol) {
      if (kind === 'vq' || kind === 'fsq') {
        ctx.addIssue({
          code: 'custom',
          path: ['objective', 'contrast', 'exactFirstSymbol'],
          message: `the expectation over symbol 1 reads its logits, but the '${kind}' discretizer's decoder writes vectors; use temperature or gumbel, or set exactFirstSymbol to false`,
        });
      }
      if (!c.objective.lengths.includes(1)) {
        ctx.addIssue({
          code: 'custom',
          path: ['objective', 'contrast', 'exactFirstSymbol'],
          message: `exactFirstSymbol scores prefix length 1, but objective.lengths is [${c.objective.lengths.join(', ')}]`,
        });
      }
    }
    if (c.objective.weights && c.objective.weights.length !== c.objective.lengths.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['objective', 'weights'],
        message: 'needs one weight per length',
      });
    }
    for (const section of ['objective', 'eval'] as const) {
      for (const l of c[section].lengths) {
        if (l > c.student.maxLength) {
          ctx.addIssue({
            code: 'custom',
            path: [section, 'lengths'],
            message: `length ${l} exceeds student.maxLength ${c.student.maxLength}`,
          });
        }
      }
    }
    if (c.data.trainLimit !== undefined && c.optim.batchSize > c.data.trainLimit) {
      ctx.addIssue({
        code: 'custom',
        path: ['optim', 'batchSize'],
        message: `${c.optim.batchSize} is larger than data.trainLimit ${c.data.trainLimit}`,
      });
    }
    if (c.data.trainLimit !== undefined && c.eval.k > c.data.trainLimit) {
      ctx.addIssue({
        code: 'custom',
        path: ['eval', 'k'],
        message: `${c.eval.k} exceeds data.trainLimit ${c.data.trainLimit} (the k-NN bank)`,
      });
    }
    // The Student schema's own cross-field rules (heads divide dModel, fsq levels give vocabSize…).
    const full = studentConfigSchema.safeParse({
      ...c.student,
      teacherDim: 1,
      lengths: c.objective.lengths,
      projector: { ...c.student.projector, outDim: 1 },
    });
    if (!full.success) {
      for (const issue of full.error.issues) {
        if (issue.path[0] === 'lengths' || issue.path[0] === 'teacherDim') continue; // reported above
        ctx.addIssue({ ...issue, path: ['student', ...issue.path] } as z.IssueData);
      }
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

const here = dirname(fileURLToPath(import.meta.url));
/** Presets ship beside the CLI: apps/trainer/configs (from src/ or dist/). */
export const PRESET_DIR = resolve(here, '..', 'configs');

export function presetPath(name: string): string {
  const p = join(PRESET_DIR, `${name}.json`);
  if (!existsSync(p)) {
    const known = readdirSync(PRESET_DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''));
    throw new Error(`unknown preset '${name}'; presets: ${known.join(', ')}`);
  }
  return p;
}

export interface TrainFlags {
  config?: string;
  preset?: string;
  dataDir?: string;
  teacher?: string;
  out?: string;
  epochs?: number;
  seed?: number;
  backend?: string;
  trainLimit?: number;
  testLimit?: number;
  batchSize?: number;
  lr?: number;
  maxSteps?: number;
  set?: string[];
  resume?: boolean;
  overwrite?: boolean;
  quiet?: boolean;
  strict?: boolean;
}

/** Preset (cpu unless named) → config file → flags, then validated (every key, at every depth). */
export function buildTrainConfig(flags: TrainFlags): TrainConfig {
  let preset = readConfigFile(presetPath(flags.preset ?? 'cpu'));
  const file = flags.config ? readConfigFile(flags.config) : {};
  const o: Record<string, unknown> = {};
  if (flags.dataDir) setDotted(o, `data.dir=${JSON.stringify(flags.dataDir)}`);
  if (flags.teacher) setDotted(o, `teacher.path=${JSON.stringify(flags.teacher)}`);
  if (flags.out) o.out = flags.out;
  if (flags.epochs !== undefined) setDotted(o, `optim.epochs=${flags.epochs}`);
  if (flags.seed !== undefined) o.seed = flags.seed;
  if (flags.backend) o.backend = flags.backend;
  if (flags.trainLimit) setDotted(o, `data.trainLimit=${flags.trainLimit}`);
  if (flags.testLimit) setDotted(o, `data.testLimit=${flags.testLimit}`);
  if (flags.batchSize !== undefined) setDotted(o, `optim.batchSize=${flags.batchSize}`);
  if (flags.lr !== undefined) setDotted(o, `optim.lr=${flags.lr}`);
  if (flags.maxSteps !== undefined) setDotted(o, `optim.maxSteps=${flags.maxSteps}`);
  if (flags.strict) setDotted(o, 'data.strict=true');
  for (const s of flags.set ?? []) setDotted(o, s);
  // Preset values chosen for another preset value go with it: a config file or flag that sets
  // optim.epochs means exactly that many (no step floor), unless it sets optim.minSteps too; one that
  // sets objective.lengths without objective.weights gets equal weights.
  preset = dropCompanion(preset, [file, o], 'optim', 'epochs', 'minSteps');
  preset = dropCompanion(preset, [file, o], 'objective', 'lengths', 'weights');
  return resolveTrainConfig(
    merge(merge(preset, file), o),
    flags.config ? `config (${flags.config} + flags)` : 'config',
  );
}

/**
 * The preset without `section.companion` when one of `overrides` sets `section.key` but none sets
 * `section.companion` (the companion was chosen for the preset's own `key`).
 */
function dropCompanion(
  preset: Record<string, unknown>,
  overrides: Record<string, unknown>[],
  section: string,
  key: string,
  companion: string,
): Record<string, unknown> {
  const of = (x: Record<string, unknown>) => (x[section] ?? {}) as Record<string, unknown>;
  const given = (k: string) => overrides.some((x) => of(x)[k] !== undefined);
  if (!given(key) || given(companion) || !(companion in of(preset))) return preset;
  const { [companion]: _dropped, ...rest } = of(preset);
  return { ...preset, [section]: rest };
}

const isUrl = (p: string) => /^https?:\/\//.test(p);

/**
 * The config with its data, teacher and cache paths absolute (taken from the environment variables
 * when the config names none), so a run folder's config.json works from any directory.
 */
export function withAbsolutePaths(config: TrainConfig, env: NodeJS.ProcessEnv = process.env): TrainConfig {
  const dataDir =
    config.data.dir ?? (config.data.dataset === 'cifar10' ? env.CIFAR10_DIR : env.SYMSEQ_DATA_DIR);
  const teacherPath =
    config.teacher.path ?? (config.teacher.kind === 'mobilenet' ? env.MOBILENET_DIR : env.VIT_WEIGHTS);
  return {
    ...config,
    data: { ...config.data, dir: dataDir ? resolve(dataDir) : undefined },
    teacher: {
      ...config.teacher,
      path: teacherPath && !isUrl(teacherPath) ? resolve(teacherPath) : teacherPath,
    },
    cache: { ...config.cache, dir: resolve(config.cache.dir) },
  };
}
