// One feature-extraction worker thread: its own tfjs backend and teacher, the dataset's pixels shared
// with the main thread; computes the shards it is sent and posts their bytes back (the main thread writes).
import { parentPort, workerData } from 'node:worker_threads';
import { computeFeatureShard, InMemoryImageDataset } from '@symseq/data';
import { selectBackend } from './backend';
import type { FeatureWorkerData, FeatureWorkerReply, FeatureWorkerRequest } from './feature-workers';
import { teacherFeaturizer } from './features';
import { loadTeacher } from './teacher-source';

const port = parentPort!;
const data = workerData as FeatureWorkerData;
const post = (m: FeatureWorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

try {
  await selectBackend(data.backend as never);
  const teacher = await loadTeacher(data.config);
  const { images } = data;
  const dataset = new InMemoryImageDataset({
    name: images.name,
    classes: images.classes,
    labels: new Int32Array(images.labels),
    height: images.height,
    width: images.width,
    pixels: new Uint8Array(images.pixels),
    source: (i) => `${images.name}#${i}`,
  });
  const featurize = teacherFeaturizer(teacher);
  // Requests queue up here and run one at a time: the main thread keeps one shard in reserve per
  // worker, so a worker never waits for the next index after posting a shard.
  const queue: FeatureWorkerRequest[] = [];
  let running = false;
  const drain = async () => {
    if (running) return;
    running = true;
    for (let m = queue.shift(); m; m = queue.shift()) {
      if (m.type === 'exit') {
        teacher.dispose();
        port.close();
        return;
      }
      try {
        const shard = await computeFeatureShard(data.plan, dataset, featurize, m.index, (views) =>
          post({ type: 'views', views }),
        );
        post({ type: 'shard', shard }, [shard.bytes.buffer as ArrayBuffer]);
      } catch (e) {
        post({ type: 'error', message: (e as Error).message });
      }
    }
    running = false;
  };
  port.on('message', (m: FeatureWorkerRequest) => {
    queue.push(m);
    void drain();
  });
  post({ type: 'ready' });
} catch (e) {
  post({ type: 'error', message: (e as Error).message });
}
