// Registers gradients and selects the backend named by SYMSEQ_BACKEND (wasm by default).
// tfjs-core alone registers no gradients in Node, so this import is required. Importing it first
// would create the engine before tfjs-core's own side effects (the op handler behind tensor methods
// such as clone/cast, which some core gradients use) ran, so those are imported explicitly before it.
import '@tensorflow/tfjs-core/dist/base_side_effects';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll } from 'vitest';

beforeAll(async () => {
  const backend = process.env.SYMSEQ_BACKEND ?? 'wasm';
  if (tf.getBackend() !== backend) {
    const ok = await tf.setBackend(backend);
    if (!ok) throw new Error(`test setup: backend '${backend}' failed to initialise`);
  }
  await tf.ready();
});
