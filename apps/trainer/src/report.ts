import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@symseq/data';
import { baselineSeries } from './baselines';
import type { TrainConfig } from './config';
import type { EvalResult } from './evaluation';
import { accuracyVsLengthSvg, PAPER_CIFAR10 } from './plot';

export interface RunFacts {
  backend: string;
  teacherId: string;
  trainImages: number;
  testImages: number;
  steps?: number;
  trainSeconds?: number;
  featureSeconds?: number;
  finalLoss?: number;
  command?: string;
  /** Images skipped as unreadable (all of them, with why). */
  skipped?: { file: string; reason: string }[];
}

/** What `train` knows of a run beyond the data: steps, seconds, final loss. */
export const TRAINING_FACTS = ['steps', 'trainSeconds', 'featureSeconds', 'finalLoss'] as const;
export type TrainingFacts = Pick<RunFacts, (typeof TRAINING_FACTS)[number]>;

/** "7.22 distinct symbols per 8-symbol sequence": the report's and the commands' wording of it. */
export const distinctSymbolsPhrase = (usage: EvalResult['usage']): string =>
  `${usage.distinctPerSequence.toFixed(2)} distinct symbols per ${usage.length}-symbol sequence`;

/** The line `train` and `eval` end with: the teacher's ceiling and how varied the symbols are. */
export const summaryLine = (r: EvalResult): string =>
  `teacher ceiling: ${r.teacher.top1.toFixed(2)}% top-1; ${distinctSymbolsPhrase(r.usage)}`;

/**
 * What the run's earlier report says of its training (steps, seconds, loss), so that `eval`, which rewrites
 * the report, keeps the training line. None when there is no report.json; a report that cannot be read
 * gives none and a warning naming it, never a failed evaluation.
 */
export function trainingFactsOf(runDir: string, warn: (msg: string) => void = console.warn): TrainingFacts {
  const file = join(runDir, 'report.json');
  if (!existsSync(file)) return {};
  try {
    const facts = JSON.parse(readFileSync(file, 'utf8'))?.facts ?? {};
    const out: TrainingFacts = {};
    for (const k of TRAINING_FACTS) {
      if (typeof facts[k] === 'number' && Number.isFinite(facts[k])) out[k] = facts[k];
    }
    return out;
  } catch (e) {
    warn(`${file}: not a readable report (${(e as Error).message}); the new report has no training line`);
    return {};
  }
}

/** The k-NN table as Markdown, one row per prefix length. */
export function resultTable(r: EvalResult): string {
  const lines = [
    '| symbols | k-NN top-1 | k-NN top-5 | symbolic k-NN top-1 | NMI(prefix, class) | perplexity at position |',
    '|---:|---:|---:|---:|---:|---:|',
    ...r.rows.map(
      (x) =>
        `| ${x.length} | ${x.top1.toFixed(2)}% | ${x.top5.toFixed(2)}% | ${x.symbolicTop1.toFixed(2)}% | ${x.nmi.toFixed(3)} | ${x.perplexity.toFixed(1)} |`,
    ),
  ];
  return lines.join('\n');
}

/** The extra rows (baselines, other probes) as Markdown: one row per method and length, metrics as columns. */
export function extraTable(r: EvalResult): string {
  if (!r.extra.length) return '';
  const metrics = [...new Set(r.extra.flatMap((x) => Object.keys(x)))].filter(
    (k) => !['method', 'length', 'top1'].includes(k),
  );
  const cell = (v: unknown) => (typeof v === 'number' ? v.toFixed(2) : String(v ?? '–'));
  return [
    `| method | symbols | k-NN top-1 |${metrics.map((m) => ` ${m} |`).join('')}`,
    `|---|---:|---:|${metrics.map(() => '---:|').join('')}`,
    ...r.extra.map(
      (x) =>
        `| ${x.method} | ${x.length} | ${x.top1.toFixed(2)}% |${metrics.map((m) => ` ${cell(x[m])} |`).join('')}`,
    ),
  ].join('\n');
}

export async function writeReport(
  out: string,
  config: TrainConfig,
  r: EvalResult,
  facts: RunFacts,
): Promise<void> {
  const disc = config.student.discretizer.kind;
  const paper = PAPER_CIFAR10.map(([l, a]) => `${a}% at ${l}`).join(', ');
  // The paper's numbers are CIFAR-10's: compared only on CIFAR-10.
  const onCifar10 = config.data.dataset === 'cifar10';
  const md = [
    `# symseq run: ${config.name} on ${datasetName(config)}`,
    '',
    `Teacher \`${facts.teacherId}\`, discretizer \`${disc}\`, objective \`${config.objective.kind}\`, backend \`${facts.backend}\`.`,
    `k-NN (k=${config.eval.k}, T=${config.eval.temperature}, cosine): bank = ${r.bank} training images, queries = ${r.queries} test images.`,
    '',
    resultTable(r),
    '',
    `Teacher ceiling (k-NN on its pooled features): top-1 ${r.teacher.top1.toFixed(2)}%, top-5 ${r.teacher.top5.toFixed(2)}%.`,
    `Symbol usage on the test set: ${r.usage.used}/${r.usage.vocab} symbols used, perplexity ${r.usage.perplexity.toFixed(1)}, on average ${distinctSymbolsPhrase(r.usage)}.`,
    onCifar10 ? `Paper (arXiv 2503.04900, ViT-B/16 DINO teacher, CIFAR-10): ${paper}.` : '',
    '',
    facts.steps !== undefined
      ? `Training: ${facts.steps} steps in ${(facts.trainSeconds ?? 0).toFixed(0)} s, final loss ${facts.finalLoss?.toFixed(4)}.`
      : '',
    facts.command ? `Command: \`${facts.command}\`` : '',
    '',
    ...(r.extra.length ? ['Other methods on the same features:', '', extraTable(r), ''] : []),
    ...(facts.skipped?.length
      ? [
          `Skipped ${facts.skipped.length} unreadable image(s):`,
          '',
          ...facts.skipped.map((f) => `- \`${f.file}\`: ${f.reason}`),
          '',
        ]
      : []),
    '![accuracy vs length](accuracy.svg)',
    '',
  ].join('\n');
  await writeFileAtomic(join(out, 'report.md'), md);
  await writeJsonAtomic(join(out, 'report.json'), {
    config,
    facts,
    result: r,
    paper: onCifar10 ? PAPER_CIFAR10 : null,
  });
  const svg = accuracyVsLengthSvg(
    [
      { label: `symseq (${disc})`, points: r.rows.map((x) => [x.length, x.top1]), colour: '#1f77b4' },
      { label: 'symbolic k-NN', points: r.rows.map((x) => [x.length, x.symbolicTop1]), colour: '#2ca02c' },
      {
        label: 'teacher ceiling',
        points: r.rows.map((x) => [x.length, r.teacher.top1]),
        colour: '#7f7f7f',
        dashed: true,
      },
      ...(onCifar10
        ? [{ label: 'paper (ViT-B/16)', points: PAPER_CIFAR10, colour: '#d62728', dashed: true }]
        : []),
      ...baselineSeries(r.extra),
    ],
    `k-NN accuracy vs symbols — ${config.name} on ${datasetName(config)}`,
  );
  await writeFileAtomic(join(out, 'accuracy.svg'), svg);
}

/** The dataset as a reader names it: CIFAR-10, or the image folder's name. */
export function datasetName(config: TrainConfig): string {
  if (config.data.dataset === 'cifar10') return 'CIFAR-10';
  return `image folder '${basename(resolve(config.data.dir ?? '.'))}'`;
}
