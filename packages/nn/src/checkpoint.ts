import type { HostTensor } from './params';
import { readSafetensors, writeSafetensors } from './safetensors';

export const CHECKPOINT_FORMAT = 'symseq-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** The JSON half of a checkpoint: what kind of model and how to rebuild it. */
export interface CheckpointJson<C = unknown> {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** Which model the weights belong to, e.g. 'symseq-student'. */
  kind: string;
  config: C;
  /** Free-form facts (training step, teacher id, metrics). */
  meta?: Record<string, unknown>;
}

export interface Checkpoint<C = unknown> {
  json: CheckpointJson<C>;
  tensors: Record<string, HostTensor>;
}

/**
 * A checkpoint is two files: `<name>.json` (format, version, kind, config) and
 * `<name>.safetensors` (F32 weights). Both the trainer (Node) and the demo (browser) read it.
 */
export function encodeCheckpoint<C>(
  kind: string,
  config: C,
  tensors: Record<string, HostTensor>,
  meta?: Record<string, unknown>,
): { json: string; weights: Uint8Array } {
  const json: CheckpointJson<C> = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    kind,
    config,
    meta,
  };
  return {
    json: JSON.stringify(json, null, 2),
    weights: writeSafetensors(tensors, { format: CHECKPOINT_FORMAT, kind }),
  };
}

/** Parses and checks a checkpoint; errors say which file and field is wrong. */
export function decodeCheckpoint<C>(
  jsonText: string,
  weights: Uint8Array,
  opts: { kind?: string; source?: string } = {},
): Checkpoint<C> {
  const src = opts.source ?? 'checkpoint';
  let json: CheckpointJson<C>;
  try {
    json = JSON.parse(jsonText);
  } catch (e) {
    throw new Error(`${src}.json: not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${src}.json: expected a JSON object, got ${JSON.stringify(json)}`);
  }
  if (json.format !== CHECKPOINT_FORMAT) {
    throw new Error(
      `${src}.json: field 'format' is ${JSON.stringify(json.format)}, expected '${CHECKPOINT_FORMAT}'`,
    );
  }
  if (json.version !== CHECKPOINT_VERSION) {
    throw new Error(
      `${src}.json: format version ${JSON.stringify(json.version)} is not supported; this build reads version ${CHECKPOINT_VERSION}`,
    );
  }
  if (opts.kind && json.kind !== opts.kind) {
    throw new Error(`${src}.json: field 'kind' is ${JSON.stringify(json.kind)}, expected '${opts.kind}'`);
  }
  if (typeof json.kind !== 'string') {
    throw new Error(`${src}.json: field 'kind' must be a string, got ${JSON.stringify(json.kind)}`);
  }
  for (const field of ['config', 'meta'] as const) {
    const v = json[field];
    if (
      (field === 'config' || v !== undefined) &&
      (typeof v !== 'object' || v === null || Array.isArray(v))
    ) {
      throw new Error(`${src}.json: field '${field}' must be an object, got ${JSON.stringify(v)}`);
    }
  }
  const { tensors } = readSafetensors(weights, `${src}.safetensors`);
  // Weights of a diverged run must not load as if they were a model.
  for (const [name, t] of Object.entries(tensors)) {
    const bad = t.data.reduce((n, v) => (Number.isFinite(v) ? n : n + 1), 0);
    if (bad > 0) {
      throw new Error(
        `${src}.safetensors: tensor '${name}' holds ${bad} non-finite value(s) (NaN or Infinity); the checkpoint is not usable`,
      );
    }
  }
  return { json, tensors };
}
