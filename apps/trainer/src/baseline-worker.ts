// One baseline worker thread: its own wasm backend, the run's pooled features (shared, not copied);
// computes some of the no-learning rows (@symseq/probe codeBaselines) while the main thread scores the
// student, and posts the table back.
import { parentPort, workerData } from 'node:worker_threads';
import { codeBaselines } from '@symseq/probe';
import { selectBackend } from './backend';
import type { BaselineWorkerData, BaselineWorkerReply } from './baselines';

const port = parentPort!;
const data = workerData as BaselineWorkerData;
const post = (m: BaselineWorkerReply): void => {
  port.postMessage(m);
};

try {
  await selectBackend(data.backend as never);
  const f32 = (b: SharedArrayBuffer) => new Float32Array(b);
  const table = await codeBaselines({
    ...data.options,
    trainFeatures: f32(data.trainFeatures),
    testFeatures: f32(data.testFeatures),
    trainLabels: new Int32Array(data.trainLabels),
    testLabels: new Int32Array(data.testLabels),
    onProgress: (line) => {
      post({ type: 'progress', line });
    },
  });
  post({ type: 'table', table });
} catch (e) {
  post({ type: 'error', message: (e as Error).message });
}
