import * as tf from '@tensorflow/tfjs-core';
import type { Initializer } from './init';
import type { Rng } from './rng';

/** A named tensor in host memory: the unit of weight files and checkpoints. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * A flat, ordered map from dotted names (`decoder.blocks.0.attn.q.weight`) to variables.
 * Modules register their parameters under a scope; weight files, checkpoints and optimizers
 * all see the same names, so loading is an explicit name map and never a positional guess.
 */
export class ParamStore {
  private readonly vars = new Map<string, tf.Variable>();
  private readonly frozen = new Set<string>();

  constructor(readonly rng: Rng) {}

  /** Creates a variable. Names must be unique; `trainable: false` keeps it out of `trainable()`. */
  add(name: string, shape: number[], init: Initializer, opts: { trainable?: boolean } = {}): tf.Variable {
    if (this.vars.has(name)) throw new Error(`ParamStore: parameter '${name}' is already defined`);
    if (shape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new Error(`ParamStore: parameter '${name}' has an invalid shape [${shape.join(', ')}]`);
    }
    const trainable = opts.trainable ?? true;
    // tf.variable names are global to the engine, so the store keeps its own names and lets tfjs pick unique ones.
    const v = tf.tidy(() => tf.variable(tf.tensor(init(shape, this.rng), shape, 'float32'), trainable));
    this.vars.set(name, v);
    if (!trainable) this.frozen.add(name);
    return v;
  }

  /** A view that prefixes every name with `prefix.`. */
  scope(prefix: string): ParamScope {
    return new ParamScope(this, prefix);
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`ParamStore: no parameter named '${name}'`);
    return v;
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  /** Trainable variables, in registration order (the order optimizers and checkpoints use). */
  trainable(): tf.Variable[] {
    return [...this.vars.entries()].filter(([n]) => !this.frozen.has(n)).map(([, v]) => v);
  }

  /** Marks parameters (all by default) as frozen or trainable. */
  setTrainable(trainable: boolean, names: string[] = this.names()): void {
    for (const n of names) {
      this.get(n);
      if (trainable) this.frozen.delete(n);
      else this.frozen.add(n);
    }
  }

  numParams(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Copies every parameter to host memory. */
  async toHost(): Promise<Record<string, HostTensor>> {
    const out: Record<string, HostTensor> = {};
    for (const [n, v] of this.vars) out[n] = { shape: [...v.shape], data: (await v.data()) as Float32Array };
    return out;
  }

  /**
   * Assigns values by name. Every given name must exist with the same shape; with
   * `strict` (default) every parameter must also be given. Errors name the tensor and both shapes.
   * Nothing is assigned unless everything checks out, so a bad file never half-loads.
   */
  load(tensors: Record<string, HostTensor>, opts: { strict?: boolean; source?: string } = {}): void {
    const where = opts.source ? ` (from ${opts.source})` : '';
    for (const [n, t] of Object.entries(tensors)) {
      const v = this.vars.get(n);
      if (!v)
        throw new Error(`ParamStore.load${where}: unexpected tensor '${n}': the model has no such parameter`);
      if (!sameShape(v.shape, t.shape)) {
        throw new Error(
          `ParamStore.load${where}: tensor '${n}' has shape [${t.shape.join(', ')}], expected [${v.shape.join(', ')}]`,
        );
      }
      if (t.data.length !== v.size) {
        throw new Error(
          `ParamStore.load${where}: tensor '${n}' holds ${t.data.length} values, expected ${v.size}`,
        );
      }
    }
    if (opts.strict ?? true) {
      const missing = this.names().filter((n) => !(n in tensors));
      if (missing.length) {
        throw new Error(
          `ParamStore.load${where}: missing tensor${missing.length > 1 ? 's' : ''} ${missing
            .slice(0, 8)
            .map((m) => `'${m}'`)
            .join(', ')}${missing.length > 8 ? ` and ${missing.length - 8} more` : ''}`,
        );
      }
    }
    for (const [n, t] of Object.entries(tensors)) {
      const v = this.vars.get(n)!;
      tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, 'float32')));
    }
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

/** A prefix into a ParamStore; modules take one of these so they can be nested anywhere. */
export class ParamScope {
  constructor(
    readonly store: ParamStore,
    readonly prefix: string,
  ) {}

  add(name: string, shape: number[], init: Initializer, opts?: { trainable?: boolean }): tf.Variable {
    return this.store.add(this.name(name), shape, init, opts);
  }

  scope(name: string): ParamScope {
    return new ParamScope(this.store, this.name(name));
  }

  name(n: string): string {
    return this.prefix ? `${this.prefix}.${n}` : n;
  }

  get rng(): Rng {
    return this.store.rng;
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
