import { dinoHeadConfigSchema } from '@symseq/nn';
import { z } from 'zod';

const positiveInt = z.number().int().positive();

/** Keys of a discretizer's own config that the student sets itself. */
const RESERVED_OPTIONS = ['numCodes', 'codebookSize', 'dim', 'levels', 'rng', 'seed'];

/**
 * How decoder outputs become symbols, with the classes of @symseq/discretize:
 * - `temperature` (TemperatureSoftmax) and `gumbel` (GumbelSoftmax) read logits over `vocabSize`
 *   symbols and emit (straight-through) one-hots;
 * - `vq` (VectorQuantizer, `vocabSize` codes) and `fsq` (FSQ, `levels`, vocabulary = product of
 *   levels) read a `codeDim`-vector and emit a code vector of that size.
 * `options` go to the class's config unchanged (temperature, hard, commitmentWeight, learning…),
 * except the sizes and the noise source, which the student sets.
 */
export const discretizerConfigSchema = z
  .object({
    kind: z.enum(['temperature', 'gumbel', 'vq', 'fsq']).default('temperature'),
    /** Size of the vector the decoder head emits for `vq` (default 32) and `fsq` (default levels.length). */
    codeDim: positiveInt.optional(),
    /** Levels per dimension for `fsq`, e.g. [8, 4, 4] → 128 symbols. */
    levels: z.array(z.number().int().min(2)).min(1).optional(),
    /** Further options of the discretizer class. */
    options: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const k of Object.keys(c.options)) {
      if (RESERVED_OPTIONS.includes(k)) {
        ctx.addIssue({ code: 'custom', path: ['options', k], message: 'is set by the student; remove it' });
      }
    }
    if (c.kind === 'fsq' && !c.levels) {
      ctx.addIssue({ code: 'custom', path: ['levels'], message: "is required for kind 'fsq'" });
    }
    if (c.kind !== 'fsq' && c.levels) {
      ctx.addIssue({ code: 'custom', path: ['levels'], message: "is only used by kind 'fsq'" });
    }
    if ((c.kind === 'temperature' || c.kind === 'gumbel') && c.codeDim !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['codeDim'], message: "is only used by kinds 'vq' and 'fsq'" });
    }
  });

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
