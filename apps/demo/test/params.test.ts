import { describe, expect, it } from 'vitest';
import { readPageParams } from '../src/params';

describe('readPageParams', () => {
  it('defaults to ./model/ beside the page and to trying every backend', () => {
    expect(readPageParams('http://127.0.0.1:5173/demo/index.html')).toEqual({
      backend: undefined,
      modelUrl: 'http://127.0.0.1:5173/demo/model/',
    });
  });

  it('reads ?backend= and ?model= (a folder with or without the slash, or its manifest.json)', () => {
    const page = 'https://example.org/symseq/?backend=wasm&model=';
    expect(readPageParams(`${page}exports/run1`)).toEqual({
      backend: 'wasm',
      modelUrl: 'https://example.org/symseq/exports/run1/',
    });
    expect(readPageParams(`${page}/m/`).modelUrl).toBe('https://example.org/m/');
    expect(readPageParams(`${page}https://cdn.example.com/x/manifest.json`).modelUrl).toBe(
      'https://cdn.example.com/x/',
    );
  });

  it('names the unknown backend and the known ones', () => {
    expect(() => readPageParams('http://h/?backend=webgl2')).toThrow(
      '?backend=webgl2 is not a TensorFlow.js backend this page knows; use one of webgpu, webgl, wasm, cpu',
    );
  });
});
