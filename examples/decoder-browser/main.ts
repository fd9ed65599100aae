// A browser page that loads a model exported by the trainer (`symseq export --run runs/cpu -o model`:
// manifest.json, student.json + student.safetensors, teacher/model.json + shards) and shows the
// symbols @symseq/decoder's Student writes for an image the user picks.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { Student } from '@symseq/decoder';
import { fetchBytes, mobilenetTeacher } from '@symseq/vit-teacher';
import { loadLayersModel } from '@tensorflow/tfjs-layers';

interface ExportManifest {
  student: { json: string; weights: string };
  teacher: { model: string; inputSize: number; layer: string };
  lengths: number[];
}

const status = document.querySelector('#status') as HTMLElement;
const output = document.querySelector('#symbols') as HTMLElement;
const input = document.querySelector('#image') as HTMLInputElement;

/** The first backend that initialises, fastest first (wasm's .wasm files come from its dist folder). */
async function pickBackend(): Promise<string> {
  for (const name of ['webgl', 'wasm', 'cpu']) {
    if (await tf.setBackend(name).catch(() => false)) return name;
  }
  throw new Error('no TF.js backend could start in this browser');
}

async function load(base: URL) {
  const manifestResponse = await fetch(new URL('manifest.json', base));
  if (!manifestResponse.ok)
    throw new Error(`${manifestResponse.url}: HTTP ${manifestResponse.status} (run symseq export first)`);
  const manifest = (await manifestResponse.json()) as ExportManifest;
  const at = (path: string) => new URL(path, base).href;
  const [studentJson, studentWeights, model] = await Promise.all([
    fetch(at(manifest.student.json)).then((r) => r.text()),
    fetchBytes(at(manifest.student.weights)),
    loadLayersModel(at(manifest.teacher.model)),
  ]);
  const student = Student.load(studentJson, studentWeights, { source: at(manifest.student.json) });
  const teacher = mobilenetTeacher({
    model,
    inputSize: manifest.teacher.inputSize,
    layer: manifest.teacher.layer,
  });
  return { student, teacher };
}

const backend = await pickBackend();
status.textContent = `loading the model (backend ${backend})…`;
const { student, teacher } = await load(new URL('model/', location.href));
status.textContent = `ready (backend ${backend}): pick an image`;

input.addEventListener('change', async () => {
  const file = input.files?.[0];
  if (!file) return;
  const bitmap = await createImageBitmap(file);
  const symbols = tf.tidy(() => {
    const pixels = tf.div(tf.cast(tf.browser.fromPixels(bitmap), 'float32'), 255); // [H, W, 3] in [0, 1]
    const { tokens } = teacher.forward(tf.expandDims(pixels, 0) as tf.Tensor4D);
    return student.encode(tokens).symbols;
  });
  output.textContent = `${file.name}: ${((await symbols.array()) as number[][])[0].join(' ')}`;
  symbols.dispose();
});
