import { parseConfig } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { DinoLoss } from './dino-loss';
import { sumScalars } from './sum-scalars';

export const multiLengthLossConfigSchema = z
  .object({
    /** Prefix lengths that each get a loss term. */
    lengths: z
      .array(z.number().int().positive())
      .min(1, 'expected at least one length')
      .default([1, 2, 4, 8]),
    /** One weight per length, in the order of `lengths`. Omitted: every length gets 1 / lengths.length. */
    weights: z.array(z.number().nonnegative()).optional(),
    /** With `weights`: divide them by their sum (true) or use them exactly as given (false). */
    normalizeWeights: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (new Set(c.lengths).size !== c.lengths.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['lengths'],
        message: `lengths must be distinct, got [${c.lengths.join(', ')}]`,
      });
    }
    if (c.weights) {
      if (c.weights.length !== c.lengths.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['weights'],
          message: `expected one weight per length (${c.lengths.length} for lengths [${c.lengths.join(', ')}]), got ${c.weights.length}`,
        });
      } else if (!c.weights.some((w) => w > 0)) {
        ctx.addIssue({ code: 'custom', path: ['weights'], message: 'at least one weight must be > 0' });
      }
    }
  });

export type MultiLengthLossConfig = z.input<typeof multiLengthLossConfigSchema>;

/** Total and per-length loss tensors (scalars). `perLength` is keyed by prefix length. */
export interface MultiLengthResult {
  total: tf.Scalar;
  perLength: Record<number, tf.Scalar>;
}

/** Student outputs per prefix length: a Map or a plain object keyed by length. */
export type PerLength<T> = Map<number, T> | Record<number, T>;

/**
 * Subsequence training: one loss term per prefix length l, total = Σ_l w_l · loss_l.
 * Weights: omitted → equal, 1 / (number of lengths), so the total is the mean of the terms;
 * given → used as given, or divided by their sum when `normalizeWeights` is true.
 */
export class MultiLengthLoss {
  readonly lengths: readonly number[];
  /** Resolved weight of each length, in the order of `lengths`. */
  readonly weights: readonly number[];

  constructor(config: MultiLengthLossConfig = {}) {
    const c = parseConfig(multiLengthLossConfigSchema, config, 'MultiLengthLoss config');
    this.lengths = [...c.lengths];
    if (!c.weights) this.weights = c.lengths.map(() => 1 / c.lengths.length);
    else {
      const sum = c.weights.reduce((a, b) => a + b, 0);
      this.weights = c.normalizeWeights ? c.weights.map((w) => w / sum) : [...c.weights];
    }
  }

  /** Resolved weight of `length`. */
  weightOf(length: number): number {
    const i = this.lengths.indexOf(length);
    if (i < 0)
      throw new Error(
        `MultiLengthLoss: length ${length} is not one of the configured lengths [${this.lengths.join(', ')}]`,
      );
    return this.weights[i];
  }

  /**
   * Applies `criterion` to the student output of every configured length and weights the terms.
   * The keys of `student` must be exactly the configured lengths.
   */
  aggregate<T>(
    student: PerLength<T>,
    criterion: (studentOutput: T, length: number) => tf.Scalar,
  ): MultiLengthResult {
    const byLength = toMap(student);
    const given = [...byLength.keys()].sort((a, b) => a - b);
    const expected = [...this.lengths].sort((a, b) => a - b);
    if (given.length !== expected.length || given.some((l, i) => l !== expected[i])) {
      throw new Error(
        `MultiLengthLoss: student outputs given for lengths [${given.join(', ')}], expected lengths [${expected.join(', ')}] (config.lengths)`,
      );
    }
    const perLength: Record<number, tf.Scalar> = {};
    const terms: tf.Scalar[] = [];
    for (let i = 0; i < this.lengths.length; i++) {
      const l = this.lengths[i];
      const term = criterion(byLength.get(l) as T, l);
      if (term.rank !== 0)
        throw new Error(
          `MultiLengthLoss: criterion for length ${l} returned shape [${term.shape.join(', ')}], expected a scalar`,
        );
      perLength[l] = term;
      terms.push(tf.mul(term, this.weights[i]));
    }
    const total = sumScalars(terms);
    for (const t of terms) t.dispose();
    return { total, perLength };
  }

  /**
   * DINO loss of every prefix length against one teacher target: the targets are computed once
   * from `teacherLogits` at `step`, each length's student logits [B, K] get the cross-entropy,
   * and the DINO centre is updated once, after the loss.
   */
  dino(
    loss: DinoLoss,
    student: PerLength<tf.Tensor>,
    teacherLogits: tf.Tensor,
    step: number,
  ): MultiLengthResult {
    const targets = loss.teacherTargets(teacherLogits, step);
    let result: MultiLengthResult;
    try {
      result = this.aggregate(student, (s) => loss.crossEntropy(targets, s));
    } finally {
      targets.dispose();
    }
    loss.updateCenter(teacherLogits);
    return result;
  }
}

function toMap<T>(x: PerLength<T>): Map<number, T> {
  if (x instanceof Map) return x;
  const m = new Map<number, T>();
  for (const [k, v] of Object.entries(x)) {
    const l = Number(k);
    if (!Number.isInteger(l))
      throw new Error(`MultiLengthLoss: key '${k}' of the student outputs is not an integer length`);
    m.set(l, v);
  }
  return m;
}
