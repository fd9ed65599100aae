// Trains one @symseq/nn transformer block (pre-norm attention + MLP) to reproduce a shuffled copy of
// its input tokens, with tfjs-core, the cpu backend and symseq's gradient registrations only.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@symseq/nn/register-gradients';
import { EncoderBlock, Linear, ParamStore, Rng } from '@symseq/nn';

const store = new ParamStore(new Rng(0));
const block = new EncoderBlock(store.scope('block'), { dim: 16, heads: 2 });
const head = new Linear(store.scope('head'), 16, 16);
const x = tf.randomNormal([32, 6, 16], 0, 1, 'float32', 1);
const target = tf.reverse(x, 1); // token i must become token 5 − i: only attention can do that

const optimizer = tf.train.adam(0.02);
const lossOf = () => tf.mean(tf.square(tf.sub(head.apply(block.apply(x).out), target))) as tf.Scalar;
const first = tf.tidy(() => lossOf().dataSync()[0]);
for (let step = 1; step <= 60; step++) {
  const loss = optimizer.minimize(lossOf, true, store.trainable());
  if (step % 20 === 0) console.log(`step ${step}: mse ${loss?.dataSync()[0].toFixed(4)}`);
  loss?.dispose();
}
const last = tf.tidy(() => lossOf().dataSync()[0]);
console.log(`mse ${first.toFixed(3)} → ${last.toFixed(3)}; ${store.names().length} parameter tensors`);
if (!(last < 0.5 * first)) throw new Error(`training did not reduce the loss enough (${first} → ${last})`);
