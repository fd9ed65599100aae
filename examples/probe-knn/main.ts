// Measures two kinds of representation of the same labelled data with @symseq/probe: continuous
// features (weighted cosine k-NN, as DINO evaluates) and 4-symbol sequences whose first symbol
// carries the class, by prefix length (longer prefixes add only noise here).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { accuracyVsLength, formatLengthTable, knnClassify } from '@symseq/probe';

const classes = 5;
const label = (i: number) => i % classes;
const trainLabels = Int32Array.from({ length: 500 }, (_, i) => label(i));
const testLabels = Int32Array.from({ length: 100 }, (_, i) => label(i));
const centres = tf.randomNormal([classes, 32], 0, 1, 'float32', 1);
const features = (labels: Int32Array, seed: number) =>
  tf.add(
    tf.gather(centres, tf.tensor1d(labels, 'int32')),
    tf.randomNormal([labels.length, 32], 0, 0.7, 'float32', seed),
  );

const knn = await knnClassify({
  trainFeatures: features(trainLabels, 2),
  trainLabels,
  testFeatures: features(testLabels, 3),
  testLabels,
  numClasses: classes,
});
console.log(`features: top-1 ${knn.top1.toFixed(1)}%, top-5 ${knn.top5.toFixed(1)}%`);

const sequence = (i: number, c: number) => [c, (i * 7) % 11, (i * 13) % 11, (i * 3) % 11];
const rows = await accuracyVsLength({
  lengths: [1, 2, 4],
  featurize: () => ({
    trainSymbols: Array.from(trainLabels, (c, i) => sequence(i, c)),
    testSymbols: Array.from(testLabels, (c, i) => sequence(i + 1000, c)),
  }),
  trainLabels,
  testLabels,
  numClasses: classes,
});
console.log(formatLengthTable(rows));
if (!(knn.top1 > 90) || rows[0].top1 !== 100) throw new Error('the probe missed an easy separation');
