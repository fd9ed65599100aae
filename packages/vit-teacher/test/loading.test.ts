import { type HostTensor, writeSafetensors } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fetchBytes, loadVisionTransformer, VisionTransformer, vitConfig } from '../src';
import { visionTransformerFromSafetensors } from '../src/loadVit';
import { expectClose, fixture, fixtureBytes, toTensor } from './helpers';

const timm = () => fixture('vit_tiny_timm.safetensors').tensors;
const hf = () => fixture('vit_tiny_hf.safetensors').tensors;
const expected = fixture('vit_tiny_expected.safetensors').tensors;
const opts = { config: { heads: 3 }, name: 'tiny.safetensors' };

function prefixed(t: Record<string, HostTensor>, prefix: string): Record<string, HostTensor> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [prefix + k, v]));
}

/** CLS and DINO head output on the fixture's native images. */
function run(vit: VisionTransformer): { cls: tf.Tensor; head?: tf.Tensor } {
  const images = toTensor(expected['native.images']) as tf.Tensor4D;
  const out = vit.forward(images);
  const head = vit.head?.apply(out.pooled);
  tf.dispose([images, out.tokens]);
  return { cls: out.pooled, head };
}

describe('safetensors errors', () => {
  const bytes = fixtureBytes('vit_tiny_timm.safetensors');

  it('names the file when it is truncated', () => {
    expect(() => visionTransformerFromSafetensors(bytes.subarray(0, bytes.length - 100), opts)).toThrow(
      /tiny\.safetensors: tensor '.+' has data_offsets \[\d+, \d+\] outside the data section .* truncated/,
    );
    expect(() => visionTransformerFromSafetensors(bytes.subarray(0, 5), opts)).toThrow(
      /tiny\.safetensors: file is 5 bytes, too short/,
    );
  });

  it('rejects a header length that runs past the end of the file', () => {
    const bad = bytes.slice();
    new DataView(bad.buffer).setBigUint64(0, BigInt(bytes.length), true);
    expect(() => visionTransformerFromSafetensors(bad, opts)).toThrow(
      /tiny\.safetensors: header length \d+ runs past the end of the file/,
    );
  });

  it('rejects an unknown dtype, naming the tensor', () => {
    const header = JSON.stringify({ cls_token: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } });
    const file = new Uint8Array(8 + header.length + 8);
    new DataView(file.buffer).setBigUint64(0, BigInt(header.length), true);
    file.set(new TextEncoder().encode(header), 8);
    expect(() => visionTransformerFromSafetensors(file, opts)).toThrow(
      /tiny\.safetensors: tensor 'cls_token' has dtype 'I64'; supported: F32, F16, BF16/,
    );
  });

  it('says what it looked for when the file holds no ViT', () => {
    const file = writeSafetensors({ 'encoder.weight': { shape: [2], data: new Float32Array(2) } });
    expect(() => visionTransformerFromSafetensors(file, opts)).toThrow(
      /no ViT backbone found: expected a tensor named 'cls_token' \(timm\/DINO\) or 'embeddings.cls_token'.*'encoder.weight'/,
    );
  });
});

describe('missing and mis-shaped tensors', () => {
  it('lists a missing tensor with the naming it expected', () => {
    const { 'blocks.1.norm2.bias': _, ...t } = timm();
    expect(() => visionTransformerFromSafetensors(writeSafetensors(t), opts)).toThrow(
      "tiny.safetensors: missing tensor 'blocks.1.norm2.bias' (timm/DINO naming)",
    );
    const { 'encoder.layer.0.attention.attention.value.weight': __, ...h } = hf();
    expect(() => visionTransformerFromSafetensors(writeSafetensors(h), opts)).toThrow(
      "missing tensor 'encoder.layer.0.attention.attention.value.weight' (Hugging Face ViTModel naming)",
    );
  });

  it('names a mis-shaped tensor with both shapes', () => {
    const t = timm();
    t['blocks.1.mlp.fc1.weight'] = { shape: [192, 47], data: new Float32Array(192 * 47) };
    expect(() => visionTransformerFromSafetensors(writeSafetensors(t), opts)).toThrow(
      "tiny.safetensors: tensor 'blocks.1.mlp.fc1.weight' has shape [192, 47], expected [192, 48] (timm/DINO naming)",
    );
    const h = hf();
    h['encoder.layer.1.attention.attention.key.weight'] = {
      shape: [48, 40],
      data: new Float32Array(48 * 40),
    };
    expect(() => visionTransformerFromSafetensors(writeSafetensors(h), opts)).toThrow(
      "tensor 'encoder.layer.1.attention.attention.key.weight' has shape [48, 40], expected [48, 48]",
    );
    const p = timm();
    p.pos_embed = { shape: [1, 16, 48], data: new Float32Array(16 * 48) };
    expect(() => visionTransformerFromSafetensors(writeSafetensors(p), opts)).toThrow(
      "tensor 'pos_embed' has shape [1, 16, 48], expected [1, 1 + n², 48] (a square grid)",
    );
  });
});

describe('configuration', () => {
  it('needs heads when embedDim is not a multiple of 64, or reads them from metadata', () => {
    const bytes = fixtureBytes('vit_tiny_timm.safetensors');
    expect(() => visionTransformerFromSafetensors(bytes, { name: 'tiny.safetensors' })).toThrow(
      'tiny.safetensors: cannot tell the number of attention heads for embedDim 48',
    );
    const vit = visionTransformerFromSafetensors(writeSafetensors(timm(), { heads: '3' }));
    expect(vit.config.heads).toBe(3);
    vit.dispose();
  });

  it('rejects a config that disagrees with the weights', () => {
    const bytes = fixtureBytes('vit_tiny_timm.safetensors');
    expect(() => visionTransformerFromSafetensors(bytes, { ...opts, config: 'vit-s16' })).toThrow(
      'tiny.safetensors: config says imgSize 224 but the weights have imgSize 32',
    );
    expect(() =>
      visionTransformerFromSafetensors(bytes, { ...opts, config: { heads: 3, depth: 3 } }),
    ).toThrow('config says depth 3 but the weights have depth 2');
    expect(() => visionTransformerFromSafetensors(bytes, { ...opts, config: 'vit-xl' as 'vit-s16' })).toThrow(
      "unknown preset 'vit-xl'",
    );
  });

  it('validates architectures and input sizes', () => {
    expect(vitConfig('vit-b8')).toMatchObject({
      patchSize: 8,
      embedDim: 768,
      depth: 12,
      heads: 12,
      eps: 1e-6,
    });
    expect(() => vitConfig({ patchSize: 16, embedDim: 50, depth: 1, heads: 3 })).toThrow(
      /heads: embedDim 50 is not divisible by 3/,
    );
    expect(() => vitConfig({ patchSize: 16, embedDim: 48, depth: 1, heads: 3, hedas: 2 } as never)).toThrow(
      /hedas: unknown key \(did you mean 'heads'\?\)/,
    );
    expect(() => new VisionTransformer('vit-tiny-test', { inputSize: 30 })).toThrow(
      'VisionTransformer: inputSize 30 must be a positive multiple of the patch size 8',
    );
  });
});

describe('naming variants', () => {
  it('reads Hugging Face files under a vit. prefix, ignoring pooler and classifier', () => {
    const t = {
      ...prefixed(hf(), 'vit.'),
      'classifier.weight': { shape: [10, 48], data: new Float32Array(480) },
      'vit.pooler.dense.weight': { shape: [48, 48], data: new Float32Array(48 * 48) },
    };
    const vit = visionTransformerFromSafetensors(writeSafetensors(t), opts);
    const { cls } = run(vit);
    expectClose(cls, expected['native.cls'], 1e-4, 'vit. prefix CLS');
    tf.dispose(cls);
    vit.dispose();
  });

  it('reads a DINO checkpoint layout (backbone. + head.) and picks one of several backbones by prefix', () => {
    const t = timm();
    const backbone = Object.fromEntries(Object.entries(t).filter(([k]) => !k.startsWith('head.')));
    const head = Object.fromEntries(Object.entries(t).filter(([k]) => k.startsWith('head.')));
    const file = writeSafetensors(prefixed({ ...prefixed(backbone, 'backbone.'), ...head }, 'teacher.'));
    const vit = visionTransformerFromSafetensors(file, { ...opts, prefix: 'teacher.backbone.' });
    const out = run(vit);
    expectClose(out.head!, expected['native.head'], 1e-4, 'teacher.head');
    tf.dispose([out.cls, out.head!]);
    vit.dispose();

    const both = writeSafetensors({ ...prefixed(backbone, 'student.'), ...prefixed(backbone, 'teacher.') });
    expect(() => visionTransformerFromSafetensors(both, opts)).toThrow(
      "several ViT backbones found (prefixes 'student.', 'teacher.'); pass the prefix to load",
    );
  });
});

describe('images', () => {
  it('rejects wrong rank, channels, dtype and empty batches with clear messages', () => {
    const vit = new VisionTransformer('vit-tiny-test');
    const bad = (t: tf.Tensor) => () => vit.forward(t as tf.Tensor4D);
    const id = "VisionTransformer 'vit-d48-p8@32'";
    expect(bad(tf.zeros([32, 32, 3]))).toThrow(
      `${id}: images must be [batch, height, width, 3], got shape [32, 32, 3]`,
    );
    expect(bad(tf.zeros([1, 32, 32, 4]))).toThrow(
      `${id}: images must have 3 channels (RGB) in the last axis`,
    );
    expect(bad(tf.zeros([1, 32, 32, 3], 'int32'))).toThrow(
      `${id}: images must be float32 RGB in [0, 1], got dtype int32`,
    );
    expect(bad(tf.zeros([0, 32, 32, 3]))).toThrow(`${id}: images must be non-empty`);
    expect(() => vit.encode(tf.zeros([1, 30, 32, 3]) as tf.Tensor4D)).toThrow(
      `${id}: image size 30×32 is not a multiple of the patch size 8`,
    );
    // any size is resized to the input size
    const out = vit.forward(tf.zeros([2, 20, 50, 3]) as tf.Tensor4D);
    expect(out.tokens.shape).toEqual([2, 16, 48]);
    expect(out.pooled.shape).toEqual([2, 48]);
    vit.dispose();
  });
});

describe('loading from a URL', () => {
  const bytes = fixtureBytes('vit_tiny_timm.safetensors');
  const fakeFetch =
    (body: Uint8Array, length: number, status = 200): typeof fetch =>
    async () => {
      const chunks = [body.subarray(0, 100_000), body.subarray(100_000, 200_000), body.subarray(200_000)];
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (const chunk of chunks) c.enqueue(chunk);
          c.close();
        },
      });
      return new Response(status === 200 ? stream : null, {
        status,
        statusText: status === 200 ? 'OK' : 'Not Found',
        headers: { 'content-length': String(length) },
      });
    };

  it('downloads with fetch and reports progress per chunk', async () => {
    const calls: [number, number | undefined][] = [];
    const vit = await loadVisionTransformer('https://example.test/tiny.safetensors', {
      config: { heads: 3 },
      fetch: fakeFetch(bytes, bytes.length),
      onProgress: (loaded, total) => calls.push([loaded, total]),
    });
    expect(calls).toEqual([
      [0, bytes.length],
      [100_000, bytes.length],
      [200_000, bytes.length],
      [bytes.length, bytes.length],
    ]);
    const { cls, head } = run(vit);
    expectClose(cls, expected['native.cls'], 1e-4, 'fetched CLS');
    tf.dispose([cls, head!]);
    vit.dispose();
  });

  it('reports HTTP errors and short downloads', async () => {
    await expect(
      loadVisionTransformer('https://example.test/missing.safetensors', { fetch: fakeFetch(bytes, 0, 404) }),
    ).rejects.toThrow('fetchBytes: https://example.test/missing.safetensors answered HTTP 404 Not Found');
    await expect(
      fetchBytes('https://example.test/x', { fetch: fakeFetch(bytes, bytes.length + 10) }),
    ).rejects.toThrow(
      `fetchBytes: https://example.test/x ended after ${bytes.length} of ${bytes.length + 10} bytes`,
    );
  });
});
