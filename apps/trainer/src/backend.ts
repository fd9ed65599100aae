import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

const require = createRequire(import.meta.url);

export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** The native bindings are optional dependencies: their install downloads libtensorflow and may fail. */
const NATIVE: Record<string, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/**
 * Selects the fastest backend that loads: tfjs-node-gpu → tfjs-node → wasm → cpu, or the one asked for.
 * Also registers every gradient (tfjs-core alone registers none in Node).
 * Returns the backend name and why others were passed over.
 */
export async function selectBackend(
  choice: BackendChoice = 'auto',
): Promise<{ name: string; notes: string[] }> {
  // @tensorflow/tfjs registers gradients and the cpu backend.
  await import('@tensorflow/tfjs');
  const notes: string[] = [];
  const order = choice === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] : [choice];
  for (const name of order) {
    try {
      if (NATIVE[name]) require(NATIVE[name]);
      else if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend(name))) throw new Error('setBackend returned false');
      await tf.ready();
      return { name: tf.getBackend(), notes };
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
