import {
  type Discretizer,
  type DiscretizerEmits,
  FSQ,
  FSQConfigSchema,
  GumbelSoftmax,
  GumbelSoftmaxConfigSchema,
  TemperatureSoftmax,
  TemperatureSoftmaxConfigSchema,
  VectorQuantizer,
  VectorQuantizerConfigSchema,
} from '@symseq/discretize';
import type { ParamScope, Rng } from '@symseq/nn';
import type { z } from 'zod';
import type { DiscretizerConfig } from './config';

/** What the student fixes itself when it builds a discretizer. */
export interface StudentDiscretizerSizes {
  vocabSize: number;
  /** The vector the decoder head emits, for `vector` discretizers. */
  codeDim?: number;
  levels?: number[];
  /** Parameters (VQ codebook and EMA statistics, projections) go here, so they are saved with the student. */
  scope: ParamScope;
  /** Noise source (Gumbel). */
  rng: Rng;
}

/** One entry of {@link STUDENT_DISCRETIZERS}. */
export interface StudentDiscretizerSpec {
  /** The class's own config schema: `discretizer.options` are checked against it, less {@link STUDENT_SET_OPTIONS}. */
  schema: z.ZodTypeAny;
  emits: DiscretizerEmits;
  create(options: Record<string, unknown>, sizes: StudentDiscretizerSizes): Discretizer;
}

/** Keys of a discretizer's own config that the student sets itself (sizes and the noise source). */
export const STUDENT_SET_OPTIONS = ['numCodes', 'codebookSize', 'dim', 'levels', 'rng', 'seed'] as const;

/**
 * The discretizers a student can use, by `discretizer.kind`. Adding one: a class implementing
 * @symseq/discretize's `Discretizer`, and one entry here (its schema, what it emits, how to build it).
 */
export const STUDENT_DISCRETIZERS = {
  temperature: {
    schema: TemperatureSoftmaxConfigSchema,
    emits: 'one-hot',
    create: (o, s) => new TemperatureSoftmax({ numCodes: s.vocabSize, ...o }),
  },
  gumbel: {
    schema: GumbelSoftmaxConfigSchema,
    emits: 'one-hot',
    create: (o, s) => new GumbelSoftmax({ numCodes: s.vocabSize, rng: s.rng, ...o }),
  },
  vq: {
    schema: VectorQuantizerConfigSchema,
    emits: 'vector',
    create: (o, s) => new VectorQuantizer(s.scope, { dim: s.codeDim ?? 32, codebookSize: s.vocabSize, ...o }),
  },
  fsq: {
    schema: FSQConfigSchema,
    emits: 'vector',
    create: (o, s) => new FSQ({ levels: s.levels ?? [], dim: s.codeDim, ...o }, s.scope),
  },
} satisfies Record<string, StudentDiscretizerSpec>;

export type StudentDiscretizerKind = keyof typeof STUDENT_DISCRETIZERS;

/**
 * The @symseq/discretize class named by `config.kind`, with the sizes the student sets: `vocabSize`
 * symbols, a `codeDim`-vector for VQ/FSQ. Parameters are registered under `scope`; Gumbel noise
 * draws from `rng`.
 */
export function createStudentDiscretizer(
  config: DiscretizerConfig,
  vocabSize: number,
  scope: ParamScope,
  rng: Rng,
): Discretizer {
  // The decoder's logits never come from user data, and a finiteness check reads a value back
  // from the device at every decoder step, so it is off unless the options ask for it.
  const options = { checkFinite: false, ...config.options };
  const spec: StudentDiscretizerSpec = STUDENT_DISCRETIZERS[config.kind];
  const discretizer = spec.create(options, {
    vocabSize,
    codeDim: config.codeDim,
    levels: config.levels,
    scope,
    rng,
  });
  if (discretizer.numCodes !== vocabSize || discretizer.emits !== spec.emits) {
    discretizer.dispose();
    throw new Error(
      `Student: the '${config.kind}' discretizer has ${discretizer.numCodes} symbols and emits ${discretizer.emits}, expected vocabSize ${vocabSize} and ${spec.emits}`,
    );
  }
  return discretizer;
}
