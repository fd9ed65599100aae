import * as tf from '@tensorflow/tfjs-core';
import type { MultiLengthResult } from './multi-length';

/** Loss values as plain numbers, for logging. */
export interface LossValues {
  total: number;
  perLength: Record<number, number>;
  /** Any extra named scalars passed to `capture` (aux losses, regularisers). */
  extra: Record<string, number>;
}

/**
 * Carries loss scalars out of a training step for logging. Inside the step (e.g. inside the
 * function given to `tf.variableGrads`, whose tidy would dispose them) call `capture`: it copies
 * the values into one kept tensor. After the step, `read()` downloads them once and frees it.
 */
export class LossReadback {
  private pending: { values: tf.Tensor1D; lengths: number[]; extra: string[] } | null = null;

  /** Keeps the current values; replaces (and frees) anything captured but not read yet. */
  capture(result: MultiLengthResult, extra: Record<string, tf.Scalar> = {}): void {
    const lengths = Object.keys(result.perLength).map(Number);
    const extraNames = Object.keys(extra);
    const scalars = [
      result.total,
      ...lengths.map((l) => result.perLength[l]),
      ...extraNames.map((n) => extra[n]),
    ];
    scalars.forEach((s, i) => {
      if (s.rank !== 0)
        throw new Error(`LossReadback: value ${i} has shape [${s.shape.join(', ')}], expected a scalar`);
    });
    const values = tf.keep(tf.tidy(() => tf.stack(scalars) as tf.Tensor1D));
    this.clear();
    this.pending = { values, lengths, extra: extraNames };
  }

  /** Whether something was captured and not read yet. */
  get hasPending(): boolean {
    return this.pending !== null;
  }

  /** Downloads the captured values (asynchronously) and frees them. */
  async read(): Promise<LossValues> {
    const p = this.take();
    const data = await p.values.data();
    p.values.dispose();
    return unpack(data, p.lengths, p.extra);
  }

  /** Same as `read`, blocking. */
  readSync(): LossValues {
    const p = this.take();
    const data = p.values.dataSync();
    p.values.dispose();
    return unpack(data, p.lengths, p.extra);
  }

  /** Frees captured values without reading them. */
  clear(): void {
    this.pending?.values.dispose();
    this.pending = null;
  }

  private take(): NonNullable<LossReadback['pending']> {
    const p = this.pending;
    if (!p) throw new Error('LossReadback: nothing captured; call capture(result) inside the step first');
    this.pending = null;
    return p;
  }
}

function unpack(data: ArrayLike<number>, lengths: number[], extraNames: string[]): LossValues {
  const perLength: Record<number, number> = {};
  lengths.forEach((l, i) => {
    perLength[l] = data[1 + i];
  });
  const extra: Record<string, number> = {};
  extraNames.forEach((n, i) => {
    extra[n] = data[1 + lengths.length + i];
  });
  return { total: data[0], perLength, extra };
}
