import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BASELINE_GROUPS, baselineRows, baselineRowsInWorkers, baselineSeries } from '../src/baselines';
import { encodeAll, evaluate, evaluateRun, PARALLEL_BASELINES_MIN_IMAGES } from '../src/evaluation';
import { trainingFactsOf } from '../src/report';
import { train } from '../src/train';
import { syntheticFeatures, tinyConfig } from './helpers';

describe('baseline rows of the evaluation', () => {
  test('residual k-means and PQ per length with mAP@R, on the run’s own features, seeded', async () => {
    const config = tinyConfig('unused'); // vocabulary 8, lengths 1, 2, 4, k 5
    const train = syntheticFeatures(160, 0);
    const test = syntheticFeatures(40, 1);
    const ctx = { config, train, test, lengths: [1, 2, 4], quiet: true };
    const rows = await baselineRows(ctx);
    expect(rows.map((r) => [r.method, r.length])).toEqual([
      ['teacher pooled features', 0],
      ['residual k-means', 1],
      ['residual k-means', 2],
      ['residual k-means', 4],
      ['product quantization', 1],
      ['product quantization', 2],
      ['product quantization', 4],
    ]);
    // mAP@R is capped at the 160 training images.
    for (const r of rows) {
      expect(r['mAP@160'], r.method).toBeGreaterThan(0);
      expect(r['mAP@160'], r.method).toBeLessThanOrEqual(100);
      expect(r.top1).toBeGreaterThanOrEqual(0);
    }
    // Four well-separated classes (synthetic prototypes): the continuous features are nearly perfect,
    // and 8 centroids already separate the 4 classes at one symbol.
    expect(rows[0].top1).toBeGreaterThan(95);
    expect(rows[1].top1).toBeGreaterThan(90);
    expect(await baselineRows(ctx)).toEqual(rows); // same seed, same rows

    // In worker threads (one per method group, as train and eval run them beside the student): the same rows.
    expect(BASELINE_GROUPS.flat().sort()).toEqual(['product-quantization', 'residual-kmeans', 'teacher']);
    expect(await baselineRowsInWorkers(ctx)).toEqual(rows);
    expect(
      await baselineRowsInWorkers(ctx, [['teacher'], ['residual-kmeans'], ['product-quantization']]),
    ).toEqual(rows);
    // A worker's failure names the worker and what went wrong.
    await expect(baselineRowsInWorkers({ ...ctx, lengths: [] })).rejects.toThrow(
      /baseline worker [12]\/2 \([a-z, -]+\): invalid codeBaselines options:\s+lengths: Array must contain at least 1/,
    );

    const series = baselineSeries(rows);
    expect(series.map((s) => s.label)).toEqual(['residual k-means', 'product quantization']);
    expect(series[0].points).toEqual(rows.slice(1, 4).map((r) => [r.length, r.top1]));
  });
});

describe('the run report', () => {
  const facts = { backend: 'wasm', teacherId: 'synthetic', trainImages: 64, testImages: 32 };

  test('report.md / report.json / accuracy.svg carry the student and the baselines side by side, with mAP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'symseq-baselines-'));
    const config = tinyConfig(dir, { optim: { epochs: 1 } });
    const data = syntheticFeatures(64);
    const testSet = syntheticFeatures(32, 5);
    const run = await train(config, data, { quiet: true, log: () => {} });
    const { result } = await evaluateRun(dir, config, run.student, data, testSet, facts, { quiet: true });
    // The teacher ceiling evaluate() measures itself (bank in its own shuffled order) is the baselines'
    // teacher row, which the parallel evaluation takes instead of a second pass; a given one is taken as is.
    const own = await evaluate(run.student, data, testSet, { lengths: [1], k: 5, T: 0.07, quiet: true });
    const teacherRow = result.extra.find((r) => r.method === 'teacher pooled features');
    expect([own.teacher.top1, own.teacher.top5]).toEqual([teacherRow?.top1, teacherRow?.top5]);
    expect(result.teacher).toEqual(own.teacher);
    const given = { top1: 12.5, top5: 50 };
    const reused = await evaluate(run.student, data, testSet, {
      lengths: [1],
      k: 5,
      T: 0.07,
      quiet: true,
      teacher: Promise.resolve(given),
    });
    expect(reused.teacher).toEqual(given);
    // Distinct symbols per test sequence, counted here from the student's own symbols.
    const enc = await encodeAll(run.student, testSet, [4], { quiet: true });
    run.student.dispose();
    let distinct = 0;
    for (let i = 0; i < testSet.count; i++) distinct += new Set(enc.symbols.subarray(i * 4, i * 4 + 4)).size;
    expect(result.usage.length).toBe(4);
    expect(result.usage.distinctPerSequence).toBeCloseTo(distinct / testSet.count, 12);
    const methods = result.extra.map((r) => `${r.method}@${r.length}`);
    expect(methods).toEqual([
      'student@1',
      'student@2',
      'student@4',
      'teacher pooled features@0',
      'residual k-means@1',
      'residual k-means@2',
      'residual k-means@4',
      'product quantization@1',
      'product quantization@2',
      'product quantization@4',
    ]);
    // The student's extra rows repeat its k-NN table and add mAP@R (R capped at the 64 training images).
    result.rows.forEach((row, i) => {
      expect(result.extra[i].top1).toBe(row.top1);
    });
    for (const r of result.extra) expect(r['mAP@64'], r.method).toBeGreaterThan(0);

    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toContain(
      `on average ${result.usage.distinctPerSequence.toFixed(2)} distinct symbols per 4-symbol sequence`,
    );
    expect(md).toContain('| method | symbols | k-NN top-1 | top5 | mAP@64 |');
    expect(md).toMatch(/\| residual k-means \| 4 \| \d+\.\d\d% \|/);
    expect(md).toMatch(/\| product quantization \| 1 \| \d+\.\d\d% \|/);
    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(json.result.extra).toHaveLength(10);
    const svg = readFileSync(join(dir, 'accuracy.svg'), 'utf8');
    expect(svg).toContain('>residual k-means<');
    expect(svg).toContain('>product quantization<');
  });

  test('with the baselines in workers (4,096 images and more), the teacher ceiling is their teacher row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'symseq-baselines-'));
    const config = tinyConfig(dir, { optim: { epochs: 1 } });
    const run = await train(config, syntheticFeatures(64), { quiet: true, log: () => {} });
    const big = syntheticFeatures(PARALLEL_BASELINES_MIN_IMAGES, 3);
    const testSet = syntheticFeatures(256, 4);
    const { result } = await evaluateRun(dir, config, run.student, big, testSet, facts, { quiet: true });
    const own = await evaluate(run.student, big, testSet, { lengths: [1], k: 5, T: 0.07, quiet: true });
    run.student.dispose();
    const row = result.extra.find((r) => r.method === 'teacher pooled features');
    expect(result.teacher).toEqual({ top1: row?.top1, top5: row?.top5 });
    expect(result.teacher).toEqual(own.teacher);
  });

  test('trainingFactsOf: the training line of an earlier report.json; none (and a warning) for a broken one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'symseq-facts-'));
    const warnings: string[] = [];
    expect(trainingFactsOf(dir, (m) => warnings.push(m))).toEqual({});
    writeFileSync(
      join(dir, 'report.json'),
      JSON.stringify({ facts: { steps: 12, trainSeconds: 3.5, finalLoss: 'x', backend: 'wasm' } }),
    );
    expect(trainingFactsOf(dir, (m) => warnings.push(m))).toEqual({ steps: 12, trainSeconds: 3.5 });
    expect(warnings).toEqual([]);
    writeFileSync(join(dir, 'report.json'), '{"facts": {"steps": 1');
    expect(trainingFactsOf(dir, (m) => warnings.push(m))).toEqual({});
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(join(dir, 'report.json'));
    expect(warnings[0]).toContain('not a readable report');
  });

  test('eval.baselines = false leaves them out (and the student mAP)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'symseq-baselines-'));
    const config = { ...tinyConfig(dir, { optim: { epochs: 1 } }) };
    config.eval = { ...config.eval, baselines: false };
    const data = syntheticFeatures(64);
    const run = await train(config, data, { quiet: true, log: () => {} });
    const { result } = await evaluateRun(dir, config, run.student, data, syntheticFeatures(32, 5), facts, {
      quiet: true,
    });
    run.student.dispose();
    expect(result.extra).toEqual([]);
    expect(readFileSync(join(dir, 'accuracy.svg'), 'utf8')).not.toContain('residual k-means');
  });
});
