import type { Discretizer, Mode } from '@symseq/discretize';
import { DinoHead, decodeCheckpoint, encodeCheckpoint, ParamStore, parseConfig, Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { type StudentConfig, type StudentConfigInput, studentConfigSchema } from './config';
import { createStudentDiscretizer } from './studentDiscretizer';
import { type DecoderOutput, SymbolDecoder } from './symbolDecoder';
import { SymbolEncoder } from './symbolEncoder';

/** `kind` field of a student checkpoint. */
export const STUDENT_KIND = 'symseq-student';
/** Version of the student's parameter layout, stored as `meta.studentVersion`. */
export const STUDENT_VERSION = 1;

export interface StudentForwardOptions {
  /** Default `train`. `inference`: hard argmax / nearest code, no noise, no discretizer state change. */
  mode?: Mode;
  /** Prefix lengths that get a projector output; default the config's `lengths`. */
  lengths?: number[];
  /** Training step, for temperature schedules. */
  step?: number;
}

export interface PrefixOutput {
  length: number;
  /** Projector output s_l [B, K] (logits; the loss applies the student temperature). */
  projection: tf.Tensor;
  /** Symbol-encoder CLS embedding h_l [B, d] (for k-NN probes). */
  embedding: tf.Tensor;
}

export interface StudentOutput {
  /** One entry per requested prefix length, in the order given. */
  prefixes: PrefixOutput[];
  decoder: DecoderOutput;
  /** The discretizer's auxiliary loss (scalar). */
  auxLoss: tf.Tensor;
}

export interface EncodeResult {
  /** int32 [B, L] */
  symbols: tf.Tensor;
  /**
   * Cross-attention of each symbol to the teacher tokens, `[layers, B, heads, L, N]`: per decoder
   * layer, the usual attention layout `[B, heads, queries, keys]` with symbol t as query t. This is
   * the layout @symseq/attnviz's `symbolAttentionMaps` reads (`layer` picks one, default the last).
   */
  crossAttention: tf.Tensor;
}

/**
 * The symbolic student: SymbolDecoder (writes symbols from teacher tokens) → SymbolEncoder
 * (re-reads each prefix) → projector (a DINO head). All parameters live in one ParamStore under
 * `decoder.*`, `encoder.*`, `projector.*` (and `discretizer.*` for a VQ codebook).
 */
export class Student {
  readonly config: StudentConfig;
  readonly store: ParamStore;
  /** The @symseq/discretize class named by `config.discretizer.kind`. */
  readonly discretizer: Discretizer;
  readonly decoder: SymbolDecoder;
  readonly encoder: SymbolEncoder;
  readonly projector: DinoHead;
  /** Noise source of stochastic discretizers (Gumbel); its state is saved with the checkpoint. */
  readonly noiseRng: Rng;

  constructor(config: StudentConfigInput, opts: { seed?: number } = {}) {
    const c = parseConfig(studentConfigSchema, config, 'Student config');
    this.config = c;
    const rng = new Rng(opts.seed ?? 0);
    this.store = new ParamStore(rng);
    const root = this.store.scope('');
    this.noiseRng = rng.fork();
    this.discretizer = createStudentDiscretizer(
      c.discretizer,
      c.vocabSize,
      root.scope('discretizer'),
      this.noiseRng,
    );
    this.decoder = new SymbolDecoder(
      root.scope('decoder'),
      {
        teacherDim: c.teacherDim,
        dim: c.dModel,
        heads: c.heads,
        layers: c.decoder.layers,
        mlpRatio: c.decoder.mlpRatio,
        maxLength: c.maxLength,
        standardizeTokens: c.decoder.standardizeTokens,
      },
      this.discretizer,
    );
    this.encoder = new SymbolEncoder(root.scope('encoder'), {
      inputDim: this.discretizer.outputDim,
      oneHot: this.discretizer.emits === 'one-hot',
      dim: c.dModel,
      heads: c.heads,
      layers: c.encoder.layers,
      mlpRatio: c.encoder.mlpRatio,
      maxLength: c.maxLength,
    });
    this.projector = new DinoHead(root.scope('projector'), { inDim: c.dModel, ...c.projector });
  }

  /**
   * Teacher tokens [B, N, Dt] → symbols, and for each prefix length l the projector output and
   * the encoder embedding. The decoder writes max(lengths) symbols once; every prefix re-reads them.
   */
  forward(tokens: tf.Tensor, opts: StudentForwardOptions = {}): StudentOutput {
    const mode = opts.mode ?? 'train';
    if (mode !== 'train' && mode !== 'inference') {
      throw new Error(`Student.forward: mode must be 'train' or 'inference', got ${JSON.stringify(mode)}`);
    }
    const lengths = opts.lengths ?? this.config.lengths;
    if (!lengths.length) throw new Error('Student.forward: lengths is empty');
    for (const l of lengths) {
      if (!Number.isInteger(l) || l < 1 || l > this.config.maxLength) {
        throw new Error(`Student.forward: length ${l} is outside 1..${this.config.maxLength}`);
      }
    }
    return tf.tidy(() => {
      const decoder = this.decoder.generate(tokens, { mode, step: opts.step, steps: Math.max(...lengths) });
      const fed = tf.stack(decoder.fed, 1);
      const embeddings = lengths.map((l) => this.encoder.apply(tf.slice(fed, [0, 0, 0], [-1, l, -1])));
      // One projector call over all prefixes: a few large matMuls beat many small ones. (A split
      // into one piece has a broken gradient in tfjs, hence the single-length case.)
      const projections =
        lengths.length === 1
          ? [this.projector.apply(embeddings[0])]
          : tf.split(this.projector.apply(tf.concat(embeddings, 0)), lengths.length, 0);
      const prefixes = lengths.map((length, i) => ({
        length,
        projection: projections[i],
        embedding: embeddings[i],
      }));
      return { prefixes, decoder, auxLoss: decoder.auxLoss } as unknown as tf.TensorContainer;
    }) as unknown as StudentOutput;
  }

  /**
   * The encoder embedding [B, d] of given symbol sequences (int32 [B, T], T ≤ maxLength), fed as
   * the discretizer would emit them: one-hots, or VQ/FSQ code vectors.
   */
  embedSymbols(symbols: tf.Tensor): tf.Tensor {
    if (symbols.dtype !== 'int32' || symbols.rank !== 2) {
      throw new Error(
        `Student.embedSymbols: expected int32 symbols [B, T], got ${symbols.dtype} [${symbols.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => this.encoder.apply(this.discretizer.lookup(symbols)));
  }

  /** Inference helper: the symbols of each input and where each symbol looked. */
  encode(tokens: tf.Tensor, opts: { steps?: number } = {}): EncodeResult {
    return tf.tidy(() => {
      const out = this.decoder.generate(tokens, { mode: 'inference', steps: opts.steps });
      // out.crossAttention[step][layer] is [B, heads, N]: stack the steps as queries, then the layers.
      const perLayer = out.crossAttention[0].map((_, l) =>
        tf.stack(
          out.crossAttention.map((layers) => layers[l]),
          2,
        ),
      );
      return { symbols: out.symbols, crossAttention: tf.stack(perLayer, 0) };
    });
  }

  /** Variables an optimizer should update (everything but frozen ones such as weight_g and EMA codebooks). */
  trainableVariables(): tf.Variable[] {
    return this.store.trainable();
  }

  /** The trainable parameters by store name (`decoder.blocks.0.self_attn.q.weight`…), in store order. */
  namedTrainableVariables(): [string, tf.Variable][] {
    const trainable = new Set(this.store.trainable());
    return this.store
      .names()
      .map((n): [string, tf.Variable] => [n, this.store.get(n)])
      .filter(([, v]) => trainable.has(v));
  }

  /** A checkpoint: JSON (kind, format version, full config) + safetensors weights. */
  async save(meta: Record<string, unknown> = {}): Promise<{ json: string; weights: Uint8Array }> {
    const tensors = await this.store.toHost();
    return encodeCheckpoint(STUDENT_KIND, this.config, tensors, {
      ...meta,
      studentVersion: STUDENT_VERSION,
      noiseRngState: this.noiseRng.getState(),
    });
  }

  /** Rebuilds a student from `save()` output; every parameter must be present with its shape. */
  static load(json: string, weights: Uint8Array, opts: { source?: string } = {}): Student {
    const src = opts.source ?? 'checkpoint';
    const ckpt = decodeCheckpoint<StudentConfigInput>(json, weights, { kind: STUDENT_KIND, source: src });
    const version = ckpt.json.meta?.studentVersion;
    if (version !== STUDENT_VERSION) {
      throw new Error(
        `${src}.json: meta.studentVersion is ${JSON.stringify(version)}; this build reads student version ${STUDENT_VERSION}`,
      );
    }
    const student = new Student(ckpt.json.config);
    try {
      student.store.load(ckpt.tensors, { source: `${src}.safetensors` });
      const noise = ckpt.json.meta?.noiseRngState;
      if (noise !== undefined) {
        if (!Array.isArray(noise) || noise.length !== 4 || !noise.every((w) => Number.isInteger(w))) {
          throw new Error(`${src}.json: meta.noiseRngState must be 4 integers, got ${JSON.stringify(noise)}`);
        }
        student.noiseRng.setState(noise);
      }
    } catch (e) {
      student.dispose();
      throw e;
    }
    return student;
  }

  dispose(): void {
    this.discretizer.dispose();
    this.store.dispose();
  }
}
