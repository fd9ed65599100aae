// The webgpu backend (Dawn through the `webgpu` package): 20 training steps on it give wasm's losses
// within 1e-3, with no Dawn validation error. On a machine without a GPU the adapter is Dawn's OpenGL ES
// backend on Mesa's llvmpipe (tools/ci-system-deps.sh installs it), so this runs in CI; it fails, not
// skips, when no adapter can be made. tools/webgpu/probe.mjs checks single ops the same way.
// Also: `auto` takes a hardware adapter only, and sumInChunks keeps tfjs-webgpu's AddN within 8 storage
// buffers.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { selectBackend } from '../src/backend';
import { train } from '../src/train';
import { sumInChunks } from '../src/train-step';
import { onHostBackend, readOnHost, registerDawnWebGpu } from '../src/webgpu-backend';
import { syntheticFeatures, tinyConfig } from './helpers';

const metrics = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);

describe('webgpu', () => {
  test('sumInChunks: Σ of 64 tensors, no AddN of more than 7 inputs', async () => {
    const xs = Array.from({ length: 64 }, (_, i) =>
      tf.tensor1d(Float32Array.from({ length: 5 }, (_, j) => Math.sin(i * 5 + j) * 10)),
    );
    const expected = Array.from({ length: 5 }, (_, j) => {
      let s = 0;
      for (let i = 0; i < 64; i++) s += Math.fround(Math.sin(i * 5 + j) * 10);
      return s;
    });
    let out: tf.Tensor | undefined;
    const profile = await tf.profile(() => {
      out = sumInChunks(xs);
      return out;
    });
    const got = await out!.data();
    for (let j = 0; j < 5; j++) expect(Math.abs(got[j] - expected[j])).toBeLessThan(1e-4);
    const addNs = profile.kernels.filter((k) => k.name === 'AddN');
    expect(addNs.length).toBeGreaterThan(1);
    expect(Math.max(...addNs.map((k) => k.inputShapes.length))).toBeLessThanOrEqual(7);
    expect(await sumInChunks([xs[3]]).data()).toEqual(await xs[3].data());
    expect(() => sumInChunks([])).toThrow('sumInChunks: no tensors');
    tf.dispose([...xs, out!]);
  });

  test('auto takes webgpu only on a hardware adapter', async () => {
    const before = tf.getBackend();
    const any = await registerDawnWebGpu({ allowSoftware: true });
    if (any.software) {
      await expect(registerDawnWebGpu({ allowSoftware: false })).rejects.toThrow(
        /no hardware WebGPU adapter|only a software adapter/,
      );
      const auto = await selectBackend('auto');
      expect(auto.name).not.toBe('webgpu');
      expect(auto.notes.some((n) => n.startsWith('webgpu: failed'))).toBe(true);
    } else {
      expect((await registerDawnWebGpu({ allowSoftware: false })).software).toBe(false);
    }
    await tf.setBackend(before);
  }, 60_000);

  test('webgpu in Node: dataSync of a GPU result throws clearly; readOnHost and onHostBackend give values', async () => {
    const before = tf.getBackend();
    await selectBackend('webgpu');
    try {
      // 4096 elements: above WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD, so the product is computed on the GPU.
      const x = tf.tensor1d(Float32Array.from({ length: 4096 }, (_, i) => i));
      const y = tf.mul(x, 2);
      expect(() => y.dataSync()).toThrow('webgpu in Node cannot read a tensor on the GPU synchronously');
      expect(await readOnHost(() => [y.dataSync()[1], y.dataSync()[4095]])).toEqual([2, 8190]);
      const sum = await onHostBackend(async () => {
        expect(tf.getBackend()).toBe('wasm');
        return tf.tidy(() => tf.sum(tf.range(0, 100)).dataSync()[0]);
      });
      expect(sum).toBe(4950);
      expect(tf.getBackend()).toBe('webgpu');
      tf.dispose([x, y]);
    } finally {
      await tf.setBackend(before);
    }
  }, 60_000);

  test('20 training steps on webgpu give the wasm losses within 1e-3', async () => {
    const before = tf.getBackend();
    // 64 images / batch 16: 4 steps an epoch, 5 epochs; the usage regulariser and the global-norm clip on.
    const extra = {
      objective: { regularizer: { usageWeight: 0.1 } },
      optim: { epochs: 5, batchSize: 16, lr: 3e-3, warmupEpochs: 0.5, clipGrad: 0.5 },
    };
    const data = syntheticFeatures(64);
    const run = async () => {
      const dir = mkdtempSync(join(tmpdir(), 'symseq-webgpu-'));
      const r = await train(tinyConfig(dir, extra), data, { quiet: true, log: () => {} });
      r.student.dispose();
      return metrics(dir);
    };
    const selected = await selectBackend('webgpu');
    console.log(`webgpu adapter: ${selected.adapter?.description}`);
    let gpu: Record<string, number>[];
    try {
      expect(tf.getBackend()).toBe('webgpu');
      gpu = await run();
    } finally {
      await tf.setBackend(before);
    }
    expect(selected.adapter?.errors()).toBe(0);
    expect(tf.getBackend()).toBe('wasm');
    const cpu = await run();
    expect(gpu.map((m) => m.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    let worst = 0;
    for (const [i, m] of gpu.entries()) {
      for (const key of ['total', 'len1', 'len2', 'len4', 'regularizer']) {
        const diff = Math.abs(m[key] - cpu[i][key]);
        expect(diff, `${key} at step ${m.step}`).toBeLessThan(1e-3);
        worst = Math.max(worst, diff);
      }
    }
    // The losses moved (training happened), so matching them is not matching two constants.
    expect(Math.abs(cpu[19].total - cpu[0].total)).toBeGreaterThan(1e-2);
    console.log(
      `webgpu vs wasm: max |Δ loss| ${worst.toExponential(2)} over 20 steps; total ${cpu[0].total.toFixed(4)} → ${cpu[19].total.toFixed(4)}`,
    );
  }, 120_000);
});
