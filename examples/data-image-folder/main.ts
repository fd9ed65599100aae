// Opens photos/train/<class>/*.png (shipped with this example), loads a resized batch as a tensor,
// draws two seeded DINO views of it and caches a stand-in teacher's features on disk (twice: built,
// then reused).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { batchToTensor, buildFeatureCache, DinoAugmentation, openImageFolder } from '@symseq/data';
import { Rng } from '@symseq/nn';

const train = await openImageFolder({ root: 'photos', split: 'train', imageSize: 32, quiet: true });
console.log(`${train.length} images, classes ${train.classes.join(', ')}`);
const batch = train.load([0, 1, 2, 3], { size: 32 });
const x = batchToTensor(batch);
const views = new DinoAugmentation({ size: 24 });
const a = views.apply(x, new Rng(0));
const b = views.apply(x, new Rng(0));
const same = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] === 0;
console.log(`batch ${x.shape} → view ${a.shape}; same seed, same view: ${same}`);

const meanColour = (images: tf.Tensor4D) =>
  tf.tidy(() => {
    const pooled = tf.mean(images, [1, 2]) as tf.Tensor2D;
    return { tokens: tf.expandDims(pooled, 1) as tf.Tensor3D, pooled };
  });
const cacheOptions = {
  dir: '.cache/mean-colour',
  dataset: train,
  featurize: meanColour,
  teacherId: 'mean-colour',
  inputSize: 32,
  quiet: true,
};
const built = await buildFeatureCache(cacheOptions);
const again = await buildFeatureCache(cacheOptions);
console.log(`feature cache: ${built.status}, then ${again.status}`);
if (!same || again.status !== 'reused') throw new Error('expected identical seeded views and a reused cache');
