import type { HostTensor } from '../params';

/** A JSON value that a state dictionary may hold besides tensors. */
export type StateValue =
  | HostTensor
  | number
  | string
  | boolean
  | null
  | number[]
  | { [k: string]: StateValue };

/**
 * What a stateful object (optimizer, objective, RNG…) saves to continue exactly: named tensors
 * (float32, kept bit for bit) and plain JSON values. A checkpoint is a dictionary of these, one
 * per owner, as DINO's `restart_from_checkpoint` restores each object from its own entry.
 */
export type StateDict = { [name: string]: StateValue };

/** Anything with the state protocol. */
export interface Stateful {
  state(): StateDict;
  load(state: StateDict, source?: string): void;
}

export function isHostTensor(x: unknown): x is HostTensor {
  return typeof x === 'object' && x !== null && (x as HostTensor).data instanceof Float32Array;
}

/**
 * Splits owner → StateDict into the tensors (keyed `owner/name`, for a safetensors file) and the
 * rest (owner → name → JSON value), so a checkpoint stores each kind in its own format.
 */
export function splitStates(states: Record<string, StateDict>): {
  tensors: Record<string, HostTensor>;
  values: Record<string, Record<string, StateValue>>;
} {
  const tensors: Record<string, HostTensor> = {};
  const values: Record<string, Record<string, StateValue>> = {};
  for (const [owner, dict] of Object.entries(states)) {
    if (owner.includes('/')) throw new Error(`state owner '${owner}' must not contain '/'`);
    values[owner] = {};
    for (const [name, v] of Object.entries(dict)) {
      if (isHostTensor(v)) tensors[`${owner}/${name}`] = v;
      else values[owner][name] = v;
    }
  }
  return { tensors, values };
}

/** The inverse of `splitStates`. */
export function joinStates(
  tensors: Record<string, HostTensor>,
  values: Record<string, Record<string, StateValue>>,
): Record<string, StateDict> {
  const out: Record<string, StateDict> = {};
  for (const [owner, dict] of Object.entries(values)) out[owner] = { ...dict };
  for (const [key, t] of Object.entries(tensors)) {
    const slash = key.indexOf('/');
    if (slash <= 0) throw new Error(`state tensor '${key}' is not named owner/name`);
    const owner = key.slice(0, slash);
    out[owner] ??= {};
    out[owner][key.slice(slash + 1)] = t;
  }
  return out;
}
