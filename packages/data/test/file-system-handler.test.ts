// tfjs-layers' Dropout calls the chained `tensor.clone()`, which needs tfjs-core's op handler; the shared
// test setup imports only the gradient registrations, so install the handler here.
import '@tensorflow/tfjs-core';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { fileSystemModelHandler } from '../src/io/file-system-handler';
import { hasMobilenet, MOBILENET, tempDir } from './helpers';

/** A two-layer model.json with one weight shard, written by hand: dense 3→2 with known weights. */
function writeTinyModel(dir: string): void {
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'tiny',
      layers: [
        {
          class_name: 'Dense',
          config: {
            name: 'd',
            units: 2,
            activation: 'linear',
            use_bias: true,
            batch_input_shape: [null, 3],
            dtype: 'float32',
          },
        },
      ],
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
  const manifest = [
    {
      paths: ['group1-shard1of1.bin'],
      weights: [
        { name: 'd/kernel', shape: [3, 2], dtype: 'float32' },
        { name: 'd/bias', shape: [2], dtype: 'float32' },
      ],
    },
  ];
  writeFileSync(
    join(dir, 'model.json'),
    JSON.stringify({ modelTopology: topology, weightsManifest: manifest, format: 'layers-model' }),
  );
  writeFileSync(
    join(dir, 'group1-shard1of1.bin'),
    Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6, 0.5, -1]).buffer),
  );
}

describe('fileSystemModelHandler', () => {
  it('loads a hand-written layers model whose output is computed by hand', async () => {
    const dir = await tempDir();
    writeTinyModel(dir);
    const model = await loadLayersModel(fileSystemModelHandler(dir));
    const y = model.predict(tf.tensor2d([[1, 1, 2]])) as tf.Tensor;
    // [1,1,2]·[[1,2],[3,4],[5,6]] + [0.5,-1] = [14.5, 17]
    expect(Array.from(y.dataSync())).toEqual([14.5, 17]);
    const viaJson = await loadLayersModel(fileSystemModelHandler(join(dir, 'model.json')));
    expect(viaJson.layers[0].getWeights()[1].dataSync()).toEqual(new Float32Array([0.5, -1]));
  });

  it('names a missing model.json, a missing shard and a short shard', async () => {
    const dir = await tempDir();
    await expect(fileSystemModelHandler(dir).load!()).rejects.toThrow(
      `cannot read ${join(dir, 'model.json')}: ENOENT`,
    );
    writeTinyModel(dir);
    const shard = join(dir, 'group1-shard1of1.bin');
    writeFileSync(shard, readFileSync(shard).subarray(0, 20));
    await expect(fileSystemModelHandler(dir).load!()).rejects.toThrow(
      /shards of .*model\.json hold 20 bytes, the manifest describes 32/,
    );
    rmSync(shard);
    await expect(fileSystemModelHandler(dir).load!()).rejects.toThrow(
      `cannot read weight shard ${shard}: ENOENT`,
    );
    writeFileSync(join(dir, 'model.json'), '{"format": "x"}');
    await expect(fileSystemModelHandler(dir).load!()).rejects.toThrow(
      /lacks 'modelTopology' or 'weightsManifest'/,
    );
  });

  it.skipIf(!hasMobilenet)(
    'loads MobileNetV1 0.75 from disk and predicts a probability distribution over 1000 classes',
    async () => {
      const model = await loadLayersModel(fileSystemModelHandler(MOBILENET));
      // The first weight of the manifest starts the first shard: the bytes land in the right variable.
      const manifest = JSON.parse(readFileSync(join(MOBILENET, 'model.json'), 'utf8')).weightsManifest;
      const first = manifest[0].weights[0];
      const shard = readFileSync(join(MOBILENET, manifest[0].paths[0]));
      const size = first.shape.reduce((a: number, b: number) => a * b, 1);
      const expected = new Float32Array(shard.buffer.slice(shard.byteOffset, shard.byteOffset + size * 4));
      const variable = model.weights.find((w) => w.originalName === first.name)!;
      expect(variable.read().dataSync()).toEqual(expected);
      const noise = new Rng(3).fill(224 * 224 * 3, 'uniform').map((v) => 2 * v - 1); // MobileNet wants [-1, 1]
      const x = tf.tensor4d(noise, [1, 224, 224, 3]);
      const y = model.predict(x) as tf.Tensor;
      expect(y.shape).toEqual([1, 1000]);
      const p = Array.from(y.dataSync() as Float32Array);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      expect(Math.min(...p)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...p)).toBeGreaterThan(0.01); // trained weights: far from the uniform 0.001
      tf.dispose([x, y]);
      model.dispose();
    },
  );
});
