import type { Options } from 'tsup';

/** Build options shared by every package: ESM + CJS + .d.ts from src/index.ts. */
export function packageBuild(extra: Partial<Options> = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    splitting: false,
    treeshake: true,
    ...extra,
  };
}
