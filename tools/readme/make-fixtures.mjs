#!/usr/bin/env node
// Writes the small files the README examples read (tools/readme/fixtures/<readme>/): a PNG photo, a
// two-class ImageFolder and a tiny TF.js layers model. Deterministic; run from the repository root:
//   node tools/readme/make-fixtures.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PNG } from 'pngjs';

const data = join(import.meta.dirname, 'fixtures', 'data');

/** A 32×32 PNG: a horizontal gradient in one channel, a vertical one in another. */
function png(file, channel, shift) {
  const img = new PNG({ width: 32, height: 32 });
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const i = (y * 32 + x) * 4;
      img.data[i] = img.data[i + 1] = img.data[i + 2] = 40;
      img.data[i + channel] = (x * 8 + shift) % 256;
      img.data[i + ((channel + 1) % 3)] = y * 8;
      img.data[i + 3] = 255;
    }
  }
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, PNG.sync.write(img));
}

png(join(data, 'photo.png'), 0, 0);
for (const [c, name] of ['cat', 'dog'].entries()) {
  for (let k = 0; k < 3; k++) png(join(data, 'photos', 'train', name, `${k}.png`), c, k * 40);
}

// A layers model in the format tfjs-layers saves (model.json + one weight shard), weights seeded.
const model = tfl.sequential({
  layers: [
    tfl.layers.conv2d({ inputShape: [16, 16, 3], filters: 4, kernelSize: 3, seed: 1, name: 'features' }),
    tfl.layers.globalAveragePooling2d({}),
    tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
  ],
});
const dir = join(data, 'models', 'tiny');
mkdirSync(dir, { recursive: true });
await model.save(
  tf.io.withSaveHandler(async (artifacts) => {
    const weightsManifest = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }];
    const json = { modelTopology: artifacts.modelTopology, format: 'layers-model', weightsManifest };
    writeFileSync(join(dir, 'model.json'), `${JSON.stringify(json)}\n`);
    writeFileSync(join(dir, 'weights.bin'), Buffer.from(artifacts.weightData));
    return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
  }),
);
console.log(`fixtures written under ${data}`);
