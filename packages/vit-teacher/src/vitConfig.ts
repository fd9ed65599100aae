import { parseConfig } from '@symseq/nn';
import { z } from 'zod';

const positiveInt = z.number().int().positive();

/** Architecture of a DINO Vision Transformer. */
export const vitConfigSchema = z
  .object({
    /** Side of the square images the position embeddings were trained for (224 for DINO). */
    imgSize: positiveInt.default(224),
    patchSize: positiveInt,
    embedDim: positiveInt,
    depth: positiveInt,
    heads: positiveInt,
    mlpRatio: z.number().positive().default(4),
    qkvBias: z.boolean().default(true),
    /** LayerNorm epsilon; DINO trains with 1e-6 (Hugging Face configs say 1e-12, a conversion artefact). */
    eps: z.number().positive().default(1e-6),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.embedDim % c.heads !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['heads'],
        message: `embedDim ${c.embedDim} is not divisible by ${c.heads}`,
      });
    }
    if (c.imgSize % c.patchSize !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['imgSize'],
        message: `${c.imgSize} is not a multiple of patchSize ${c.patchSize}`,
      });
    }
  });

export type ViTConfig = z.output<typeof vitConfigSchema>;
export type ViTConfigInput = z.input<typeof vitConfigSchema>;

/** DINO's released backbones (facebookresearch/dino) and a tiny one for tests. */
export const VIT_PRESETS = {
  'vit-s16': { imgSize: 224, patchSize: 16, embedDim: 384, depth: 12, heads: 6 },
  'vit-s8': { imgSize: 224, patchSize: 8, embedDim: 384, depth: 12, heads: 6 },
  'vit-b16': { imgSize: 224, patchSize: 16, embedDim: 768, depth: 12, heads: 12 },
  'vit-b8': { imgSize: 224, patchSize: 8, embedDim: 768, depth: 12, heads: 12 },
  'vit-tiny-test': { imgSize: 32, patchSize: 8, embedDim: 48, depth: 2, heads: 3 },
} as const satisfies Record<string, ViTConfigInput>;

export type ViTPresetName = keyof typeof VIT_PRESETS;

/** A validated config from a preset name or a (partial) object. */
export function vitConfig(config: ViTPresetName | ViTConfigInput): ViTConfig {
  if (typeof config === 'string') {
    const preset = VIT_PRESETS[config as ViTPresetName];
    if (!preset) {
      throw new Error(`vitConfig: unknown preset '${config}'; known: ${Object.keys(VIT_PRESETS).join(', ')}`);
    }
    return parseConfig(vitConfigSchema, preset, `ViT config '${config}'`);
  }
  return parseConfig(vitConfigSchema, config, 'ViT config');
}
