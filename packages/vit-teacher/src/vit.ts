import {
  DinoHead,
  type DinoHeadConfigInput,
  EncoderBlock,
  type HostTensor,
  init,
  LayerNorm,
  Linear,
  ParamStore,
  Rng,
} from '@symseq/nn';
import * as tf from '@tensorflow/tfjs-core';
import { interpolatePosEmbed } from './posEmbed';
import {
  assertImages,
  IMAGENET_NORMALIZATION,
  type PixelNormalization,
  preprocessImages,
} from './preprocess';
import type { Teacher, TeacherDims, TeacherForwardOptions, TeacherOutput } from './teacher';
import { type ViTConfig, type ViTConfigInput, type ViTPresetName, vitConfig } from './vitConfig';

export interface VisionTransformerOptions {
  /** Side of the square images the network sees; images are resized to it. Default: `config.imgSize`. */
  inputSize?: number;
  /** Pixel normalisation after resizing. Default: ImageNet mean/std, as DINO. */
  normalization?: PixelNormalization;
  /** Adds a DINO projection head (`head`) with this shape. */
  head?: DinoHeadConfigInput;
  /** Seed of the random initialisation (DINO's: truncated normal 0.02, LayerNorm 1/0). */
  seed?: number;
  id?: string;
}

/**
 * DINO's Vision Transformer, frozen: patch embedding (a matMul over flattened p×p×3 patches,
 * equal to DINO's stride-p convolution), CLS token, position embeddings (bicubically
 * interpolated for other grids exactly as DINO does), pre-norm blocks, final LayerNorm.
 *
 * Parameter names (in `store`): `patch_embed.{weight [p·p·3, D], bias}`, `cls_token` [1, 1, D],
 * `pos_embed` [1, 1 + n², D], `blocks.i.{norm1, attn.{q,k,v,proj}, norm2, mlp.{fc1,fc2}}`,
 * `norm`, and `head.*` when a DINO head is attached. Patch rows are ordered (row, col, channel).
 */
export class VisionTransformer implements Teacher {
  readonly config: ViTConfig;
  readonly id: string;
  readonly inputSize: number;
  readonly dims: TeacherDims;
  readonly normalization: PixelNormalization;
  readonly store: ParamStore;
  readonly head?: DinoHead;
  readonly blocks: EncoderBlock[];
  private readonly patchEmbed: Linear;
  private readonly clsToken: tf.Variable;
  private readonly posEmbed: tf.Variable;
  private readonly norm: LayerNorm;
  /** Interpolated position embeddings per token grid ("rows×cols"), computed once each. */
  private readonly posCache = new Map<string, tf.Tensor>();

  constructor(config: ViTPresetName | ViTConfigInput, opts: VisionTransformerOptions = {}) {
    const c = vitConfig(config);
    this.config = c;
    this.inputSize = opts.inputSize ?? c.imgSize;
    if (!Number.isInteger(this.inputSize) || this.inputSize <= 0 || this.inputSize % c.patchSize !== 0) {
      throw new Error(
        `VisionTransformer: inputSize ${this.inputSize} must be a positive multiple of the patch size ${c.patchSize}`,
      );
    }
    this.normalization = opts.normalization ?? IMAGENET_NORMALIZATION;
    const grid = this.inputSize / c.patchSize;
    const native = c.imgSize / c.patchSize;
    this.dims = {
      tokenDim: c.embedDim,
      pooledDim: c.embedDim,
      grid: [grid, grid],
      numTokens: grid * grid,
      heads: c.heads,
    };
    this.id = opts.id ?? `vit-d${c.embedDim}-p${c.patchSize}@${this.inputSize}`;

    this.store = new ParamStore(new Rng(opts.seed ?? 0));
    const root = this.store.scope('');
    const p = c.patchSize;
    this.patchEmbed = new Linear(root.scope('patch_embed'), p * p * 3, c.embedDim);
    this.clsToken = root.add('cls_token', [1, 1, c.embedDim], init.truncNormal(0.02));
    this.posEmbed = root.add('pos_embed', [1, 1 + native * native, c.embedDim], init.truncNormal(0.02));
    this.blocks = Array.from(
      { length: c.depth },
      (_, i) =>
        new EncoderBlock(root.scope(`blocks.${i}`), {
          dim: c.embedDim,
          heads: c.heads,
          mlpRatio: c.mlpRatio,
          qkvBias: c.qkvBias,
          eps: c.eps,
        }),
    );
    this.norm = new LayerNorm(root.scope('norm'), c.embedDim, c.eps);
    if (opts.head) this.head = new DinoHead(root.scope('head'), opts.head);
    this.store.setTrainable(false);
  }

  /** [0, 1] RGB images [B, H, W, 3] → resized to `inputSize`, normalised → `encode`. */
  forward(images: tf.Tensor4D, opts: TeacherForwardOptions = {}): TeacherOutput {
    assertImages(images, `VisionTransformer '${this.id}'`);
    return tf.tidy((): TeacherOutput => {
      const x = preprocessImages(
        images,
        this.inputSize,
        this.normalization,
        `VisionTransformer '${this.id}'`,
      );
      return this.encode(x, opts);
    });
  }

  /**
   * Already normalised images [B, H, W, 3] whose sides are multiples of the patch size (any size:
   * position embeddings are interpolated) → normalised patch tokens, normalised CLS, grid and,
   * when asked, the last block's attention probabilities.
   */
  encode(pixels: tf.Tensor4D, opts: TeacherForwardOptions = {}): TeacherOutput {
    const what = `VisionTransformer '${this.id}'`;
    assertImages(pixels, what);
    const [b, h, w] = pixels.shape;
    const p = this.config.patchSize;
    const d = this.config.embedDim;
    if (h % p !== 0 || w % p !== 0) {
      throw new Error(`${what}: image size ${h}×${w} is not a multiple of the patch size ${p}`);
    }
    const rows = h / p;
    const cols = w / p;
    const n = rows * cols;
    return tf.tidy((): TeacherOutput => {
      // [B, H, W, 3] → [B·rows, p, cols, p·3] → [B·rows, cols, p, p·3] → [B, N, p·p·3]
      const patches = tf.reshape(tf.transpose(tf.reshape(pixels, [b * rows, p, cols, p * 3]), [0, 2, 1, 3]), [
        b,
        n,
        p * p * 3,
      ]);
      const embedded = this.patchEmbed.apply(patches);
      const cls = tf.tile(this.clsToken, [b, 1, 1]);
      let x = tf.add(tf.concat([cls, embedded], 1), this.positionEmbedding(rows, cols));
      let attention: tf.Tensor | undefined;
      this.blocks.forEach((block, i) => {
        const last = i === this.blocks.length - 1;
        const r = block.apply(x, { returnProbs: last && opts.attention === true });
        x = r.out;
        if (last) attention = r.probs;
      });
      const y = this.norm.apply(x);
      const out: TeacherOutput = {
        tokens: tf.slice(y, [0, 1, 0], [b, n, d]) as tf.Tensor3D,
        pooled: tf.reshape(tf.slice(y, [0, 0, 0], [b, 1, d]), [b, d]) as tf.Tensor2D,
        grid: [rows, cols],
      };
      if (attention) out.attention = attention as tf.Tensor4D;
      return out;
    });
  }

  /** Position embeddings [1, 1 + rows·cols, D] for a token grid; computed on the host once per grid. */
  positionEmbedding(rows: number, cols: number): tf.Tensor {
    const key = `${rows}x${cols}`;
    let pe = this.posCache.get(key);
    if (!pe) {
      const d = this.config.embedDim;
      const values = interpolatePosEmbed(this.posEmbed.dataSync() as Float32Array, d, rows, cols);
      pe = tf.keep(tf.tensor3d(values, [1, 1 + rows * cols, d]));
      this.posCache.set(key, pe);
    }
    return pe;
  }

  /**
   * Assigns weights by internal name (see the class comment); every parameter must be given,
   * with its shape. `source` names the file in errors. Use `loadVisionTransformer` for
   * Hugging Face or timm/DINO files.
   */
  load(tensors: Record<string, HostTensor>, source?: string): void {
    this.store.load(tensors, { source });
    this.clearPositionCache();
  }

  dispose(): void {
    this.clearPositionCache();
    this.store.dispose();
  }

  private clearPositionCache(): void {
    for (const t of this.posCache.values()) t.dispose();
    this.posCache.clear();
  }
}
