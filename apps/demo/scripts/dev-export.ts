// TEMPORARY (not for commit): a hand-made export for development until `symseq export` exists.
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImageFile, fileSystemModelHandler } from '@symseq/data';
import { Student } from '@symseq/decoder';
import { mobilenetTeacher } from '@symseq/vit-teacher';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { PNG } from 'pngjs';

const out = process.argv[2] ?? 'apps/demo/public/model';
const mobilenet = '/work/shared/models/mobilenet_v1_0.75_224';
const cifar = '/work/shared/data/cifar10-jpeg/test';
await tf.setBackend('wasm');
mkdirSync(join(out, 'gallery'), { recursive: true });
cpSync(mobilenet, join(out, 'teacher'), { recursive: true });
const model = await loadLayersModel(fileSystemModelHandler(mobilenet));
const teacher = mobilenetTeacher({ model: model as never, inputSize: 64, layer: 'conv_pw_13_relu' });
const run = process.argv[3];
const student = run
  ? Student.load(
      readFileSync(join(run, 'student.json'), 'utf8'),
      new Uint8Array(readFileSync(join(run, 'student.safetensors'))),
    )
  : new Student(
      {
        teacherDim: 768,
        dModel: 64,
        heads: 4,
        vocabSize: 128,
        maxLength: 8,
        projector: { layers: 2, hiddenDim: 128, bottleneckDim: 64, outDim: 256 },
      },
      { seed: 1 },
    );
if (run) {
  cpSync(join(run, 'student.json'), join(out, 'student.json'));
  cpSync(join(run, 'student.safetensors'), join(out, 'student.safetensors'));
} else {
  const saved = await student.save({ teacher: teacher.id });
  writeFileSync(join(out, 'student.json'), saved.json);
  writeFileSync(join(out, 'student.safetensors'), saved.weights);
}
const classes = readdirSync(cifar).sort();
const gallery = [];
let n = 0;
for (const [label, cls] of classes.entries()) {
  for (const f of readdirSync(join(cifar, cls)).sort().slice(0, 10)) {
    const img = await decodeImageFile(join(cifar, cls, f));
    const png = new PNG({ width: img.width, height: img.height });
    for (let p = 0; p < img.width * img.height; p++) {
      png.data[4 * p] = img.data[3 * p];
      png.data[4 * p + 1] = img.data[3 * p + 1];
      png.data[4 * p + 2] = img.data[3 * p + 2];
      png.data[4 * p + 3] = 255;
    }
    const file = `gallery/${String(n++).padStart(4, '0')}.png`;
    writeFileSync(join(out, file), PNG.sync.write(png));
    const x = tf.tensor4d(
      Float32Array.from(img.data, (v) => v / 255),
      [1, img.height, img.width, 3],
    );
    const tokens = teacher.forward(x).tokens;
    const symbols = Array.from(await student.encode(tokens).symbols.data());
    const o = student.forward(tokens, { mode: 'inference', lengths: [1, 2, 4, 8] });
    const embeddings: Record<string, number[]> = {};
    for (const p of o.prefixes) embeddings[String(p.length)] = Array.from(await p.embedding.data());
    gallery.push({ file, label, class: cls, symbols, embeddings });
  }
}
writeFileSync(join(out, 'gallery.json'), JSON.stringify(gallery));
writeFileSync(
  join(out, 'manifest.json'),
  JSON.stringify(
    {
      format: 'symseq-demo-export',
      version: 1,
      student: { json: 'student.json', weights: 'student.safetensors' },
      teacher: {
        kind: 'mobilenet',
        id: teacher.id,
        model: 'teacher/model.json',
        inputSize: 64,
        layer: 'conv_pw_13_relu',
      },
      grid: teacher.dims.grid,
      lengths: [1, 2, 4, 8],
      classes,
      gallery: 'gallery.json',
    },
    null,
    2,
  ),
);
console.log(
  'wrote',
  out,
  gallery.length,
  'gallery images; symbols of first 5:',
  gallery.slice(0, 5).map((g) => g.symbols.join(' ')),
);
