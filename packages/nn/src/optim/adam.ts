import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { parseConfig } from '../config';
import type { HostTensor } from '../params';
import { isHostTensor, type StateDict } from './state';

export const adamConfigSchema = z
  .object({
    lr: z.number().positive().default(1e-3),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    epsilon: z.number().positive().default(1e-8),
    /** Decoupled weight decay (AdamW): v ← v · (1 − lr · weightDecay) after the Adam update, on `decayed` only. */
    weightDecay: z.number().nonnegative().default(0),
  })
  .strict();

export type AdamConfig = z.input<typeof adamConfigSchema>;

/**
 * Adam (and AdamW with `weightDecay`) over named variables. The update is tfjs's `tf.train.adam`
 * op for op (same ops, same order, the bias corrections from running products accBeta1 = β1^t,
 * accBeta2 = β2^t kept as float32 scalars), so a run gives the same bits as one with tfjs's
 * optimizer. Unlike tfjs's, its `state()` holds those running products exactly: tfjs's `setWeights`
 * recomputes them as pow(β, t + 1), which differs in the last bits and made resumed runs drift.
 * Slots are keyed by the parameter's name (not tfjs's engine-global variable name), so a checkpoint
 * loads into a freshly built model.
 */
export class Adam {
  readonly config: z.output<typeof adamConfigSchema>;
  /** The learning rate of the next `apply` (schedules set it every step). */
  learningRate: number;
  /** Number of updates applied. */
  iterations = 0;
  private readonly params: [string, tf.Variable][];
  private readonly decayed: Set<tf.Variable>;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private accBeta1: tf.Variable;
  private accBeta2: tf.Variable;

  /**
   * `params`: [name, variable] pairs to update. `decayed` (default: none) selects the ones that get
   * decoupled weight decay; DINO decays matrices only, not biases and norms.
   */
  constructor(
    params: [string, tf.Variable][],
    config: AdamConfig = {},
    opts: { decayed?: (name: string, v: tf.Variable) => boolean } = {},
  ) {
    this.config = parseConfig(adamConfigSchema, config, 'Adam config');
    this.learningRate = this.config.lr;
    const names = new Set<string>();
    for (const [n] of params) {
      if (names.has(n)) throw new Error(`Adam: parameter name '${n}' is given twice`);
      names.add(n);
    }
    this.params = [...params];
    this.decayed = new Set(params.filter(([n, v]) => opts.decayed?.(n, v) ?? false).map(([, v]) => v));
    this.m = params.map(([, p]) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    this.v = params.map(([, p]) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    this.accBeta1 = tf.tidy(() => tf.variable(tf.scalar(this.config.beta1), false));
    this.accBeta2 = tf.tidy(() => tf.variable(tf.scalar(this.config.beta2), false));
  }

  /** Parameter names, in update order. */
  names(): string[] {
    return this.params.map(([n]) => n);
  }

  /**
   * One update from gradients keyed by the variables' tfjs names (as `tf.variableGrads` returns
   * them). A parameter without a gradient is left alone, as tfjs does.
   */
  apply(grads: tf.NamedTensorMap): void {
    const { beta1, beta2, epsilon, weightDecay } = this.config;
    const lr = this.learningRate;
    tf.tidy(() => {
      const oneMinusAccBeta1 = tf.sub(1, this.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, this.accBeta2);
      for (let i = 0; i < this.params.length; i++) {
        const value = this.params[i][1];
        const gradient = grads[value.name];
        if (gradient == null) continue;
        const firstMoment = this.m[i];
        const secondMoment = this.v[i];
        const newFirstMoment = tf.add(tf.mul(firstMoment, beta1), tf.mul(gradient, 1 - beta1));
        const newSecondMoment = tf.add(tf.mul(secondMoment, beta2), tf.mul(tf.square(gradient), 1 - beta2));
        const biasCorrectedFirstMoment = tf.div(newFirstMoment, oneMinusAccBeta1);
        const biasCorrectedSecondMoment = tf.div(newSecondMoment, oneMinusAccBeta2);
        firstMoment.assign(newFirstMoment);
        secondMoment.assign(newSecondMoment);
        const newValue = tf.add(
          tf.mul(tf.div(biasCorrectedFirstMoment, tf.add(tf.sqrt(biasCorrectedSecondMoment), epsilon)), -lr),
          value,
        );
        value.assign(newValue);
      }
      this.accBeta1.assign(tf.mul(this.accBeta1, beta1));
      this.accBeta2.assign(tf.mul(this.accBeta2, beta2));
    });
    this.iterations++;
    if (weightDecay > 0) {
      for (const [, v] of this.params) {
        if (this.decayed.has(v)) tf.tidy(() => v.assign(tf.mul(v, 1 - lr * weightDecay)));
      }
    }
  }

  /**
   * Everything needed to continue exactly: `m.<name>`, `v.<name>` (float32, as held), the running
   * products `accBeta1`/`accBeta2` (their float32 values) and the iteration count.
   */
  state(): StateDict {
    const out: StateDict = { iterations: this.iterations };
    const host = (t: tf.Tensor): HostTensor => ({
      shape: t.shape.length ? [...t.shape] : [1],
      data: new Float32Array(t.dataSync() as Float32Array),
    });
    out.accBeta1 = host(this.accBeta1);
    out.accBeta2 = host(this.accBeta2);
    this.params.forEach(([n], i) => {
      out[`m.${n}`] = host(this.m[i]);
      out[`v.${n}`] = host(this.v[i]);
    });
    return out;
  }

  /** Restores `state()` output; every slot must be there with the parameter's shape. */
  load(state: StateDict, source = 'optimizer state'): void {
    const tensor = (key: string, shape: number[]): Float32Array => {
      const t = state[key];
      if (!isHostTensor(t)) throw new Error(`${source}: '${key}' is missing or not a tensor`);
      const size = shape.reduce((a, b) => a * b, 1);
      if (t.data.length !== size) {
        throw new Error(
          `${source}: '${key}' has ${t.data.length} values (shape [${t.shape.join(', ')}]), expected shape [${shape.join(', ')}]`,
        );
      }
      return t.data;
    };
    const it = state.iterations;
    if (typeof it !== 'number' || !Number.isInteger(it) || it < 0) {
      throw new Error(`${source}: 'iterations' must be a whole number ≥ 0, got ${JSON.stringify(it)}`);
    }
    const known = new Set([
      'iterations',
      'accBeta1',
      'accBeta2',
      ...this.params.flatMap(([n]) => [`m.${n}`, `v.${n}`]),
    ]);
    const extra = Object.keys(state).filter((k) => !known.has(k));
    if (extra.length) {
      throw new Error(
        `${source}: holds slots for parameters this model does not have: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ` (+${extra.length - 5} more)` : ''}`,
      );
    }
    const b1 = tensor('accBeta1', [1]);
    const b2 = tensor('accBeta2', [1]);
    const slots = this.params.map(([n, p]) => [tensor(`m.${n}`, p.shape), tensor(`v.${n}`, p.shape)]);
    this.accBeta1.assign(tf.tidy(() => tf.scalar(b1[0])));
    this.accBeta2.assign(tf.tidy(() => tf.scalar(b2[0])));
    slots.forEach(([m, v], i) => {
      tf.tidy(() => {
        this.m[i].assign(tf.tensor(m, this.m[i].shape));
        this.v[i].assign(tf.tensor(v, this.v[i].shape));
      });
    });
    this.iterations = it;
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v, this.accBeta1, this.accBeta2]);
  }
}
