import { type DinoHeadConfig, type HostTensor, sameShape } from '@symseq/nn';
import type { ViTConfig } from './vitConfig';

/** The two naming schemes of DINO ViT weight files. */
export type WeightNaming = 'timm' | 'hf';

export const NAMING_LABEL: Record<WeightNaming, string> = {
  timm: 'timm/DINO naming',
  hf: 'Hugging Face ViTModel naming',
};

/** Where the backbone (and a DINO head, if any) sit in a file. */
export interface WeightLayout {
  naming: WeightNaming;
  /** Prefix of every backbone name, e.g. '', 'vit.' or 'backbone.'. */
  prefix: string;
  /** Prefix of the DINO head's names (e.g. 'head.'), when the file has one. */
  headPrefix?: string;
}

/** One tensor of the file: its name, the shape it must have, and how it becomes internal tensors. */
interface SourceTensor {
  source: string;
  shape: number[];
  put: (t: HostTensor, out: Record<string, HostTensor>) => void;
}

const CLS = { timm: 'cls_token', hf: 'embeddings.cls_token' } as const;

/**
 * Finds the naming and prefix from where the CLS token is (`cls_token`, `embeddings.cls_token`,
 * with any prefix such as `vit.` or `backbone.`), and a DINO head beside it (`head.last_layer.*`).
 */
export function detectLayout(names: string[], source: string, prefix?: string): WeightLayout {
  const candidates: { naming: WeightNaming; prefix: string }[] = [];
  for (const n of names) {
    if (n.endsWith(CLS.hf)) candidates.push({ naming: 'hf', prefix: n.slice(0, -CLS.hf.length) });
    else if (n.endsWith(CLS.timm)) candidates.push({ naming: 'timm', prefix: n.slice(0, -CLS.timm.length) });
  }
  const matching = prefix === undefined ? candidates : candidates.filter((c) => c.prefix === prefix);
  if (matching.length === 0) {
    throw new Error(
      `${source}: no ViT backbone found${prefix !== undefined ? ` under prefix '${prefix}'` : ''}: expected a tensor named ` +
        `'cls_token' (timm/DINO) or 'embeddings.cls_token' (Hugging Face), optionally prefixed` +
        ` (the file has ${names.length} tensors${
          names.length
            ? `, e.g. ${names
                .slice(0, 4)
                .map((n) => `'${n}'`)
                .join(', ')}`
            : ''
        })`,
    );
  }
  if (matching.length > 1) {
    throw new Error(
      `${source}: several ViT backbones found (prefixes ${matching.map((c) => `'${c.prefix}'`).join(', ')}); pass the prefix to load`,
    );
  }
  const { naming, prefix: p } = matching[0];
  const headBase = p.endsWith('backbone.') ? p.slice(0, -'backbone.'.length) : p;
  const headPrefix = `${headBase}head.`;
  const hasHead = names.some(
    (n) => n === `${headPrefix}last_layer.weight_v` || n === `${headPrefix}last_layer.weight`,
  );
  return { naming, prefix: p, headPrefix: hasHead ? headPrefix : undefined };
}

/** Architecture fields readable from tensor shapes; `heads` cannot be, and `eps` is not stored. */
export type InferredViTConfig = Omit<ViTConfig, 'heads' | 'eps'>;

export function inferVitConfig(
  tensors: Record<string, HostTensor>,
  layout: WeightLayout,
  source: string,
): InferredViTConfig {
  const p = layout.prefix;
  const hf = layout.naming === 'hf';
  const get = (name: string): HostTensor => {
    const t = tensors[p + name];
    if (!t) throw new Error(`${source}: missing tensor '${p + name}' (${NAMING_LABEL[layout.naming]})`);
    return t;
  };
  const kernelName = hf ? 'embeddings.patch_embeddings.projection.weight' : 'patch_embed.proj.weight';
  const kernel = get(kernelName);
  const [dim, inChans, ph, pw] = kernel.shape;
  if (kernel.shape.length !== 4 || inChans !== 3 || ph !== pw) {
    throw new Error(
      `${source}: tensor '${p + kernelName}' has shape [${kernel.shape.join(', ')}], expected [dim, 3, patch, patch]`,
    );
  }
  const posName = hf ? 'embeddings.position_embeddings' : 'pos_embed';
  const pos = get(posName);
  const n = Math.round(Math.sqrt((pos.shape[1] ?? 0) - 1));
  if (pos.shape.length !== 3 || pos.shape[0] !== 1 || pos.shape[2] !== dim || n * n + 1 !== pos.shape[1]) {
    throw new Error(
      `${source}: tensor '${p + posName}' has shape [${pos.shape.join(', ')}], expected [1, 1 + n², ${dim}] (a square grid)`,
    );
  }
  const blockRe = new RegExp(`^${escapeRe(p)}${hf ? 'encoder\\.layer' : 'blocks'}\\.(\\d+)\\.`);
  let depth = 0;
  for (const name of Object.keys(tensors)) {
    const m = blockRe.exec(name);
    if (m) depth = Math.max(depth, Number(m[1]) + 1);
  }
  if (depth === 0) throw new Error(`${source}: no transformer blocks found (${NAMING_LABEL[layout.naming]})`);
  const fc1 = get(hf ? 'encoder.layer.0.intermediate.dense.weight' : 'blocks.0.mlp.fc1.weight');
  const qkvBias = hf ? `${p}encoder.layer.0.attention.attention.query.bias` : `${p}blocks.0.attn.qkv.bias`;
  return {
    imgSize: n * ph,
    patchSize: ph,
    embedDim: dim,
    depth,
    mlpRatio: fc1.shape[0] / dim,
    qkvBias: qkvBias in tensors,
  };
}

export function inferHeadConfig(
  tensors: Record<string, HostTensor>,
  headPrefix: string,
  source: string,
): DinoHeadConfig {
  const re = new RegExp(`^${escapeRe(headPrefix)}mlp(?:\\.(\\d+))?\\.weight$`);
  const indices: number[] = [];
  for (const name of Object.keys(tensors)) {
    const m = re.exec(name);
    if (m) indices.push(m[1] === undefined ? -1 : Number(m[1]));
  }
  indices.sort((a, b) => a - b);
  const single = indices.length === 1 && indices[0] === -1;
  if (!single && (indices.length === 0 || indices.some((v, i) => v !== 2 * i))) {
    throw new Error(
      `${source}: DINO head '${headPrefix}mlp' has linear layers at [${indices.join(', ')}], expected 0, 2, 4, … ` +
        `(Linear, GELU, … without BatchNorm)`,
    );
  }
  const names = single ? [`${headPrefix}mlp.weight`] : indices.map((i) => `${headPrefix}mlp.${i}.weight`);
  const first = tensors[names[0]].shape;
  const last = tensors[names[names.length - 1]].shape;
  const v = tensors[`${headPrefix}last_layer.weight_v`] ?? tensors[`${headPrefix}last_layer.weight`];
  return {
    inDim: first[1],
    hiddenDim: names.length > 1 ? first[0] : 2048,
    bottleneckDim: last[0],
    outDim: v.shape[0],
    layers: names.length,
    normLastLayer: true,
  };
}

/**
 * Converts a file's tensors to the internal names and layouts of `VisionTransformer`:
 * torch Linear [out, in] → [in, out]; conv patch kernel [D, 3, p, p] → [p·p·3, D];
 * timm's fused qkv [3D, D] → q, k, v. Every tensor must be present with the shape the config
 * implies; errors name the tensor, the naming and both shapes. Extra tensors are ignored.
 */
export function convertVitWeights(
  tensors: Record<string, HostTensor>,
  layout: WeightLayout,
  config: ViTConfig,
  head: DinoHeadConfig | undefined,
  source: string,
): Record<string, HostTensor> {
  const entries =
    layout.naming === 'hf' ? hfEntries(layout.prefix, config) : timmEntries(layout.prefix, config);
  if (head && layout.headPrefix) entries.push(...headEntries(layout.headPrefix, head, tensors));
  const label = NAMING_LABEL[layout.naming];
  const missing = entries.filter((e) => !(e.source in tensors)).map((e) => `'${e.source}'`);
  if (missing.length) {
    throw new Error(
      `${source}: missing tensor${missing.length > 1 ? 's' : ''} ${missing.slice(0, 8).join(', ')}` +
        `${missing.length > 8 ? ` and ${missing.length - 8} more` : ''} (${label})`,
    );
  }
  const out: Record<string, HostTensor> = {};
  for (const e of entries) {
    const t = tensors[e.source];
    if (!sameShape(t.shape, e.shape)) {
      throw new Error(
        `${source}: tensor '${e.source}' has shape [${t.shape.join(', ')}], expected [${e.shape.join(', ')}] (${label})`,
      );
    }
    e.put(t, out);
  }
  return out;
}

function timmEntries(p: string, c: ViTConfig): SourceTensor[] {
  const d = c.embedDim;
  const hidden = Math.round(d * c.mlpRatio);
  const e: SourceTensor[] = [
    ...embeddingEntries(c, `${p}cls_token`, `${p}pos_embed`, `${p}patch_embed.proj`),
  ];
  for (let i = 0; i < c.depth; i++) {
    const s = `${p}blocks.${i}.`;
    const t = `blocks.${i}.`;
    e.push(...layerNormEntries(`${s}norm1`, `${t}norm1`, d));
    e.push({ source: `${s}attn.qkv.weight`, shape: [3 * d, d], put: splitQkv(t, d, 'weight') });
    if (c.qkvBias) e.push({ source: `${s}attn.qkv.bias`, shape: [3 * d], put: splitQkv(t, d, 'bias') });
    e.push(...linearEntries(`${s}attn.proj`, `${t}attn.proj`, d, d));
    e.push(...layerNormEntries(`${s}norm2`, `${t}norm2`, d));
    e.push(...linearEntries(`${s}mlp.fc1`, `${t}mlp.fc1`, d, hidden));
    e.push(...linearEntries(`${s}mlp.fc2`, `${t}mlp.fc2`, hidden, d));
  }
  e.push(...layerNormEntries(`${p}norm`, 'norm', d));
  return e;
}

function hfEntries(p: string, c: ViTConfig): SourceTensor[] {
  const d = c.embedDim;
  const hidden = Math.round(d * c.mlpRatio);
  const e: SourceTensor[] = [
    ...embeddingEntries(
      c,
      `${p}embeddings.cls_token`,
      `${p}embeddings.position_embeddings`,
      `${p}embeddings.patch_embeddings.projection`,
    ),
  ];
  for (let i = 0; i < c.depth; i++) {
    const s = `${p}encoder.layer.${i}.`;
    const t = `blocks.${i}.`;
    e.push(...layerNormEntries(`${s}layernorm_before`, `${t}norm1`, d));
    for (const [hfName, ours] of [
      ['query', 'q'],
      ['key', 'k'],
      ['value', 'v'],
    ]) {
      e.push(...linearEntries(`${s}attention.attention.${hfName}`, `${t}attn.${ours}`, d, d, c.qkvBias));
    }
    e.push(...linearEntries(`${s}attention.output.dense`, `${t}attn.proj`, d, d));
    e.push(...layerNormEntries(`${s}layernorm_after`, `${t}norm2`, d));
    e.push(...linearEntries(`${s}intermediate.dense`, `${t}mlp.fc1`, d, hidden));
    e.push(...linearEntries(`${s}output.dense`, `${t}mlp.fc2`, hidden, d));
  }
  e.push(...layerNormEntries(`${p}layernorm`, 'norm', d));
  return e;
}

function headEntries(hp: string, h: DinoHeadConfig, tensors: Record<string, HostTensor>): SourceTensor[] {
  const e: SourceTensor[] = [];
  for (let i = 0; i < h.layers; i++) {
    const inDim = i === 0 ? h.inDim : h.hiddenDim;
    const outDim = i === h.layers - 1 ? h.bottleneckDim : h.hiddenDim;
    const name = h.layers === 1 ? 'mlp' : `mlp.${2 * i}`;
    e.push(...linearEntries(`${hp}${name}`, `head.${name}`, inDim, outDim));
  }
  const k = h.outDim;
  const b = h.bottleneckDim;
  if (`${hp}last_layer.weight_v` in tensors) {
    e.push({
      source: `${hp}last_layer.weight_g`,
      shape: [k, 1],
      put: copyTo('head.last_layer.weight_g', [1, k]), // [K, 1] → [1, K]: same order
    });
    e.push({
      source: `${hp}last_layer.weight_v`,
      shape: [k, b],
      put: (t, out) => {
        out['head.last_layer.weight_v'] = { shape: [b, k], data: transpose2d(t.data, k, b) };
      },
    });
  } else {
    // Weight norm already folded in: g = ‖w‖ per prototype and v = w give the same weight.
    e.push({
      source: `${hp}last_layer.weight`,
      shape: [k, b],
      put: (t, out) => {
        const g = new Float32Array(k);
        for (let r = 0; r < k; r++) {
          let s = 0;
          for (let j = 0; j < b; j++) s += t.data[r * b + j] ** 2;
          g[r] = Math.sqrt(s);
        }
        out['head.last_layer.weight_g'] = { shape: [1, k], data: g };
        out['head.last_layer.weight_v'] = { shape: [b, k], data: transpose2d(t.data, k, b) };
      },
    });
  }
  return e;
}

function embeddingEntries(c: ViTConfig, cls: string, pos: string, patch: string): SourceTensor[] {
  const d = c.embedDim;
  const p = c.patchSize;
  const n = (c.imgSize / p) ** 2;
  return [
    { source: cls, shape: [1, 1, d], put: copyTo('cls_token', [1, 1, d]) },
    { source: pos, shape: [1, n + 1, d], put: copyTo('pos_embed', [1, n + 1, d]) },
    {
      source: `${patch}.weight`,
      shape: [d, 3, p, p],
      put: (t, out) => {
        // conv kernel [D, c, i, j] → rows ordered (i, j, c) to match NHWC patches
        const w = new Float32Array(p * p * 3 * d);
        for (let o = 0; o < d; o++)
          for (let ch = 0; ch < 3; ch++)
            for (let i = 0; i < p; i++)
              for (let j = 0; j < p; j++)
                w[((i * p + j) * 3 + ch) * d + o] = t.data[((o * 3 + ch) * p + i) * p + j];
        out['patch_embed.weight'] = { shape: [p * p * 3, d], data: w };
      },
    },
    { source: `${patch}.bias`, shape: [d], put: copyTo('patch_embed.bias', [d]) },
  ];
}

function linearEntries(
  source: string,
  target: string,
  inDim: number,
  outDim: number,
  bias = true,
): SourceTensor[] {
  const e: SourceTensor[] = [
    {
      source: `${source}.weight`,
      shape: [outDim, inDim],
      put: (t, out) => {
        out[`${target}.weight`] = { shape: [inDim, outDim], data: transpose2d(t.data, outDim, inDim) };
      },
    },
  ];
  if (bias) e.push({ source: `${source}.bias`, shape: [outDim], put: copyTo(`${target}.bias`, [outDim]) });
  return e;
}

function layerNormEntries(source: string, target: string, d: number): SourceTensor[] {
  return [
    { source: `${source}.weight`, shape: [d], put: copyTo(`${target}.weight`, [d]) },
    { source: `${source}.bias`, shape: [d], put: copyTo(`${target}.bias`, [d]) },
  ];
}

function splitQkv(target: string, d: number, kind: 'weight' | 'bias'): SourceTensor['put'] {
  return (t, out) => {
    ['q', 'k', 'v'].forEach((name, j) => {
      if (kind === 'bias') {
        out[`${target}attn.${name}.bias`] = { shape: [d], data: t.data.slice(j * d, (j + 1) * d) };
      } else {
        const rows = t.data.subarray(j * d * d, (j + 1) * d * d);
        out[`${target}attn.${name}.weight`] = { shape: [d, d], data: transpose2d(rows, d, d) };
      }
    });
  };
}

function copyTo(target: string, shape: number[]): SourceTensor['put'] {
  return (t, out) => {
    out[target] = { shape, data: t.data };
  };
}

/** [rows, cols] row-major → [cols, rows]. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
