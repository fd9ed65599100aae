import { type DinoHeadConfig, readSafetensors } from '@symseq/nn';
import { type FetchBytesOptions, fetchBytes } from './fetchBytes';
import { VisionTransformer, type VisionTransformerOptions } from './vit';
import { VIT_PRESETS, type ViTConfig, type ViTConfigInput, type ViTPresetName, vitConfig } from './vitConfig';
import { convertVitWeights, detectLayout, inferHeadConfig, inferVitConfig } from './weightNames';

export interface LoadVisionTransformerOptions
  extends Omit<VisionTransformerOptions, 'head'>,
    FetchBytesOptions {
  /**
   * Architecture, as a preset name or fields. Everything but `heads` and `eps` is read from the
   * tensor shapes; given fields must agree with the file. `heads` defaults to embedDim / 64 (DINO's
   * ViT-S and ViT-B both use 64-dim heads).
   */
  config?: ViTPresetName | Partial<ViTConfigInput>;
  /** Backbone name prefix, when a file holds several (default: found from the CLS token's name). */
  prefix?: string;
  /** Attach the DINO projection head when the file has one (default true). */
  head?: boolean;
  /** Names the file in error messages (default: the URL, or 'safetensors'). */
  name?: string;
}

/**
 * A frozen DINO ViT from `.safetensors` bytes or a URL (downloaded with fetch(), reporting
 * `onProgress(loaded, total)`). Reads Hugging Face `ViTModel` names (`embeddings.*`,
 * `encoder.layer.N.*`, optionally under `vit.`) and timm/DINO names (`cls_token`, `blocks.N.attn.qkv`,
 * optionally under `backbone.`), found automatically, plus a DINO head (`head.mlp.*`,
 * `head.last_layer.weight_g/_v`) when present.
 */
export async function loadVisionTransformer(
  source: Uint8Array | ArrayBuffer | string | URL,
  opts: LoadVisionTransformerOptions = {},
): Promise<VisionTransformer> {
  const { fetch, onProgress, ...rest } = opts;
  if (typeof source === 'string' || source instanceof URL) {
    const bytes = await fetchBytes(source, { fetch, onProgress });
    return visionTransformerFromSafetensors(bytes, { ...rest, name: rest.name ?? String(source) });
  }
  return visionTransformerFromSafetensors(
    source instanceof Uint8Array ? source : new Uint8Array(source),
    rest,
  );
}

/** The synchronous part of `loadVisionTransformer`: bytes already in memory. */
export function visionTransformerFromSafetensors(
  bytes: Uint8Array,
  opts: Omit<LoadVisionTransformerOptions, keyof FetchBytesOptions> = {},
): VisionTransformer {
  const source = opts.name ?? 'safetensors';
  const { tensors, metadata } = readSafetensors(bytes, source);
  const layout = detectLayout(Object.keys(tensors), source, opts.prefix);
  const inferred = inferVitConfig(tensors, layout, source);
  const config = resolveConfig(inferred, opts.config, metadata, source);
  const head: DinoHeadConfig | undefined =
    opts.head !== false && layout.headPrefix
      ? inferHeadConfig(tensors, layout.headPrefix, source)
      : undefined;
  if (head && head.inDim !== config.embedDim) {
    throw new Error(
      `${source}: DINO head takes ${head.inDim} features, the backbone gives ${config.embedDim}`,
    );
  }
  const internal = convertVitWeights(tensors, layout, config, head, source);
  const { config: _c, prefix: _p, head: _h, name: _n, ...vitOpts } = opts;
  const vit = new VisionTransformer(config, {
    ...vitOpts,
    head,
    id: opts.id ?? defaultId(config, opts.inputSize ?? config.imgSize),
  });
  try {
    vit.load(internal, source);
  } catch (e) {
    vit.dispose();
    throw e;
  }
  return vit;
}

function resolveConfig(
  inferred: ReturnType<typeof inferVitConfig>,
  given: ViTPresetName | Partial<ViTConfigInput> | undefined,
  metadata: Record<string, string>,
  source: string,
): ViTConfig {
  if (typeof given === 'string' && !(given in VIT_PRESETS)) vitConfig(given); // throws: unknown preset
  const wanted: Partial<ViTConfigInput> =
    typeof given === 'string' ? VIT_PRESETS[given] : { ...(given ?? {}) };
  for (const [key, value] of Object.entries(inferred)) {
    const w = wanted[key as keyof ViTConfigInput];
    if (w !== undefined && w !== value) {
      throw new Error(`${source}: config says ${key} ${w} but the weights have ${key} ${value}`);
    }
  }
  const metaHeads = Number(metadata.heads ?? metadata.num_heads ?? metadata.num_attention_heads);
  let heads = wanted.heads ?? (Number.isInteger(metaHeads) && metaHeads > 0 ? metaHeads : undefined);
  if (heads === undefined) {
    if (inferred.embedDim % 64 !== 0) {
      throw new Error(
        `${source}: cannot tell the number of attention heads for embedDim ${inferred.embedDim} ` +
          `(not a multiple of DINO's 64-dim heads); pass config.heads`,
      );
    }
    heads = inferred.embedDim / 64;
  }
  return vitConfig({ ...inferred, eps: wanted.eps, heads });
}

function defaultId(c: ViTConfig, inputSize: number): string {
  const size = c.embedDim === 384 ? 's' : c.embedDim === 768 ? 'b' : `-d${c.embedDim}-p`;
  return `dino-vit${size}${c.patchSize}@${inputSize}`;
}
