// Dumps tfjs (cpu backend) MobileNet layer outputs for the first 8 train images, to check
// tools/research/mobilenet_torch.py layer by layer. Usage: node tools/research/tfjs_probe.mjs SIZE
import * as fs from 'node:fs';
import { fileSystemModelHandler } from '@symseq/data';
import { mobilenetTeacher } from '@symseq/vit-teacher';
import * as tf from '@tensorflow/tfjs';

const size = Number(process.argv[2] ?? 64);
const backend = process.argv[3] ?? 'cpu';
if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
await tf.setBackend(backend);
const model = await tf.loadLayersModel(
  fileSystemModelHandler('/work/shared/models/mobilenet_v1_0.75_224/model.json'),
);
const px = fs
  .readFileSync('/work/main/.cache/symseq/pixels/pixels-b7a74a7a3ad35f1f7b98.bin')
  .subarray(0, 8 * 3072);
const images = tf.div(tf.tensor4d(Float32Array.from(px), [8, 32, 32, 3]), 255);
const out = {};
for (const layer of ['conv1_relu', 'conv_dw_2_relu', 'conv_pw_11_relu', 'conv_pw_13_relu']) {
  const t = mobilenetTeacher({ model, inputSize: size, layer });
  const { tokens } = t.forward(images);
  out[layer] = { shape: tokens.shape, data: Array.from(await tokens.data()) };
}
fs.writeFileSync(`/work/main/.cache/research/tfjs_probe@${size}-${backend}.json`, JSON.stringify(out));
console.log('ok');
