export type MalformedReader =
  | 'safetensors'
  | 'checkpoint'
  | 'image'
  | 'cifar10-binary'
  | 'image-folder'
  | 'layers-model'
  | 'feature-cache'
  | 'train-config';

export interface MalformedCase {
  reader: MalformedReader;
  /** Absolute path: a file, a checkpoint stem (`.json` + `.safetensors`) or a folder. */
  path: string;
  /** What the reader's error must say; null for a well-formed control that must load. */
  expect: RegExp | null;
  /** Image-folder cases: the files a lenient open must report as skipped. */
  skipped?: string[];
}

export function generateMalformedCorpus(outDir: string): MalformedCase[];
