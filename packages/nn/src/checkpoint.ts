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
  if (json?.format !== CHECKPOINT_FORMAT) {
    throw new Error(
      `${src}.json: field 'format' is ${JSON.stringify(json?.format)}, expected '${CHECKPOINT_FORMAT}'`,
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
  const { tensors } = readSafetensors(weights, `${src}.safetensors`);
  return { json, tensors };
}
