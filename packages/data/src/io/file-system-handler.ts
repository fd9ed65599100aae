import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/**
 * A tfjs `io.IOHandler` that loads a layers or graph model (`model.json` plus its weight shards) from
 * the local file system, for Node without `@tensorflow/tfjs-node`:
 * `tf.loadLayersModel(fileSystemModelHandler('models/mobilenet'))`. `path` is the model folder or the
 * `model.json` file itself; shard paths in the manifest are relative to the folder that holds it.
 */
export function fileSystemModelHandler(path: string): tf.io.IOHandler {
  const resolved = resolve(path);
  const modelJsonPath = basename(resolved).endsWith('.json') ? resolved : join(resolved, 'model.json');
  const folder = dirname(modelJsonPath);
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      let text: string;
      try {
        text = await readFile(modelJsonPath, 'utf8');
      } catch (e) {
        throw new Error(
          `fileSystemModelHandler: cannot read ${modelJsonPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        );
      }
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(text);
      } catch (e) {
        throw new Error(
          `fileSystemModelHandler: ${modelJsonPath} is not valid JSON: ${(e as Error).message}`,
        );
      }
      if (modelJson.modelTopology == null || !Array.isArray(modelJson.weightsManifest)) {
        throw new Error(
          `fileSystemModelHandler: ${modelJsonPath} lacks 'modelTopology' or 'weightsManifest' (not a TF.js model.json)`,
        );
      }
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = tf.io.getWeightSpecs(manifest);
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const shard of group.paths) {
            const file = join(folder, shard);
            let bytes: Buffer;
            try {
              bytes = await readFile(file);
            } catch (e) {
              throw new Error(
                `fileSystemModelHandler: cannot read weight shard ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
              );
            }
            buffers.push(
              bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
            );
          }
        }
        const data = tf.io.concatenateArrayBuffers(buffers);
        const expected = specs.reduce((n, s) => n + weightBytes(s), 0);
        if (Number.isFinite(expected) && data.byteLength !== expected) {
          throw new Error(
            `fileSystemModelHandler: the weight shards of ${modelJsonPath} hold ${data.byteLength} bytes, the manifest describes ${expected}`,
          );
        }
        return [specs, data];
      });
    },
  };
}

const DTYPE_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  float16: 2,
  uint8: 1,
  uint16: 2,
};

/** Bytes one weight takes in the shards (quantized weights are stored at their quantized width). */
function weightBytes(spec: tf.io.WeightsManifestEntry): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.dtype === 'string') return Number.NaN; // variable length: no size check
  const stored = spec.quantization?.dtype ?? spec.dtype;
  return count * (DTYPE_BYTES[stored] ?? Number.NaN);
}
