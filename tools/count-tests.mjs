#!/usr/bin/env node
// Prints the plain closing line CI reads ("N passed, N failed[, N skipped]") from vitest's JSON report.
// A missing report (the build or lint failed before vitest ran) counts as one failure.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-results.json';
if (!existsSync(file)) {
  console.log(`no test report at ${file}: the build, typecheck or lint step failed before the tests ran`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const passed = r.numPassedTests ?? 0;
// A test file that fails to load has no test results but must still count as a failure.
const brokenFiles = (r.testResults ?? []).filter(
  (f) => f.status === 'failed' && f.assertionResults.length === 0,
).length;
const failed = (r.numFailedTests ?? 0) + brokenFiles;
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
