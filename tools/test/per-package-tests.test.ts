import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

// `npm test -w @symseq/<name>` runs that package's tests with the backend set up (wasm, and the
// *.numeric files again on cpu) whatever the working directory: here, another package's folder.
const root = fileURLToPath(new URL('../..', import.meta.url));

test('npm test -w @symseq/nn, started from packages/decoder/test, runs nn tests on wasm and cpu', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.SYMSEQ_BACKEND; // the package's own config must choose it, not the parent run
  delete env.FORCE_COLOR;
  const r = spawnSync('npm', ['test', '-w', '@symseq/nn', '--', 'test/normalize.numeric.test.ts'], {
    cwd: `${root}packages/decoder/test`,
    encoding: 'utf8',
    env,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  expect(out).not.toMatch(/No backend found/);
  expect(out).toMatch(/\|wasm\| test\/normalize\.numeric\.test\.ts \(2 tests\)/);
  expect(out).toMatch(/\|cpu\| test\/normalize\.numeric\.test\.ts \(2 tests\)/);
  expect(out).toMatch(/Tests {2}4 passed \(4\)/);
  expect(r.status, out.slice(-2000)).toBe(0);
}, 180_000);
