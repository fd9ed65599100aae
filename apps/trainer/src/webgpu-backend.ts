import * as tf from '@tensorflow/tfjs-core';

/** Adapters that are CPU rasterisers, not GPUs (Mesa llvmpipe/lavapipe/softpipe, SwiftShader). */
const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software/i;

export interface DawnAdapter {
  /** What the adapter says it is, e.g. "NVIDIA H200 (vulkan)" or "OpenGL ES 3.2 Mesa 22.3.6". */
  description: string;
  /** A software rasteriser, or Dawn's OpenGL ES path (compatibility mode: Mesa here), not a known GPU. */
  software: boolean;
  /**
   * Dawn validation errors so far. tfjs-webgpu never checks for them, and a pipeline that fails
   * validation leaves its output buffer unwritten (zeros or stale values), so any error here means
   * wrong numbers.
   */
  errors: () => number;
}

type DawnModule = { create: (flags: string[]) => GPU; globals: Record<string, unknown> };

async function loadDawn(): Promise<DawnModule> {
  try {
    return (await import('webgpu')) as unknown as DawnModule;
  } catch (e) {
    throw new Error(
      `the 'webgpu' package (Dawn for Node) did not load (${(e as Error).message.split('\n')[0]}); it is an optional dependency: npm install webgpu`,
    );
  }
}

/**
 * Thrown by the webgpu backend's readSync for data that is still on the GPU: tfjs-webgpu's synchronous
 * readback draws through an OffscreenCanvas, which Node lacks, and Dawn has no blocking map.
 */
class GpuResidentRead extends Error {
  constructor(readonly dataId: object) {
    super(
      'webgpu in Node cannot read a tensor on the GPU synchronously (dataSync/arraySync); use await data(), or run the reader through readOnHost',
    );
  }
}

/**
 * Runs `read`, which may read tensors synchronously (an optimizer's or objective's `state()`), on any
 * backend. On webgpu in Node each tensor it needs from the GPU is first read asynchronously (tfjs then
 * keeps its values on the CPU too) and `read` is run again, so it must not change anything. Every
 * registered variable (parameters, optimizer slots) is read up front, so few reruns are needed.
 */
export async function readOnHost<T>(read: () => T): Promise<T> {
  if (tf.getBackend() !== 'webgpu') return read();
  const backend = tf.backend();
  await Promise.all(Object.values(tf.engine().registeredVariables).map((v) => v.data()));
  for (;;) {
    try {
      return read();
    } catch (e) {
      if (!(e instanceof GpuResidentRead)) throw e;
      await backend.read(e.dataId);
    }
  }
}

/**
 * One Dawn instance per set of flags for the whole process: a second `create(['backend=opengles'])`
 * corrupts Mesa's EGL state (measured: the second device's work never finished, or glibc aborted in
 * __pthread_tpp_change_priority / "Owner died"); new adapters and devices on the same instance are fine.
 */
const instances = new Map<string, GPU>();
function dawnInstance(dawn: DawnModule, flags: string[]): GPU {
  const key = flags.join(' ');
  if (!instances.has(key)) instances.set(key, dawn.create(flags));
  return instances.get(key) as GPU;
}

/**
 * Runs `fn` on wasm when the backend is webgpu, then switches back: for steps that read their tensors
 * synchronously (k-means and the other baselines) and start from host arrays, so no tensor has to move.
 */
export async function onHostBackend<T>(fn: () => Promise<T>): Promise<T> {
  if (tf.getBackend() !== 'webgpu') return fn();
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('onHostBackend: the wasm backend did not initialise');
  try {
    return await fn();
  } finally {
    await tf.setBackend('webgpu');
  }
}

function describe(info: GPUAdapterInfo | undefined, via: string): string {
  const parts = [info?.vendor, info?.architecture, info?.description].filter((s) => s);
  return `${parts.join(' ') || 'unnamed adapter'} (${via})`;
}

/**
 * Registers TensorFlow.js's `webgpu` backend on a Dawn device (the `webgpu` npm package; its
 * dawn.node ships prebuilt). Dawn's default adapter (Vulkan, Metal, D3D12) comes first; with
 * `allowSoftware`, Dawn's OpenGL ES backend in compatibility mode is the fallback (headless Mesa:
 * EGL_PLATFORM=surfaceless), which runs on CPUs too, slowly, and matches wasm (checked in CI). The
 * device asks for every one of the adapter's own limits, not WebGPU's defaults: tfjs-webgpu compiles
 * 256- and 512-wide workgroups (reductions, MatMulReduceProgram, broadcasting binary ops) and binds up to
 * 8+ storage buffers, above the defaults (compatibility level: 128 invocations per workgroup); over a
 * limit the pipeline fails validation and tfjs silently reads back zeros (tools/webgpu/probe.mjs
 * --gl --default-limits shows it).
 */
export async function registerDawnWebGpu(opts: { allowSoftware: boolean }): Promise<DawnAdapter> {
  const dawn = await loadDawn();
  Object.assign(globalThis, dawn.globals);
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  let gpu = dawnInstance(dawn, []);
  let adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  let via = 'Dawn default';
  // Mesa 22.3's lavapipe (Debian 12 mesa-vulkan-drivers) is no default adapter: Dawn rejects it,
  // "Vulkan shaderUniform*ArrayDynamicIndexing required" (checked with Dawn 0.6.2).
  if ((!adapter || SOFTWARE.test(describe(adapter.info, ''))) && opts.allowSoftware) {
    process.env.EGL_PLATFORM ??= 'surfaceless';
    gpu = dawnInstance(dawn, ['backend=opengles']);
    adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' } as never);
    via = 'Dawn OpenGL ES, compatibility';
  }
  if (!adapter) {
    throw new Error(
      opts.allowSoftware
        ? 'Dawn found no WebGPU adapter, neither a GPU nor OpenGL ES (Mesa: apt-get install libegl-mesa0 libgles2 libgl1-mesa-dri)'
        : 'Dawn found no hardware WebGPU adapter (--backend webgpu also tries its OpenGL ES path: Mesa llvmpipe, slow)',
    );
  }
  const description = describe(adapter.info, via);
  const software = SOFTWARE.test(description) || via !== 'Dawn default';
  if (software && !opts.allowSoftware) throw new Error(`only a software adapter: ${description}`);
  const requiredLimits: Record<string, number> = {};
  for (const key in adapter.limits)
    requiredLimits[key] = adapter.limits[key as keyof GPUSupportedLimits] as number;
  const device = await adapter.requestDevice({ requiredLimits });
  let errors = 0;
  device.addEventListener('uncapturederror', (event) => {
    if (errors++ === 0)
      console.error(
        `webgpu: Dawn reported an error, results are wrong from here on: ${(event as GPUUncapturedErrorEvent).error.message.split('\n')[0]}`,
      );
  });
  // tfjs-webgpu checks navigator.gpu (Node 20 has no navigator; Node 21+ has one without gpu).
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (!nav)
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  class NodeWebGPUBackend extends WebGPUBackend {
    override readSync(dataId: object): tf.BackendValues {
      const data = this.tensorMap.get(dataId);
      if (data.values == null && data.dtype !== 'string' && data.dtype !== 'complex64')
        throw new GpuResidentRead(dataId);
      return super.readSync(dataId);
    }
  }
  tf.registerBackend('webgpu', () => new NodeWebGPUBackend(device, adapter.info));
  return { description, software, errors: () => errors };
}
