import {
  getKernel,
  type KernelConfig,
  registerKernel,
  type TensorInfo,
  unregisterKernel,
} from '@tensorflow/tfjs-core';

/**
 * tfjs-backend-wasm 4.22 implements `Identity` (what `tf.clone` runs) and a `Cast` to the same dtype by
 * copying the whole buffer into a new allocation. A gradient tape clones every tensor it saves for the
 * backward pass, and the gradient of `mul` casts float32 to float32, so the cpu preset's training step
 * ran ~1,900 Identity and ~330 same-dtype Cast kernels, copies of up to [16384, 384] floats each.
 * tfjs tensors are immutable (a Variable's `assign` swaps in a new buffer, it never writes the old one),
 * so these outputs may share the input's buffer under a reference count, as the cpu backend's Identity
 * and the wasm backend's own Reshape already do. Results are bit-identical; only the copies go.
 */

interface RefCountingBackend {
  incRef(dataId: unknown): void;
}

const WASM = 'wasm';
// tfjs' own kernels, kept for uninstall; on globalThis like tfjs' kernel registry, so that two copies of
// this module (a bundle and its source, say) agree on what is installed.
const ORIGINALS = Symbol.for('@symseq/nn wasm copying kernels');
type Originals = { identity: KernelConfig; cast: KernelConfig };
const store = globalThis as { [ORIGINALS]?: Originals };

function share(x: TensorInfo | undefined, backend: unknown): TensorInfo {
  if (!x) throw new Error('installWasmZeroCopyKernels: the kernel got no input x');
  (backend as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Replaces the wasm backend's copying `Identity` and same-dtype `Cast` kernels by ones that share the
 * input's buffer (a Cast that changes the dtype still runs the original kernel). Call after importing
 * `@tensorflow/tfjs-backend-wasm`, which registers the originals. Idempotent; returns false (and
 * changes nothing) when the wasm kernels are not registered.
 */
export function installWasmZeroCopyKernels(): boolean {
  if (store[ORIGINALS]) return true;
  const identity = getKernel('Identity', WASM);
  const cast = getKernel('Cast', WASM);
  if (!identity || !cast) return false;
  store[ORIGINALS] = { identity, cast };
  const castCopy = cast.kernelFunc;
  const kernels: KernelConfig[] = [
    {
      kernelName: 'Identity',
      backendName: WASM,
      kernelFunc: ({ inputs, backend }) => share(inputs.x, backend),
    },
    {
      kernelName: 'Cast',
      backendName: WASM,
      kernelFunc: (args) => {
        const x = args.inputs.x;
        return x && (args.attrs as { dtype?: string } | undefined)?.dtype === x.dtype && x.dtype !== 'string'
          ? share(x, args.backend)
          : castCopy(args);
      },
    },
  ];
  for (const k of kernels) replaceKernel(k);
  return true;
}

/** Puts tfjs-backend-wasm's own (copying) Identity and Cast kernels back; a no-op when not installed. */
export function uninstallWasmZeroCopyKernels(): void {
  const originals = store[ORIGINALS];
  if (!originals) return;
  replaceKernel(originals.identity);
  replaceKernel(originals.cast);
  delete store[ORIGINALS];
}

function replaceKernel(k: KernelConfig): void {
  unregisterKernel(k.kernelName, WASM);
  registerKernel(k);
}
