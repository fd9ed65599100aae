import { describe, expect, it } from 'vitest';
import { softwareReason } from '../src/gpu-check';

describe('softwareReason', () => {
  it('names the software renderers browsers fall back to', () => {
    // strings as Chromium, Firefox (Mesa) and Windows report them
    const chromium =
      'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
    expect(softwareReason(chromium)).toBe(`a software renderer (${chromium})`);
    expect(softwareReason('llvmpipe (LLVM 15.0.6, 256 bits)')).toMatch(/software renderer/);
    expect(softwareReason('ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11)')).toMatch(/software/);
    expect(softwareReason('google swiftshader')).toMatch(/software/);
    expect(softwareReason('mesa lavapipe')).toMatch(/software/);
  });

  it('passes real GPUs and says when an adapter is a fallback one', () => {
    expect(
      softwareReason('ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0)'),
    ).toBeUndefined();
    expect(softwareReason('Mesa Intel(R) UHD Graphics 620 (KBL GT2)')).toBeUndefined();
    expect(softwareReason('Apple M2')).toBeUndefined();
    expect(softwareReason(undefined)).toBeUndefined();
    expect(softwareReason('', true)).toBe('a fallback (software) adapter');
    expect(softwareReason('nvidia ampere', true)).toBe('a fallback (software) adapter (nvidia ampere)');
  });
});
