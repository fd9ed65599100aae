import { parseConfig } from '@symseq/nn';
import { z } from 'zod';

/** `format` and `version` of the folder written by `symseq export`. */
export const EXPORT_FORMAT = 'symseq-demo-export';
export const EXPORT_VERSION = 1;

const positiveInt = z.number().int().positive();
const relativePath = z.string().min(1);

export const manifestSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  student: z.object({ json: relativePath, weights: relativePath }),
  teacher: z.object({
    kind: z.literal('mobilenet'),
    id: z.string().optional(),
    /** The TF.js layers model (`model.json`, shards beside it), relative to the manifest. */
    model: relativePath,
    inputSize: positiveInt,
    layer: z.string().min(1),
  }),
  /** Teacher token grid [rows, cols]. */
  grid: z.tuple([positiveInt, positiveInt]),
  /** Prefix lengths whose embeddings the gallery carries. */
  lengths: z.array(positiveInt).min(1),
  classes: z.array(z.string()),
  gallery: relativePath,
});

export type DemoManifest = z.output<typeof manifestSchema>;

const galleryEntrySchema = z.object({
  file: relativePath,
  label: z.number().int().nonnegative().optional(),
  class: z.string().optional(),
  symbols: z.array(z.number().int().nonnegative()).min(1),
  /** Student embedding per prefix length ("1", "2", …). */
  embeddings: z.record(z.string(), z.array(z.number())),
});

export type GalleryEntry = z.output<typeof galleryEntrySchema>;

/** Validates `manifest.json`; `source` (its URL) names it in every error. */
export function parseManifest(json: unknown, source: string): DemoManifest {
  if (typeof json === 'object' && json !== null && 'format' in json && json.format !== EXPORT_FORMAT) {
    throw new Error(
      `${source}: format is ${JSON.stringify(json.format)}, expected "${EXPORT_FORMAT}" (written by \`symseq export\`)`,
    );
  }
  if (typeof json === 'object' && json !== null && 'version' in json && json.version !== EXPORT_VERSION) {
    throw new Error(
      `${source}: version ${JSON.stringify(json.version)} is not supported; this demo reads version ${EXPORT_VERSION}`,
    );
  }
  return parseConfig(manifestSchema, json, source);
}

/**
 * Validates `gallery.json` against the manifest and the student: every entry has `maxLength`
 * symbols below `vocabSize`, and one embedding of size `dim` for each of the manifest's lengths.
 */
export function parseGallery(
  json: unknown,
  source: string,
  expect: { lengths: number[]; maxLength: number; vocabSize: number; dim: number },
): GalleryEntry[] {
  const entries = parseConfig(z.array(galleryEntrySchema), json, source);
  entries.forEach((e, i) => {
    const where = `${source}: entry ${i} (${e.file})`;
    if (e.symbols.length !== expect.maxLength) {
      throw new Error(`${where} has ${e.symbols.length} symbols, expected ${expect.maxLength}`);
    }
    const bad = e.symbols.find((s) => s >= expect.vocabSize);
    if (bad !== undefined)
      throw new Error(`${where}: symbol ${bad} is outside the vocabulary 0..${expect.vocabSize - 1}`);
    for (const l of expect.lengths) {
      const v = e.embeddings[String(l)];
      if (!v) throw new Error(`${where} has no embedding for prefix length ${l}`);
      if (v.length !== expect.dim) {
        throw new Error(`${where}: embedding for length ${l} has ${v.length} values, expected ${expect.dim}`);
      }
    }
  });
  return entries;
}
