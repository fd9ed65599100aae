// A data-parallel training replica (rank ≥ 1) in a worker thread: its own backend and copy of the
// student, optimizer and objective; steps driven by rank 0 through shared memory (data-parallel.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { FeatureCache } from '@symseq/data';
import { Student } from '@symseq/decoder';
import type { Rng } from '@symseq/nn';
import { selectBackend } from './backend';
import { sha256 } from './checkpoints';
import { ReplicaComm, type ReplicaWorkerData, replicaLoop } from './data-parallel';
import { objectiveFor } from './train';
import { TrainStep } from './train-step';

const port = parentPort!;
const data = workerData as ReplicaWorkerData;
const comm = new ReplicaComm(data.shape, data.buffers, data.rank);
try {
  await selectBackend(data.backend as never);
  const student = Student.load(data.student.json, data.student.weights, { source: 'rank 0 student' });
  // The VQ's Rng (k-means, restarts) is forked from the student's seed, which its files do not hold: take rank 0's.
  const rng = (student.discretizer as { rng?: Rng }).rng;
  if (data.discretizerRng && rng) rng.setState(data.discretizerRng);
  // The objective resumes from rank 0's state, so it reads nothing of the cache but the pooled size.
  const shapeOnly = {
    manifest: { shapes: { pooled: [0, 0, data.shape.pooledDim] } },
  } as unknown as FeatureCache;
  const objective = objectiveFor(data.config, shapeOnly, data.objective);
  const stepper = new TrainStep(student, objective, data.stepOptions);
  stepper.load(data.optimizer, 'rank 0 optimizer state');
  port.postMessage({ type: 'ready' });
  replicaLoop(stepper, comm);
  const { weights } = await student.save();
  port.postMessage({ type: 'checksum', checksum: sha256(weights) });
  stepper.dispose();
  objective.dispose();
  student.dispose();
} catch (e) {
  port.postMessage({ type: 'error', message: (e as Error).stack ?? String(e) });
  comm.abort();
}
