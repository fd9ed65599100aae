// Summarises the runs of compare-discretizers.sh: k-NN per length next to the code baselines, and the
// interpretability numbers of `symseq attn`, one Markdown table per topic (written to <root>/compare.md).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2] ?? 'runs/compare';
const names = ['temperature', 'gumbel', 'vq'];
const read = (p) => JSON.parse(readFileSync(p, 'utf8'));
const pct = (x) => (x === undefined ? '–' : `${(+x).toFixed(2)}`);
const out = [`# Discretizers on the finer grid (${root})`, ''];

const reports = Object.fromEntries(names.map((n) => [n, read(join(root, n, 'report.json'))]));
const first = reports.temperature.result;
const lengths = first.rows.map((r) => r.length);
out.push(`k-NN top-1 (%), bank ${first.bank} / queries ${first.queries}:`, '');
out.push(`| | ${lengths.join(' | ')} |`, `|---|${lengths.map(() => '---:').join('|')}|`);
for (const n of names) out.push(`| ${n} | ${reports[n].result.rows.map((r) => pct(r.top1)).join(' | ')} |`);
const methods = [...new Set((first.extra ?? []).map((x) => x.method))].filter((m) => m !== 'student' && m);
for (const m of methods) {
  const at = (l) => (first.extra ?? []).find((x) => x.method === m && x.length === l)?.top1;
  out.push(`| ${m} (same data) | ${lengths.map((l) => pct(at(l))).join(' | ')} |`);
}
out.push(`| teacher ceiling | ${pct(first.teacher.top1)} | | | |`, '');

out.push('Interpretability (`symseq attn`):', '');
out.push(
  '| | distinctness mean (1 = all maps alike) | symbol-id consistency (shuffled) | faithfulness: attended vs random occlusion changes the symbol | prefix purity depth 1 / 2 / 3 | birds rank / ships rank |',
  '|---|---:|---:|---:|---:|---:|',
);
for (const n of names) {
  const d = read(join(root, n, 'attention', 'interpretability.json'));
  const cls = d.classes;
  const rank = (c) => d.consistency.ranking.indexOf(cls.indexOf(c)) + 1;
  const f = d.faithfulness;
  const p = d.prefix.student;
  out.push(
    `| ${n} | ${d.distinctness.mean.toFixed(3)} | ${d.consistency.symbolMean.score.toFixed(3)} (${d.consistency.symbolMean.baseline.toFixed(3)}) | ${f ? `${(100 * f.attended.rate).toFixed(1)} % vs ${(100 * f.random.rate).toFixed(1)} %` : '–'} | ${p
      .slice(0, 3)
      .map((r) => `${(100 * r.purity).toFixed(1)} %`)
      .join(' / ')} | ${rank('bird')} / ${rank('ship')} of ${cls.length} |`,
  );
}
const text = `${out.join('\n')}\n`;
writeFileSync(join(root, 'compare.md'), text);
process.stdout.write(text);
