/**
 * Software rasterisers that browsers fall back to without a usable GPU: correct, but on a CPU they
 * are far slower than the wasm backend (measured here: 8,014 ms per image on SwiftShader WebGL vs
 * 143 ms on wasm), so the page passes them over unless asked for by name.
 */
const SOFTWARE =
  /swiftshader|llvmpipe|lavapipe|softpipe|software (rasterizer|renderer|adapter)|microsoft basic render/i;

/** Why a WebGL renderer or WebGPU adapter is software (undefined when it looks like a real GPU). */
export function softwareReason(
  description: string | undefined,
  isFallbackAdapter = false,
): string | undefined {
  if (isFallbackAdapter) return `a fallback (software) adapter${description ? ` (${description})` : ''}`;
  if (description && SOFTWARE.test(description)) return `a software renderer (${description})`;
  return undefined;
}

/** The unmasked WebGL renderer string, as WEBGL_debug_renderer_info reports it (undefined if hidden). */
export function webglRenderer(): string | undefined {
  const canvas = document.createElement('canvas');
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
  if (!gl) return undefined;
  try {
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : String(gl.getParameter(gl.RENDERER));
  } finally {
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
}

interface AdapterLike {
  isFallbackAdapter?: boolean;
  info?: {
    vendor?: string;
    architecture?: string;
    device?: string;
    description?: string;
    isFallbackAdapter?: boolean;
  };
}

/**
 * What the WebGPU adapter is: its description and whether it is a fallback adapter. Asked before
 * the backend starts (an adapter requested while the backend runs breaks its buffers in Chromium).
 */
export async function webgpuAdapter(gpu: {
  requestAdapter(): Promise<unknown>;
}): Promise<{ description: string; isFallbackAdapter: boolean } | undefined> {
  const adapter = (await gpu.requestAdapter().catch(() => null)) as AdapterLike | null;
  if (!adapter) return undefined;
  const info = adapter.info ?? {};
  const description = [info.vendor, info.architecture, info.device, info.description]
    .filter(Boolean)
    .join(' ');
  return { description, isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter) };
}
