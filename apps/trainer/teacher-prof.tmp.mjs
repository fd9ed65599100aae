import { fileSystemModelHandler } from '@symseq/data';
import { mobilenetTeacher } from '@symseq/vit-teacher';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { selectBackend } from './dist/index.js';

await selectBackend('wasm');
console.log('backend', tf.getBackend());
const model = await loadLayersModel(fileSystemModelHandler('/work/shared/models/mobilenet_v1_0.75_224'));
const t = mobilenetTeacher({
  model,
  inputSize: 128,
  layer: 'conv_pw_11_relu',
  pooledLayer: 'conv_pw_13_relu',
  fold: process.env.FOLD !== '0',
});
console.log(t.execution, t.foldReason);
const B = +(process.env.B ?? 64);
const imgs = tf.randomUniform([B, 32, 32, 3], 0, 1);
for (let i = 0; i < 2; i++) {
  const o = t.forward(imgs);
  tf.dispose([o.tokens, o.pooled]);
}
const t0 = performance.now();
for (let i = 0; i < 3; i++) {
  const o = t.forward(imgs);
  await o.pooled.data();
  tf.dispose([o.tokens, o.pooled]);
}
console.log('img/s', ((3 * B) / ((performance.now() - t0) / 1000)).toFixed(1));
const prof = await tf.profile(async () => {
  const o = t.forward(imgs);
  await o.pooled.data();
  tf.dispose([o.tokens, o.pooled]);
});
const agg = {};
for (const k of prof.kernels) {
  const a = (agg[k.name] ??= { n: 0, ms: 0 });
  a.n++;
  a.ms += k.kernelTimeMs;
}
for (const [k, v] of Object.entries(agg).sort((a, b) => b[1].ms - a[1].ms))
  console.log(k.padEnd(28), v.n, v.ms.toFixed(1));
