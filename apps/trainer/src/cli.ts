import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { attnCommand } from './commands/attn';
import { dictionaryCommand } from './commands/dictionary';
import { encodeCommand } from './commands/encode';
import { evalCommand } from './commands/eval';
import { exportCommand } from './commands/export';
import { featuresCommand } from './commands/features';
import { trainCommand } from './commands/train';
import { defaultWorkers } from './feature-workers';

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number, got '${v}'`);
  return n;
};
const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a whole number >= 1, got '${v}'`);
  return n;
};
const workersOption = () =>
  new Option(
    '--workers <n>',
    `threads, each with its own backend: teacher feature extraction (default: all ${defaultWorkers()} cores) and, for train, data-parallel replicas (default: all cores on wasm/cpu, 1 on webgpu/tfjs-node)`,
  ).argParser(positive);
const positiveNumber = (v: string) => {
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError(`expected a number > 0, got '${v}'`);
  return n;
};
const collect = (v: string, prev: string[] = []) => [...prev, v];
/** The trainer's package.json: beside src/ and dist/ alike. */
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const backendOption = () =>
  new Option('--backend <name>', 'TensorFlow.js backend').choices([
    'auto',
    'tensorflow-gpu',
    'webgpu',
    'tensorflow',
    'wasm',
    'cpu',
  ]);

/** The options of every command that reads a run: where its data and teacher are now, the backend, quiet. */
const runReaderOptions = (command: Command) =>
  command
    .option('--data-dir <dir>', 'dataset folder, if it moved')
    .option('--teacher <path>', 'teacher weights, if they moved')
    .addOption(backendOption())
    .option('-q, --quiet', 'no progress bars');
const layerOption = () =>
  new Option('--layer <n>', 'decoder layer whose cross-attention is shown (default: the last)').argParser(
    Number,
  );

const program = new Command()
  .name('symseq')
  .description('Learn, without labels, to describe images as short sequences of discrete symbols.')
  .version(version, '-V, --version', 'print the symseq version')
  .showHelpAfterError();

program
  .command('train')
  .description(
    'train a symbolic student on cached teacher features, then print the k-NN table for lengths 1, 2, 4, 8',
  )
  .option(
    '--preset <name>',
    'built-in config: cpu (MobileNet, CIFAR-10, ~30 min on 2 cores) or paper (DINO ViT-B/16, GPU)',
  )
  .option('-c, --config <file>', 'JSON config file, merged over the preset')
  .option('--data-dir <dir>', 'dataset folder (default: $CIFAR10_DIR)')
  .option(
    '--teacher <path>',
    'teacher weights: MobileNet folder ($MOBILENET_DIR) or ViT .safetensors ($VIT_WEIGHTS)',
  )
  .option('-o, --out <dir>', 'run folder (config, metrics.jsonl, checkpoints, report)')
  .option('--epochs <n>', "training epochs, exactly (drops the preset's optim.minSteps floor)", int)
  .option('--batch-size <n>', 'images per optimizer step (optim.batchSize)', positive)
  .option('--lr <x>', 'peak learning rate (optim.lr)', positiveNumber)
  .option(
    '--max-steps <n>',
    'stop after n optimizer steps; the lr schedule spans them (optim.maxSteps)',
    positive,
  )
  .option('--seed <n>', 'random seed', int)
  .option('--train-limit <n>', 'use n training images (balanced)', int)
  .option('--test-limit <n>', 'use n test images (balanced)', int)
  .option('--set <key=value>', 'override any config key, e.g. --set optim.lr=5e-4 (repeatable)', collect)
  .option('--print-config', 'print the resolved config as JSON and exit (nothing is read or written)')
  .addOption(backendOption())
  .option('--resume', 'continue from the run folder’s latest checkpoint')
  .option(
    '--overwrite',
    'replace the run already in the --out folder (without it, train refuses to start there)',
  )
  .option('--strict', 'stop at the first unreadable image instead of skipping it')
  .option('-q, --quiet', 'no progress bars')
  .addOption(workersOption())
  .action(async (o) => trainCommand(o));

program
  .command('features')
  .description(
    'extract (or resume) the teacher feature caches of a config without training; --shard i/n builds one job of n, --merge checks all are in',
  )
  .option('--preset <name>', 'built-in config: cpu or paper')
  .option('-c, --config <file>', 'JSON config file, merged over the preset')
  .option('--data-dir <dir>', 'dataset folder (default: $CIFAR10_DIR)')
  .option('--teacher <path>', 'teacher weights')
  .option('--seed <n>', 'random seed', int)
  .option('--train-limit <n>', 'use n training images (balanced)', int)
  .option('--test-limit <n>', 'use n test images (balanced)', int)
  .option('--set <key=value>', 'override any config key (repeatable)', collect)
  .addOption(backendOption())
  .addOption(workersOption())
  .option('--shard <i/n>', 'build only job i (0-based) of n, e.g. a Slurm array task; jobs share cache.dir')
  .option('--merge', 'after all --shard jobs: check every shard is there and mark the caches complete')
  .option('--strict', 'stop at the first unreadable image instead of skipping it')
  .option('-q, --quiet', 'no progress bars')
  .action(async (o) => {
    console.log((await featuresCommand(o)).join('\n'));
  });

runReaderOptions(
  program
    .command('eval')
    .description('k-NN table (lengths 1, 2, 4, 8) of a trained run; rewrites its report')
    .requiredOption('-r, --run <dir>', 'run folder written by train'),
).action(async (o) => evalCommand(o));

program
  .command('encode')
  .description('symbols of images: one JSON line per image, {"file", "symbols"}')
  .requiredOption('-r, --run <dir>', 'run folder written by train')
  .argument('<inputs...>', 'image files or folders (searched recursively)')
  .option('-o, --out <file>', 'write JSONL here (default: stdout)')
  .option('--teacher <path>', 'teacher weights, if they moved')
  .option('--strict', 'stop at the first unreadable image instead of skipping it')
  .addOption(backendOption())
  .action(async (inputs: string[], o) => {
    await encodeCommand({ ...o, inputs });
  });

runReaderOptions(
  program
    .command('attn')
    .description(
      'attention montages (image + one overlay per symbol) and a per-class symbol-to-region consistency table',
    )
    .requiredOption('-r, --run <dir>', 'run folder written by train')
    .option('-o, --out <dir>', 'output folder (default <run>/attention)')
    .option('--per-class <n>', 'montages per class', int, 2)
    .option('--consistency-per-class <n>', 'test images per class for the consistency score', int, 50)
    .option(
      '--faithfulness-per-class <n>',
      'test images per class for the occlusion (deletion) test; 0 skips it',
      int,
      50,
    )
    .option('--no-prefix', 'skip the prefix tree of the test set (needs the feature caches)')
    .addOption(layerOption()),
).action(async (o) => {
  const r = await attnCommand(o);
  console.log(`${r.montages.length} montages written, e.g. ${r.montages[0]}\n\n${r.table}`);
});

runReaderOptions(
  program
    .command('dictionary')
    .description(
      'symbol dictionary: per symbol its uses, positions, mean attention map, class mix and most confident uses (PNG atlas + HTML page)',
    )
    .requiredOption('-r, --run <dir>', 'run folder written by train')
    .option('-o, --out <dir>', 'output folder (default <run>/dictionary)')
    .option('--per-class <n>', 'test images per class the dictionary is built from', int, 50)
    .option('--top <n>', 'most confident uses shown per symbol', int, 6)
    .option('--atlas-rows <n>', 'symbols in the PNG atlas (the most used; the HTML page has all)', int, 32)
    .option('--scale <n>', 'integer upscaling of the images', int, 2)
    .addOption(layerOption()),
).action(async (o) => {
  const r = await dictionaryCommand(o);
  console.log(`${r.symbols} symbols from ${r.images} test images: ${r.png}, ${r.html}, ${r.json}`);
});

runReaderOptions(
  program
    .command('export')
    .description(
      'write what the browser demo loads: student, teacher model files, and a gallery of test images',
    )
    .requiredOption('-r, --run <dir>', 'run folder written by train')
    .requiredOption('-o, --out <dir>', 'export folder (e.g. apps/demo/public/model)')
    .option('--per-class <n>', 'gallery images per class', int, 10),
).action(async (o) => {
  console.log(`exported to ${await exportCommand(o)}`);
});

program.parseAsync(process.argv).catch((e: Error) => {
  // SYMSEQ_DEBUG=1 adds the stack trace, for bug reports.
  console.error(process.env.SYMSEQ_DEBUG ? `symseq: ${e.stack ?? e.message}` : `symseq: ${e.message}`);
  process.exit(1);
});
