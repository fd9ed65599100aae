import { engine, getGradient } from '@tensorflow/tfjs-core';

/**
 * Kernels that training through symseq's packages differentiates (recorded under tf.grad while the
 * nn, discretize, decoder, loss and trainer tests ran on the wasm backend). Boolean kernels on the
 * tape (All, LogicalNot) are left out: nothing flows back through them.
 */
export const TRAINING_GRADIENT_KERNELS: readonly string[] = [
  'Add',
  'BatchMatMul',
  'Cast',
  'Concat',
  'Erf',
  'ExpandDims',
  'Identity',
  'IsFinite',
  'Log',
  'Maximum',
  'Mean',
  'Multiply',
  'Neg',
  'OneHot',
  'Pack',
  'RealDiv',
  'Reshape',
  'Rsqrt',
  'Slice',
  'Softmax',
  'SplitV',
  'Sqrt',
  'Square',
  'SquaredDifference',
  'Sub',
  'Sum',
  'Tanh',
  'Transpose',
];

let gradientsChecked = false;

/**
 * Throws a message that says what to import when the gradients training needs are not registered
 * (`@tensorflow/tfjs-core` alone registers none in Node). Cheap: it checks once, while a gradient
 * tape is recording (inside tf.grad, variableGrads or optimizer.minimize), and then never again.
 */
export function requireGradients(what: string): void {
  if (gradientsChecked) return;
  // biome-ignore lint/suspicious/noExplicitAny: the engine's tape state is not in tfjs-core's public types
  const state = (engine() as any).state;
  if (!(state?.gradientDepth > 0)) return;
  const missing = TRAINING_GRADIENT_KERNELS.filter((k) => getGradient(k) == null);
  if (missing.length > 0) {
    throw new Error(
      `${what}: gradients are not registered for ${missing.join(', ')}. ` +
        `@tensorflow/tfjs-core registers none by itself: import '@symseq/nn/register-gradients' once ` +
        `before training (or use the @tensorflow/tfjs umbrella package, which registers all).`,
    );
  }
  gradientsChecked = true;
}
