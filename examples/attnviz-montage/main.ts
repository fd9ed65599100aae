// Cross-attention of 4 symbols over a 4×4 token grid → one map per symbol → heatmap overlays on a
// 64×64 image → a labelled montage, saved as montage.ppm (any image viewer opens it).
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { montage, symbolAttentionMaps, symbolOverlays } from '@symseq/attnviz';

// Symbol t attends to the t-th quadrant: logits high on those 4 of the 16 tokens.
const logits = tf.tidy(() => {
  const rows: number[][] = [];
  for (let t = 0; t < 4; t++) {
    rows.push(
      Array.from({ length: 16 }, (_, n) => {
        const [r, c] = [Math.floor(n / 4), n % 4];
        return Math.floor(r / 2) * 2 + Math.floor(c / 2) === t ? 4 : 0;
      }),
    );
  }
  return tf.reshape(tf.tensor2d(rows), [1, 1, 4, 16]); // [B, heads, L, N]
});
const maps = symbolAttentionMaps(tf.softmax(logits), { grid: [4, 4] });
const data = new Uint8Array(64 * 64 * 3);
for (let i = 0; i < 64 * 64; i++) data.set([(i % 64) * 4, Math.floor(i / 64) * 4, 128], 3 * i);
const image = { width: 64, height: 64, data };
const sheet = montage({
  image,
  panels: symbolOverlays(image, maps, 0, { alpha: 0.6 }),
  symbols: [12, 7, 7, 30],
  padding: 2,
});

const rgb = Buffer.alloc(sheet.width * sheet.height * 3);
for (let p = 0; p < sheet.width * sheet.height; p++) rgb.set(sheet.data.subarray(4 * p, 4 * p + 3), 3 * p);
writeFileSync('montage.ppm', Buffer.concat([Buffer.from(`P6 ${sheet.width} ${sheet.height} 255\n`), rgb]));
console.log(`montage.ppm: ${sheet.width}×${sheet.height}, image + ${maps.symbols} overlays`);
