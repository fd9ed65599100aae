// Inference of the CPU preset's student at all cores: the batch split over N worker threads, each with
// its own wasm backend and a copy of the same student (seed 0), each writing the symbols of its rows.
// Prints JSON: median wall ms per batch (from handing out the rows to the last worker's answer).
// Inference has no cross-row term, so the split changes no result; this is how a tfjs program uses
// more than one core (wasm is single-threaded in Node).
//
//   node bench/student-infer-parallel.mjs --workers 2 [--reps 10] [--warmup 2] [--infer-batch 500]

import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createStudentBench, median, positiveInt, useBackend } from './student-setup.mjs';

if (isMainThread) {
  const { values: args } = parseArgs({
    options: {
      workers: { type: 'string', default: '2' },
      reps: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      'infer-batch': { type: 'string', default: '500' },
    },
  });
  const workers = positiveInt('workers', args.workers);
  const reps = positiveInt('reps', args.reps);
  const warmup = positiveInt('warmup', args.warmup);
  const batch = positiveInt('infer-batch', args['infer-batch']);
  if (batch < workers) throw new Error(`--infer-batch ${batch} is smaller than --workers ${workers}`);
  // Rows per worker: the first `batch % workers` workers take one more.
  const rows = Array.from(
    { length: workers },
    (_, r) => Math.floor(batch / workers) + (r < batch % workers ? 1 : 0),
  );
  const pool = rows.map((n, rank) => new Worker(new URL(import.meta.url), { workerData: { rank, rows: n } }));
  const answer = (w) =>
    new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  await Promise.all(pool.map(answer)); // ready: backend, student and inputs built
  const wall = [];
  for (let i = 0; i < warmup + reps; i++) {
    const t0 = performance.now();
    const done = pool.map(answer);
    for (const w of pool) w.postMessage('run');
    await Promise.all(done);
    if (i >= warmup) wall.push(performance.now() - t0);
  }
  for (const w of pool) w.postMessage('exit');
  console.log(
    JSON.stringify({
      workers,
      batch,
      rows,
      inferMs: median(wall),
      range: [Math.min(...wall), Math.max(...wall)],
    }),
  );
} else {
  await useBackend('wasm');
  const bench = await createStudentBench();
  const { tokens } = bench.inputs(workerData.rows, 3 + workerData.rank);
  parentPort.on('message', (m) => {
    if (m === 'exit') {
      tokens.dispose();
      process.exit(0);
    }
    bench.inference(tokens);
    parentPort.postMessage('done');
  });
  parentPort.postMessage('ready');
}
