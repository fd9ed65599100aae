import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// src/browser.ts is what browser bundles resolve instead (package.json `browser`): an error saying why.
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/browser.ts'] }));
