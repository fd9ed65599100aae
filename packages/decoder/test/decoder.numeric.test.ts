// SymbolDecoder: cached generation against full-prefix recomputation (values and gradients),
// teacher forcing, causality, attention normalisation, and the once-per-forward memory keys/values,
// each with the real discretizers of @symseq/discretize.
import { type DecoderOutput, SymbolDecoder } from '@symseq/decoder';
import {
  type Discretizer,
  FSQ,
  GumbelSoftmax,
  type Mode,
  TemperatureSoftmax,
  VectorQuantizer,
} from '@symseq/discretize';
import { ParamStore, Rng } from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { expectClose, maxAbs, randn, randomizeParams, sumAll } from './helpers';

const B = 3;
const N = 5;
const DT = 6;
const L = 5;
const config = { teacherDim: DT, dim: 8, heads: 2, layers: 2, mlpRatio: 2, maxLength: L };

interface Setup {
  name: string;
  mode: Mode;
  make: (store: ParamStore) => Discretizer;
  /** Restores any noise state so that two runs see the same draws. */
  reset?: (d: Discretizer) => () => void;
}

const setups: Setup[] = [
  {
    name: 'temperature softmax (straight-through)',
    mode: 'train',
    make: () => new TemperatureSoftmax({ numCodes: 7, temperature: 0.8 }),
  },
  {
    name: 'Gumbel-softmax (straight-through, same noise)',
    mode: 'train',
    make: () => new GumbelSoftmax({ numCodes: 7, seed: 11 }),
    reset: (d) => {
      const rng = (d as GumbelSoftmax).rng;
      const state = rng.getState();
      return () => rng.setState(state);
    },
  },
  {
    name: 'vector quantizer (inference)',
    mode: 'inference',
    make: (store) => new VectorQuantizer(store.scope('vq'), { dim: 4, codebookSize: 7 }),
  },
  { name: 'FSQ', mode: 'train', make: () => new FSQ({ levels: [3, 3] }) },
];

const disposables: { dispose(): void }[] = [];
afterEach(() => {
  for (const d of disposables.splice(0)) d.dispose();
});

function build(setup: Setup, seed = 1) {
  const store = new ParamStore(new Rng(seed));
  const discretizer = setup.make(store);
  const decoder = new SymbolDecoder(store.scope('decoder'), config, discretizer);
  randomizeParams(store, seed + 100);
  const tokens = randn([B, N, DT], seed + 200);
  disposables.push(store, discretizer, tokens);
  return { store, discretizer, decoder, tokens };
}

/** A loss that touches every output of every step, with fixed random weights. */
function probeLoss(out: DecoderOutput, seed: number): tf.Scalar {
  const terms: tf.Tensor[] = [];
  out.logits.forEach((l, t) => {
    terms.push(tf.sum(tf.mul(l, randn(l.shape, seed + t))));
    out.crossAttention[t].forEach((a, j) => {
      terms.push(tf.sum(tf.mul(a, randn(a.shape, seed + 50 + 10 * t + j))));
    });
  });
  return sumAll(terms) as tf.Scalar;
}

describe.each(setups)('SymbolDecoder with $name', (setup) => {
  test('cached generation equals full-prefix recomputation: values and gradients', () => {
    const { store, discretizer, decoder, tokens } = build(setup);
    const restore = setup.reset?.(discretizer) ?? (() => {});
    const run = (cache: boolean) => {
      restore();
      const vars = store.trainable();
      let out: DecoderOutput | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const o = decoder.generate(tokens, { mode: setup.mode, cache });
        out = o;
        // Keep the outputs past variableGrads' scope.
        for (const t of [o.symbols, o.auxLoss, ...o.logits, ...o.fed, ...o.crossAttention.flat()]) tf.keep(t);
        return probeLoss(o, 7);
      }, vars);
      return { out: out!, value, grads, vars };
    };
    const cached = run(true);
    const full = run(false);

    const symbols = cached.out.symbols.arraySync() as number[][];
    expect(symbols).toEqual(full.out.symbols.arraySync());
    // The test means something only if symbols vary.
    expect(new Set(symbols.flat()).size).toBeGreaterThan(1);
    for (let t = 0; t < L; t++) {
      expectClose(cached.out.logits[t], full.out.logits[t], 1e-4, 1e-5, `logits ${t}`);
      expectClose(cached.out.fed[t], full.out.fed[t], 1e-4, 1e-5, `fed ${t}`);
      for (let l = 0; l < config.layers; l++) {
        expectClose(
          cached.out.crossAttention[t][l],
          full.out.crossAttention[t][l],
          1e-4,
          1e-6,
          `attn ${t}.${l}`,
        );
      }
    }
    expectClose(cached.value, full.value, 1e-4, 1e-4, 'loss');
    // Absolute tolerance relative to the largest gradient anywhere: some gradients are zero in
    // exact arithmetic (e.g. key biases, which softmax ignores) and only rounding noise here.
    const scale = Math.max(...cached.vars.map((v) => maxAbs(full.grads[v.name])));
    for (const name of store.names()) {
      const v = store.get(name);
      if (!cached.grads[v.name]) continue;
      expectClose(cached.grads[v.name], full.grads[v.name], 1e-3, 1e-5 * scale, `grad of ${name}`);
    }
    // Gradients reach the parameters only the fed-back path uses.
    const embed = decoder.embed.table ?? decoder.embed.codeEmbed!.weight;
    expect(maxAbs(cached.grads[embed.name])).toBeGreaterThan(0);
    tf.dispose([cached.value, full.value, cached.grads, full.grads]);
    tf.dispose([cached.out, full.out] as unknown as tf.TensorContainer);
  });

  test('teacher forcing with the generated symbols reproduces the head outputs', () => {
    const { decoder, tokens } = build(setup, 2);
    const gen = decoder.generate(tokens, { mode: 'inference' });
    const fed = tf.stack(gen.fed, 1);
    const tf_ = decoder.teacherForced(tokens, fed);
    expectClose(tf_.logits, tf.stack(gen.logits, 1), 1e-4, 1e-5, 'logits');
    for (let l = 0; l < config.layers; l++) {
      const perStep = tf.stack(
        gen.crossAttention.map((a) => a[l]),
        2,
      );
      expectClose(tf_.crossAttention[l], perStep, 1e-4, 1e-6, `attention layer ${l}`);
    }
    tf.dispose([gen as unknown as tf.TensorContainer, fed, tf_ as unknown as tf.TensorContainer]);
  });
});

describe('SymbolDecoder structure', () => {
  const setup = setups[0];

  test('causality: changing the symbol fed at position k leaves head outputs up to k unchanged', () => {
    const { decoder, tokens } = build(setup, 3);
    const fed = tf.softmax(randn([B, L, 7], 5));
    const k = 2; // fed[:, 1] is the input of position 2
    const changed = tf.concat(
      [
        tf.slice(fed, [0, 0, 0], [-1, 1, -1]),
        tf.softmax(randn([B, 1, 7], 6)),
        tf.slice(fed, [0, 2, 0], [-1, -1, -1]),
      ],
      1,
    );
    const a = decoder.teacherForced(tokens, fed);
    const b = decoder.teacherForced(tokens, changed);
    const before = (x: tf.Tensor) => tf.slice(x, [0, 0, 0], [-1, k, -1]);
    expectClose(before(b.logits), before(a.logits), 1e-6, 1e-7, 'positions < k');
    for (let p = k; p < L; p++) {
      const at = (x: tf.Tensor) => tf.slice(x, [0, p, 0], [-1, 1, -1]);
      expect(maxAbs(tf.sub(at(b.logits), at(a.logits))), `position ${p} must change`).toBeGreaterThan(1e-3);
    }
    for (let l = 0; l < config.layers; l++) {
      const rows = (x: tf.Tensor) => tf.slice(x, [0, 0, 0, 0], [-1, -1, k, -1]);
      expectClose(rows(b.crossAttention[l]), rows(a.crossAttention[l]), 1e-6, 1e-7, `attention ${l}`);
    }
  });

  test('cross-attention rows are probabilities over the N teacher tokens', () => {
    const { decoder, tokens } = build(setup, 4);
    const out = decoder.generate(tokens, { mode: 'inference' });
    expect(out.crossAttention.length).toBe(L);
    for (const perLayer of out.crossAttention) {
      expect(perLayer.length).toBe(config.layers);
      for (const a of perLayer) {
        expect(a.shape).toEqual([B, config.heads, N]);
        expect(tf.min(a).dataSync()[0]).toBeGreaterThanOrEqual(0);
        expectClose(tf.sum(a, -1), new Float32Array(B * config.heads).fill(1), 1e-5, 1e-6, 'row sums');
      }
    }
    tf.dispose(out as unknown as tf.TensorContainer);
  });

  test('memory keys/values are computed once per forward; each cached step computes one position', () => {
    const { decoder, tokens } = build(setup, 5);
    const kvSpies = decoder.blocks.map((b) => vi.spyOn(b.crossAttn, 'keysValues'));
    const stepSpy = vi.spyOn(decoder.blocks[0].selfAttn, 'applyCached');
    const out = decoder.generate(tokens, { mode: 'inference' });
    for (const spy of kvSpies) expect(spy).toHaveBeenCalledTimes(1);
    expect(stepSpy).toHaveBeenCalledTimes(L);
    for (const call of stepSpy.mock.calls) expect(call[0].shape).toEqual([B, 1, config.dim]);
    tf.dispose(out as unknown as tf.TensorContainer);
    vi.restoreAllMocks();
  });

  test('returns int32 symbols [B, steps], per-step logits and fed one-hots', () => {
    const { decoder, tokens } = build(setup, 6);
    const out = decoder.generate(tokens, { mode: 'inference', steps: 3 });
    expect(out.symbols.dtype).toBe('int32');
    expect(out.symbols.shape).toEqual([B, 3]);
    expect(out.logits.map((l) => l.shape)).toEqual([
      [B, 7],
      [B, 7],
      [B, 7],
    ]);
    // The fed one-hot of step t marks the symbol of step t.
    const ids = out.symbols.arraySync() as number[][];
    out.fed.forEach((f, t) => {
      const rows = f.arraySync() as number[][];
      rows.forEach((row, b) => {
        expect(row.reduce((a, x) => a + x, 0)).toBe(1);
        expect(row[ids[b][t]]).toBe(1);
      });
    });
    tf.dispose(out as unknown as tf.TensorContainer);
  });

  test('bad inputs give clear errors', () => {
    const { decoder } = build(setup, 7);
    const wrongDim = tf.zeros([1, N, DT + 1]);
    expect(() => decoder.generate(wrongDim, { mode: 'inference' })).toThrow(
      `SymbolDecoder: teacher tokens [B, N, Dt]: expected last dimension ${DT}, got shape [1, ${N}, ${DT + 1}]`,
    );
    expect(() => decoder.generate(tf.zeros([N, DT]), { mode: 'inference' })).toThrow(
      'expected a tensor of rank 3',
    );
    expect(() => decoder.generate(tf.zeros([1, N, DT]), { mode: 'inference', steps: L + 1 })).toThrow(
      `steps must be an integer in 1..${L}, got ${L + 1}`,
    );
    expect(
      () =>
        new SymbolDecoder(
          new ParamStore(new Rng(0)).scope('d'),
          { teacherDim: 4, dim: 10, heads: 3 },
          decoder.discretizer,
        ),
    ).toThrow('heads: dim must be divisible by heads');
    expect(
      () =>
        new SymbolDecoder(
          new ParamStore(new Rng(0)).scope('d'),
          { teacherDim: 4, layer: 2 } as never,
          decoder.discretizer,
        ),
    ).toThrow("layer: unknown key (did you mean 'layers'?)");
  });
});
