// Fits student logits at four prefix lengths to a fixed teacher distribution with @symseq/loss's DINO
// cross-entropy (teacher centring, temperature warm-up), the multi-length sum and a usage regulariser.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@symseq/nn/register-gradients';
import { DinoLoss, MultiLengthLoss, SymbolRegularizer } from '@symseq/loss';

const K = 64;
const dino = new DinoLoss({
  outDim: K,
  warmupTeacherTemp: 0.04,
  teacherTemp: 0.07,
  warmupTeacherTempSteps: 50,
});
const multi = new MultiLengthLoss({ lengths: [1, 2, 4, 8], weights: [1, 1, 1, 2], normalizeWeights: true });
const usage = new SymbolRegularizer({ usageWeight: 0.1 });
const teacher = tf.randomNormal([16, K], 0, 1, 'float32', 1);
const student = new Map(
  [1, 2, 4, 8].map((l) => [l, tf.variable(tf.randomNormal([16, K], 0, 0.1, 'float32', l))]),
);
const optimizer = tf.train.adam(0.05);
let first = 0;
let last = 0;
for (let step = 0; step < 100; step++) {
  const loss = optimizer.minimize(() => {
    const { total } = multi.dino(dino, student, teacher, step);
    const reg = usage.compute(tf.stack([...student.values()], 1)).total;
    return tf.add(total, reg) as tf.Scalar;
  }, true);
  const value = loss?.dataSync()[0] ?? Number.NaN;
  if (step === 0) first = value;
  last = value;
  loss?.dispose();
}
console.log(
  `loss ${first.toFixed(3)} → ${last.toFixed(3)}; teacher temperature now ${dino.teacherTemperature(100)}`,
);
if (!(last < first)) throw new Error(`the loss did not fall (${first} → ${last})`);
