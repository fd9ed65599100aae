// Patch tokens, the pooled (CLS) feature and last-layer attention of a DINO-style ViT on the wasm
// backend, at its native size and at a larger one (position embeddings interpolated as DINO does).
// With real weights: loadVisionTransformer(bytes of facebook/dino-vits16's model.safetensors).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { VisionTransformer } from '@symseq/vit-teacher';

await tf.setBackend('wasm');
const vit = new VisionTransformer('vit-tiny-test', { seed: 0 }); // patch 8, embed 48, 2 layers, 3 heads
for (const size of [32, 48]) {
  const images = tf.randomUniform([2, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const { tokens, pooled, grid, attention } = vit.forward(images, { attention: true });
  console.log(
    `${size} px: tokens ${tokens.shape}, pooled ${pooled.shape}, grid ${grid}, attention ${attention?.shape}`,
  );
  const rowSums = tf.sum(attention as tf.Tensor, -1);
  const worst = tf.max(tf.abs(tf.sub(rowSums, 1))).dataSync()[0];
  if (worst > 1e-4) throw new Error(`attention rows must sum to 1 (off by ${worst})`);
  tf.dispose([images, tokens, pooled, attention, rowSums]);
}
vit.dispose();
