// A tfjs-layers model with a discrete bottleneck: dense → 16 symbols (hard one-hot, straight-through
// gradient, from @symseq/discretize) → dense classifier, trained with the usual model.fit.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@symseq/nn/register-gradients';
import { temperatureSoftmax } from '@symseq/discretize';
import * as tfl from '@tensorflow/tfjs-layers';

/** Logits in, one hard one-hot symbol out; backward, the gradient of softmax(logits / τ). */
class SymbolBottleneck extends tfl.layers.Layer {
  static className = 'SymbolBottleneck';
  constructor(readonly config: { temperature: number }) {
    super({});
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const logits = Array.isArray(inputs) ? inputs[0] : inputs;
    const { output, indices, auxLoss } = temperatureSoftmax(logits, { temperature: this.config.temperature });
    tf.dispose([indices, auxLoss]);
    return output;
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.config };
  }
}
tf.serialization.registerClass(SymbolBottleneck);

// Four Gaussian clusters in 8 dimensions; the label is the cluster.
const centres = tf.mul(tf.randomNormal([4, 8], 0, 1, 'float32', 1), 3);
const labels = tf.tensor1d(
  Array.from({ length: 400 }, (_, i) => i % 4),
  'int32',
);
const x = tf.add(tf.gather(centres, labels), tf.randomNormal([400, 8], 0, 1, 'float32', 2));
const y = tf.oneHot(labels, 4);

const model = tfl.sequential({
  layers: [
    tfl.layers.dense({
      inputShape: [8],
      units: 16,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
    }),
    new SymbolBottleneck({ temperature: 1 }),
    tfl.layers.dense({
      units: 4,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }),
    }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
const history = await model.fit(x, y, { epochs: 30, batchSize: 50, shuffle: false, verbose: 0 });
const accuracy = history.history.acc.at(-1) as number;
const symbols = tf.argMax(model.layers[0].apply(x) as tf.Tensor, -1);
console.log(
  `train accuracy ${(100 * accuracy).toFixed(1)}% through one of 16 symbols;`,
  `symbols used: ${new Set(symbols.dataSync()).size}`,
);
if (!(accuracy > 0.9)) throw new Error(`the discrete bottleneck did not learn the clusters (${accuracy})`);
