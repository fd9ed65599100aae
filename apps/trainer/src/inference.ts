import { batchToTensor, type ImageDataset } from '@symseq/data';
import type { Student } from '@symseq/decoder';
import type { Teacher } from '@symseq/vit-teacher';
import * as tf from '@tensorflow/tfjs-core';

export interface EncodedImages {
  count: number;
  length: number;
  /** [count, L] */
  symbols: Int32Array;
  /** Cross-attention of one decoder layer, [count, heads, L, N], as @symseq/attnviz reads it. */
  attention: { data: Float32Array; shape: [number, number, number, number] };
  /** Prefix length → symbol-encoder embedding [count, d] (only the lengths asked for). */
  embeddings: Map<number, Float32Array>;
  /**
   * [count, L], when asked for: the decoder's softmax probability of each symbol it wrote (NaN for
   * a vector discretizer such as VQ, whose head gives no probabilities).
   */
  confidences?: Float32Array;
}

/**
 * Teacher → student (inference mode: hard symbols, no noise) on RGB images in [0, 1] of one size:
 * symbols, one decoder layer's cross-attention per symbol, and embeddings per prefix length.
 * This is the one path `encode`, `attn` and `export` share, so they agree symbol for symbol.
 */
export async function encodeImages(
  student: Student,
  teacher: Teacher,
  images: tf.Tensor4D,
  opts: { lengths?: number[]; layer?: number; confidences?: boolean } = {},
): Promise<EncodedImages> {
  const lengths = opts.lengths ?? [];
  const out = tf.tidy(() => {
    const tokens = teacher.forward(images).tokens;
    const enc = student.encode(tokens);
    // Student.encode's [layers, B, heads, L, N] → the chosen layer, [B, heads, L, N]
    const layers = enc.crossAttention.shape[0] as number;
    const layer = ((opts.layer ?? -1) + layers) % layers;
    const att = tf.squeeze(tf.slice(enc.crossAttention, [layer, 0, 0, 0, 0], [1, -1, -1, -1, -1]), [0]);
    const emb = lengths.length
      ? student.forward(tokens, { mode: 'inference', lengths }).prefixes.map((p) => p.embedding)
      : [];
    const conf = opts.confidences ? symbolConfidences(student, tokens) : undefined;
    return { symbols: enc.symbols, att, emb, conf };
  });
  const [count, length] = out.symbols.shape as [number, number];
  const result: EncodedImages = {
    count,
    length,
    symbols: (await out.symbols.data()) as Int32Array,
    attention: {
      data: (await out.att.data()) as Float32Array,
      shape: out.att.shape as [number, number, number, number],
    },
    embeddings: new Map(),
  };
  for (let i = 0; i < lengths.length; i++)
    result.embeddings.set(lengths[i], (await out.emb[i].data()) as Float32Array);
  if (out.conf) result.confidences = (await out.conf.data()) as Float32Array;
  tf.dispose([out.symbols, out.att, ...out.emb, ...(out.conf ? [out.conf] : [])]);
  return result;
}

/** [B, L] softmax probability of each symbol the decoder writes (inference mode), NaN without logits. */
function symbolConfidences(student: Student, tokens: tf.Tensor): tf.Tensor {
  const dec = student.decoder.generate(tokens, { mode: 'inference' });
  const V = student.config.vocabSize;
  if (dec.logits[0].shape[1] !== V) return tf.fill(dec.symbols.shape, Number.NaN);
  const probs = tf.stack(
    dec.logits.map((l) => tf.softmax(l)),
    1,
  );
  return tf.sum(tf.mul(probs, tf.oneHot(tf.cast(dec.symbols, 'int32'), V)), -1);
}

/** Images `indices` of a dataset as a [B, H, W, 3] tensor in [0, 1] (native size). */
export function datasetImages(ds: ImageDataset, indices: number[]): tf.Tensor4D {
  return batchToTensor(ds.load(indices));
}

/** `perClass` images of each class, in class order (the first ones of each class). */
export function firstPerClass(ds: ImageDataset, perClass: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < ds.classes.length; c++) {
    let n = 0;
    for (let i = 0; i < ds.length && n < perClass; i++) {
      if (ds.labels[i] === c) {
        out.push(i);
        n++;
      }
    }
  }
  return out;
}
