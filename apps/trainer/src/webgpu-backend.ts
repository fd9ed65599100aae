import * as tf from '@tensorflow/tfjs-core';

/** Adapters that are CPU rasterisers, not GPUs (Mesa llvmpipe/lavapipe/softpipe, SwiftShader). */
const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software/i;

export interface DawnAdapter {
  /** What the adapter says it is, e.g. "NVIDIA H200 (vulkan)" or "OpenGL ES 3.2 Mesa 22.3.6". */
  description: string;
  /** A software rasteriser, or Dawn's OpenGL ES path (compatibility mode: Mesa here), not a known GPU. */
  software: boolean;
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

function describe(info: GPUAdapterInfo | undefined, via: string): string {
  const parts = [info?.vendor, info?.architecture, info?.description].filter((s) => s);
  return `${parts.join(' ') || 'unnamed adapter'} (${via})`;
}

/**
 * Registers TensorFlow.js's `webgpu` backend on a Dawn device (the `webgpu` npm package; its
 * dawn.node ships prebuilt). Dawn's default adapter (Vulkan, Metal, D3D12) comes first; with
 * `allowSoftware`, Dawn's OpenGL ES backend in compatibility mode is the fallback (headless Mesa:
 * EGL_PLATFORM=surfaceless), which runs on CPUs too, slowly — correct enough for CI. The device asks for
 * the adapter's own limits (storage buffers per stage, buffer sizes), not WebGPU's defaults.
 */
export async function registerDawnWebGpu(opts: { allowSoftware: boolean }): Promise<DawnAdapter> {
  const dawn = await loadDawn();
  Object.assign(globalThis, dawn.globals);
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  let gpu = dawn.create([]);
  let adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  let via = 'Dawn default';
  if ((!adapter || SOFTWARE.test(describe(adapter.info, ''))) && opts.allowSoftware) {
    process.env.EGL_PLATFORM ??= 'surfaceless';
    gpu = dawn.create(['backend=opengles']);
    adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' } as never);
    via = 'Dawn OpenGL ES, compatibility';
  }
  if (!adapter) {
    throw new Error(
      opts.allowSoftware
        ? 'Dawn found no WebGPU adapter, neither a GPU nor OpenGL ES (Mesa: apt-get install libegl-mesa0 libgles2 libgl1-mesa-dri)'
        : 'Dawn found no hardware WebGPU adapter (SYMSEQ_WEBGPU_SOFTWARE=1 allows its OpenGL ES path, which gave wrong matMuls on Mesa llvmpipe)',
    );
  }
  const description = describe(adapter.info, via);
  const software = SOFTWARE.test(description) || via !== 'Dawn default';
  if (software && !opts.allowSoftware) throw new Error(`only a software adapter: ${description}`);
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  });
  // tfjs-webgpu checks navigator.gpu (Node 20 has no navigator; Node 21+ has one without gpu).
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (!nav)
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  // On Dawn's OpenGL ES path (Mesa llvmpipe here) tfjs-webgpu's MatMulReduceProgram, its choice for
  // small outputs, returns zeros (measured: [2,3]·[3,2] → 0); the packed program (type 3) is right.
  if (via !== 'Dawn default') tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', 3);
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info));
  return { description, software };
}
