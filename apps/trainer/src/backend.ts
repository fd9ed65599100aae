import { createRequire } from 'node:module';
import { installWasmZeroCopyKernels } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { type DawnAdapter, registerDawnWebGpu } from './webgpu-backend';

const require = createRequire(import.meta.url);

export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';

/** The native bindings are optional dependencies: their install downloads libtensorflow and may fail. */
const NATIVE: Record<string, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/**
 * Selects the fastest backend that loads: tfjs-node-gpu → webgpu (Dawn, a hardware adapter) → tfjs-node →
 * wasm → cpu, or the one asked for.
 * Also registers every gradient (tfjs-core alone registers none in Node) and, on wasm, the zero-copy
 * Identity and Cast kernels of `installWasmZeroCopyKernels`.
 * Returns the backend name, why others were passed over, and the Dawn adapter when it is webgpu.
 */
export async function selectBackend(
  choice: BackendChoice = 'auto',
): Promise<{ name: string; notes: string[]; adapter?: DawnAdapter }> {
  // @tensorflow/tfjs registers gradients and the cpu backend.
  await import('@tensorflow/tfjs');
  const notes: string[] = [];
  const order = choice === 'auto' ? ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] : [choice];
  for (const name of order) {
    let adapter: DawnAdapter | undefined;
    try {
      if (NATIVE[name]) require(NATIVE[name]);
      else if (name === 'wasm') {
        await import('@tensorflow/tfjs-backend-wasm');
        // Clones and same-dtype casts share their input's buffer instead of copying it (bit-identical).
        installWasmZeroCopyKernels();
      }
      // auto takes a hardware adapter only: on a software one (Mesa llvmpipe through Dawn's OpenGL ES
      // backend) webgpu is right but slower than wasm. --backend webgpu takes either.
      else if (name === 'webgpu') adapter = await registerDawnWebGpu({ allowSoftware: choice === 'webgpu' });
      if (!(await tf.setBackend(name))) throw new Error('setBackend returned false');
      await tf.ready();
      return { name: tf.getBackend(), notes, ...(adapter && { adapter }) };
    } catch (e) {
      const why = (e as Error).message.split('\n')[0];
      notes.push(
        `${name}: ${NATIVE[name] ? `${NATIVE[name]} did not load` : 'failed'} (${why.slice(0, 120)})`,
      );
      if (choice !== 'auto') {
        throw new Error(`backend '${name}' is not available here: ${why}. Use --backend auto to fall back.`);
      }
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised:\n  ${notes.join('\n  ')}`);
}
