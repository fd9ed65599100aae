import { createRequire } from 'node:module';
import type { Plugin } from 'esbuild';
import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

const core = createRequire(import.meta.url)('@tensorflow/tfjs-core') as Record<string, unknown>;
const coreDist = /[\\/]@tensorflow[\\/]tfjs-core[\\/]dist[\\/]/;
// tfjs-core's internal modules that gradient configs import, as the public namespace that holds their
// exports ('' = the top level: ops, kernel names, backend_util).
const publicNamespace: Record<string, string> = {
  util: 'util',
  'ops/broadcast_util': 'broadcast_util',
  'ops/axis_util': 'backend_util',
  'ops/slice_util': 'slice_util',
};

/**
 * Bundles only tfjs-core's gradient configs into register-gradients: every other module they import
 * (ops, kernel names, utils) becomes an import of the public '@tensorflow/tfjs-core' entry, so the
 * user's one copy of tfjs-core (its engine and gradient registry) is the one used, and nothing of
 * tfjs-core is duplicated. A module with no public equivalent fails the build.
 */
const tfjsCorePublicApi: Plugin = {
  name: 'tfjs-core-public-api',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!coreDist.test(args.importer) || args.path.startsWith('./')) return undefined;
      const module = args.path.replace(/^\.\.\//, '').replace(/\.js$/, '');
      // Ops, kernel names and backend_util are all top-level exports: one virtual module for them.
      const top = /^(ops\/[a-z0-9_]+|kernel_names|base)$/.test(module) && !publicNamespace[module];
      return { path: top ? 'top-level' : module, namespace: 'tfjs-core-public' };
    });
    build.onLoad({ filter: /.*/, namespace: 'tfjs-core-public' }, (args) => {
      const ns = publicNamespace[args.path];
      if (ns) {
        // One statement per name, so the bundle's tree shaking drops the unused ones.
        const lines = Object.keys(core[ns] as object).map((name) => `export const ${name} = ns.${name};`);
        return { contents: `import { ${ns} as ns } from '@tensorflow/tfjs-core';\n${lines.join('\n')}` };
      }
      if (args.path === 'engine') {
        return {
          contents: `import { engine } from '@tensorflow/tfjs-core';\nexport const ENGINE = engine();`,
        };
      }
      if (args.path === 'top-level') {
        return { contents: `export * from '@tensorflow/tfjs-core';` };
      }
      return { errors: [{ text: `no public tfjs-core export for internal module '${args.path}'` }] };
    });
  },
};

export default defineConfig(
  packageBuild({
    entry: ['src/index.ts', 'src/register-gradients.ts'],
    noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
    esbuildPlugins: [tfjsCorePublicApi],
  }),
);
