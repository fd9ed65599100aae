import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_ORDER, type BackendName } from './backend-names';
import { softwareReason, webglRenderer, webgpuAdapter } from './gpu-check';

/** Thrown when no backend starts: the browser lacks WebGPU, WebGL and WebAssembly (or all failed). */
export class UnsupportedBrowserError extends Error {}

/** Each backend registers itself when imported; importing on demand keeps the others out of the page. */
const REGISTER: Record<BackendName, () => Promise<unknown>> = {
  webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
  webgl: () => import('@tensorflow/tfjs-backend-webgl'),
  wasm: async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Vite copies the three binaries into the build and gives their (hashed) URLs.
    wasm.setWasmPaths({
      'tfjs-backend-wasm.wasm': wasmPlainUrl,
      'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
    });
  },
  cpu: () => import('@tensorflow/tfjs-backend-cpu'),
};

/**
 * Why a backend cannot start, or should not be chosen, found before loading it (undefined when it
 * may work). Unless the backend was asked for by name, a GPU backend on a software renderer is
 * passed over: wasm is much faster than a GPU emulated on the CPU.
 */
async function precheck(name: BackendName, requested: boolean): Promise<string | undefined> {
  const gpu = gpuOf(navigator);
  if (name === 'webgpu' && !gpu) return 'navigator.gpu is missing';
  if (name === 'wasm' && typeof WebAssembly !== 'object') return 'WebAssembly is missing';
  if (requested) return undefined;
  if (name === 'webgpu' && gpu) {
    const adapter = await webgpuAdapter(gpu);
    if (!adapter) return 'the browser offers no WebGPU adapter';
    const soft = softwareReason(adapter.description, adapter.isFallbackAdapter);
    if (soft) return `${soft}, slower than wasm`;
  }
  if (name === 'webgl') {
    const soft = softwareReason(webglRenderer());
    if (soft) return `${soft}, slower than wasm`;
  }
  return undefined;
}

function gpuOf(nav: Navigator): { requestAdapter(): Promise<unknown> } | undefined {
  return (nav as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
}

/**
 * Why a backend failed, as well as can be told. Asked only after the failure: a WebGPU adapter
 * requested beside the backend's own breaks the backend's buffers in Chromium.
 */
async function explainFailure(name: BackendName, error: string): Promise<string> {
  if (name === 'webgpu') {
    const adapter = await gpuOf(navigator)
      ?.requestAdapter()
      .catch(() => null);
    if (!adapter) return 'the browser offers no WebGPU adapter';
  }
  if (name === 'webgl') {
    const canvas = document.createElement('canvas');
    if (!canvas.getContext('webgl2') && !canvas.getContext('webgl'))
      return 'the browser gives no WebGL context';
  }
  return error;
}

/**
 * Starts the first backend that works, in the order webgpu → webgl → wasm → cpu (GPU backends only
 * on a real GPU), or only `only` when given. Returns its name and, for each one passed over, why.
 */
export async function startBackend(only?: BackendName): Promise<{ name: BackendName; skipped: string[] }> {
  const skipped: string[] = [];
  for (const name of only ? [only] : BACKEND_ORDER) {
    const missing = await precheck(name, only !== undefined);
    if (missing) {
      skipped.push(`${name}: ${missing}`);
      continue;
    }
    try {
      await REGISTER[name]();
      // setBackend answers false (and logs) when the backend's factory fails, e.g. no WebGL context.
      if (!(await tf.setBackend(name))) throw new Error('it did not initialise');
      await tf.ready();
      // A backend can start yet fail at its first kernel (e.g. a blocklisted GPU): run one op.
      const probe = tf.tidy(() => tf.sum(tf.add(tf.ones([4]), tf.ones([4]))));
      const value = (await probe.data())[0];
      probe.dispose();
      if (value !== 8) throw new Error(`a test sum gave ${value}, expected 8`);
      return { name, skipped };
    } catch (e) {
      skipped.push(`${name}: ${await explainFailure(name, (e as Error).message)}`);
    }
  }
  const tried = only ? `the requested backend '${only}' could not start` : `no backend could start`;
  throw new UnsupportedBrowserError(
    `This browser cannot run the model: ${tried} (${skipped.join('; ')}). ` +
      'Try a recent Chrome, Edge, Firefox or Safari' +
      (only ? ', or remove ?backend= from the address to let the page choose.' : '.'),
  );
}
