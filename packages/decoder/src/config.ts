import { closest, dinoHeadConfigSchema } from '@symseq/nn';
import { z } from 'zod';
import { STUDENT_DISCRETIZERS, STUDENT_SET_OPTIONS, type StudentDiscretizerKind } from './studentDiscretizer';

const positiveInt = z.number().int().positive();

/**
 * How decoder outputs become symbols, with the classes of @symseq/discretize (see STUDENT_DISCRETIZERS):
 * - `temperature` (TemperatureSoftmax) and `gumbel` (GumbelSoftmax) read logits over `vocabSize`
 *   symbols and emit (straight-through) one-hots;
 * - `vq` (VectorQuantizer, `vocabSize` codes) and `fsq` (FSQ, `levels`, vocabulary = product of
 *   levels) read a `codeDim`-vector and emit a code vector of that size.
 * `options` go to the class's config (temperature, hard, commitmentWeight, learning…) and are
 * checked against that class's own schema here, except the sizes and the noise source, which the
 * student sets.
 */
export const discretizerConfigSchema = z
  .object({
    kind: z
      .enum(Object.keys(STUDENT_DISCRETIZERS) as [StudentDiscretizerKind, ...StudentDiscretizerKind[]])
      .default('temperature'),
    /** Size of the vector the decoder head emits for `vq` (default 32) and `fsq` (default levels.length). */
    codeDim: positiveInt.optional(),
    /** Levels per dimension for `fsq`, e.g. [8, 4, 4] → 128 symbols. */
    levels: z.array(z.number().int().min(2)).min(1).optional(),
    /** Further options of the discretizer class. */
    options: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const spec = STUDENT_DISCRETIZERS[c.kind];
    if (c.kind === 'fsq' && !c.levels) {
      ctx.addIssue({ code: 'custom', path: ['levels'], message: "is required for kind 'fsq'" });
    }
    if (c.kind !== 'fsq' && c.levels) {
      ctx.addIssue({ code: 'custom', path: ['levels'], message: "is only used by kind 'fsq'" });
    }
    if (spec.emits === 'one-hot' && c.codeDim !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['codeDim'], message: "is only used by kinds 'vq' and 'fsq'" });
    }
    checkOptions(c.kind, c.options, ctx);
  });

/** `options` against the class's own schema: sizes set by the student, unknown keys (did you mean), bad values. */
function checkOptions(kind: StudentDiscretizerKind, options: Record<string, unknown>, ctx: z.RefinementCtx) {
  const own = objectOf(STUDENT_DISCRETIZERS[kind].schema);
  const studentSet: readonly string[] = STUDENT_SET_OPTIONS;
  const allowed = Object.keys(own.shape).filter((k) => !studentSet.includes(k));
  const given: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (studentSet.includes(key)) {
      ctx.addIssue({ code: 'custom', path: ['options', key], message: 'is set by the student; remove it' });
    } else if (!allowed.includes(key)) {
      const s = closest(key, allowed);
      ctx.addIssue({
        code: 'custom',
        path: ['options', key],
        message: `unknown key for the '${kind}' discretizer${s ? ` (did you mean '${s}'?)` : ''}`,
      });
    } else {
      given[key] = value;
    }
  }
  const r = own.pick(Object.fromEntries(allowed.map((k) => [k, true]))).safeParse(given);
  if (!r.success) {
    for (const issue of r.error.issues)
      ctx.addIssue({ ...issue, path: ['options', ...issue.path] } as z.IssueData);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: walks zod wrappers (effects, defaults) to the object inside
function objectOf(s: any): z.AnyZodObject {
  while (s?._def?.innerType || s?._def?.schema) s = s._def.innerType ?? s._def.schema;
  return s;
}

export const studentConfigSchema = z
  .object({
    /** Feature size Dt of the teacher tokens [B, N, Dt]. */
    teacherDim: positiveInt,
    /** Width of the decoder and the symbol encoder. */
    dModel: positiveInt.default(192),
    heads: positiveInt.default(3),
    /** Number of symbols V (for `fsq`, the product of its levels). */
    vocabSize: positiveInt.default(128),
    /** Longest symbol sequence L the decoder writes. */
    maxLength: positiveInt.default(8),
    decoder: z
      .object({
        layers: positiveInt.default(2),
        mlpRatio: z.number().positive().default(4),
        /**
         * Standardise each teacher-token channel, (x − mean) / std, before the token projection; the
         * statistics are frozen parameters (`decoder.token_mean`, `decoder.token_std`) that the trainer
         * sets from the training set (`SymbolDecoder.setTokenStatistics`).
         */
        standardizeTokens: z.boolean().default(false),
      })
      .strict()
      .default({}),
    encoder: z
      .object({
        layers: positiveInt.default(1),
        mlpRatio: z.number().positive().default(4),
      })
      .strict()
      .default({}),
    /**
     * The DINO head (@symseq/nn `DinoHead`; `inDim` is `dModel`). DINO's hidden width is 2048; 1024
     * keeps the largest matMuls of a CPU training step a third as costly. `outDim` must equal the teacher's.
     */
    projector: dinoHeadConfigSchema
      .omit({ inDim: true })
      .extend({ hiddenDim: positiveInt.default(1024), outDim: positiveInt.default(4096) })
      .default({}),
    discretizer: discretizerConfigSchema.default({}),
    /** Prefix lengths that each get a projector output (and a loss term) in `forward`. */
    lengths: z.array(positiveInt).min(1).default([1, 2, 4, 8]),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.dModel % c.heads !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['heads'],
        message: `dModel ${c.dModel} is not divisible by ${c.heads}`,
      });
    }
    for (const l of c.lengths) {
      if (l > c.maxLength) {
        ctx.addIssue({
          code: 'custom',
          path: ['lengths'],
          message: `length ${l} exceeds maxLength ${c.maxLength}`,
        });
      }
    }
    const levels = c.discretizer.levels;
    if (c.discretizer.kind === 'fsq' && levels) {
      const product = levels.reduce((a, b) => a * b, 1);
      if (product !== c.vocabSize) {
        ctx.addIssue({
          code: 'custom',
          path: ['vocabSize'],
          message: `is ${c.vocabSize}, but fsq levels [${levels.join(', ')}] give ${product} symbols`,
        });
      }
    }
  });

export type StudentConfigInput = z.input<typeof studentConfigSchema>;
export type StudentConfig = z.output<typeof studentConfigSchema>;
export type DiscretizerConfig = z.output<typeof discretizerConfigSchema>;
