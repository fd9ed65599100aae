// Registers gradients and selects the backend named by SYMSEQ_BACKEND (wasm by default).
// tfjs-core alone registers no gradients in Node. The built @symseq/nn/register-gradients (what users
// import) uses only the public '@tensorflow/tfjs-core' entry; importing tfjs-core's dist files here
// instead loaded a second copy of tfjs-core ("Platform node has already been set" in every test file).
import '@symseq/nn/register-gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll } from 'vitest';
import { installWasmZeroCopyKernels } from '../packages/nn/src/wasm-zero-copy';

// As the trainer's selectBackend: on wasm, clones and same-dtype casts share their input's buffer.
installWasmZeroCopyKernels();

beforeAll(async () => {
  const backend = process.env.SYMSEQ_BACKEND ?? 'wasm';
  if (tf.getBackend() !== backend) {
    const ok = await tf.setBackend(backend);
    if (!ok) throw new Error(`test setup: backend '${backend}' failed to initialise`);
  }
  await tf.ready();
});
