import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, test } from 'vitest';
import { attnCommand } from '../src/commands/attn';
import { dictionaryCommand } from '../src/commands/dictionary';
import { cifar, mobilenet, realDataReady, trainTinyCifarRun } from './helpers';

// A real (tiny) run on CIFAR-10 with the MobileNet teacher, then the symbol dictionary and the
// interpretability measurements of `attn`, checked for internal bookkeeping against the run itself.
const ready = realDataReady('dictionary tests');

describe.skipIf(!ready)('dictionary and attention measurements of a trained run', () => {
  const run = join(mkdtempSync(join(tmpdir(), 'symseq-dict-')), 'run');
  const common = { run, backend: 'wasm', quiet: true, dataDir: cifar, teacher: mobilenet };

  test('dictionary: every use of every symbol is counted once; atlas and self-contained page written', async () => {
    await trainTinyCifarRun(run, ['optim.batchSize=50']);
    const r = await dictionaryCommand({ ...common, perClass: 3, top: 2, atlasRows: 5 });
    expect(r.images).toBe(30);
    const dict = JSON.parse(readFileSync(r.json, 'utf8'));
    const L = dict.length;
    expect(L).toBe(8);
    type Entry = {
      symbol: number;
      count: number;
      images: number;
      positions: number[];
      classMix: number[];
      meanMap: number[];
      top: { confidence: number; index: number; position: number }[];
    };
    const entries = dict.entries as Entry[];
    expect(entries.length).toBe(r.symbols);
    // 30 images × 8 positions uses in all, split by position (30 each) and by class (3 · 8 each)
    expect(entries.reduce((a, e) => a + e.count, 0)).toBe(30 * L);
    for (let t = 0; t < L; t++) expect(entries.reduce((a, e) => a + e.positions[t], 0)).toBe(30);
    for (let c = 0; c < 10; c++) expect(entries.reduce((a, e) => a + e.classMix[c], 0)).toBe(3 * L);
    for (const e of entries) {
      expect(e.positions.reduce((a, b) => a + b, 0)).toBe(e.count);
      expect(e.images).toBeLessThanOrEqual(e.count);
      expect(e.meanMap).toHaveLength(64); // the 8×8 grid of conv_pw_11_relu at 128 px (cpu preset)
      // confidences are softmax probabilities, most confident first, one use per image
      const conf = e.top.map((o) => o.confidence);
      expect(conf).toEqual([...conf].sort((a, b) => b - a));
      for (const c of conf) expect(c > 0 && c <= 1).toBe(true);
      expect(new Set(e.top.map((o) => o.index)).size).toBe(e.top.length);
    }
    // most used first
    expect(entries.map((e) => e.count)).toEqual(entries.map((e) => e.count).sort((a, b) => b - a));
    const atlas = PNG.sync.read(readFileSync(r.png));
    expect(atlas.height).toBeGreaterThan(5 * 64);
    expect(atlas.height).toBeLessThan(6 * 90);
    const html = readFileSync(r.html, 'utf8');
    expect(html.match(/<tr id="s\d+">/g)).toHaveLength(entries.length);
    expect(html).not.toMatch(/src="(?!data:image\/png;base64,)/);
    expect(html).toContain('airplane');
  });

  test('attn adds distinctness, consistency with intervals, faithfulness and the prefix tree to the report', async () => {
    await attnCommand({ ...common, perClass: 1, consistencyPerClass: 4, faithfulnessPerClass: 2 });
    const md = readFileSync(join(run, 'attention', 'interpretability.md'), 'utf8');
    const json = JSON.parse(readFileSync(join(run, 'attention', 'interpretability.json'), 'utf8'));
    expect(json.distinctness.count).toBe(40);
    expect(json.consistency.perClass).toHaveLength(10);
    // 2 images per class × 8 positions, each occluded once where it looks and once at random
    expect(json.faithfulness.attended.n).toBe(2 * 10 * 8);
    expect(json.faithfulness.random.n).toBe(2 * 10 * 8);
    expect(json.prefix.student).toHaveLength(8);
    // depth-1 groups of the 100 test images: at most 100 of them, purity at least the largest class's share
    expect(json.prefix.student[0].distinctPrefixes).toBeLessThanOrEqual(100);
    expect(json.prefix.student[0].purity).toBeGreaterThanOrEqual(0.1);
    expect(md).toContain('**Faithfulness**');
    expect(md).toMatch(/Birds vs ships: /);
    const report = readFileSync(join(run, 'report.md'), 'utf8');
    expect(report).toContain('## Interpretability');
    // run twice: the section is replaced, not repeated
    await attnCommand({ ...common, perClass: 1, consistencyPerClass: 4, faithfulnessPerClass: 2 });
    expect(readFileSync(join(run, 'report.md'), 'utf8').match(/## Interpretability/g)).toHaveLength(1);
    expect(readFileSync(join(run, 'attention', 'prefix-purity.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>$/);
  });
});
