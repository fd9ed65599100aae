import { describe, expect, it } from 'vitest';
import { parseGallery, parseManifest } from '../src/manifest';

const manifest = {
  format: 'symseq-demo-export',
  version: 1,
  student: { json: 'student.json', weights: 'student.safetensors' },
  teacher: {
    kind: 'mobilenet',
    id: 'm',
    model: 'teacher/model.json',
    inputSize: 64,
    layer: 'conv_pw_13_relu',
  },
  grid: [2, 2],
  lengths: [1, 2],
  classes: ['a', 'b'],
  gallery: 'gallery.json',
};

describe('parseManifest', () => {
  it('accepts what `symseq export` writes', () => {
    expect(parseManifest(manifest, 'm.json')).toEqual(manifest);
  });

  it('names the file and each bad field', () => {
    expect(() => parseManifest({ ...manifest, format: 'other' }, 'x/manifest.json')).toThrow(
      'x/manifest.json: format is "other", expected "symseq-demo-export" (written by `symseq export`)',
    );
    expect(() => parseManifest({ ...manifest, version: 2 }, 'x/manifest.json')).toThrow(
      'x/manifest.json: version 2 is not supported; this demo reads version 1',
    );
    expect(() =>
      parseManifest(
        { ...manifest, grid: [2], teacher: { ...manifest.teacher, kind: 'vit' } },
        'x/manifest.json',
      ),
    ).toThrow(/^invalid x\/manifest\.json:\n {2}teacher\.kind: .*"mobilenet".*\n {2}grid: /);
  });
});

describe('parseGallery', () => {
  const expect4 = { lengths: [1, 2], maxLength: 3, vocabSize: 10, dim: 2 };
  const entry = {
    file: 'gallery/0000.png',
    label: 1,
    class: 'b',
    symbols: [1, 9, 0],
    embeddings: { 1: [0, 1], 2: [1, 1] },
  };

  it('accepts entries with every length the manifest names', () => {
    expect(parseGallery([entry], 'g.json', expect4)).toHaveLength(1);
  });

  it('names the entry, its file and what is wrong', () => {
    expect(() => parseGallery([entry, { ...entry, symbols: [1, 2] }], 'g.json', expect4)).toThrow(
      'g.json: entry 1 (gallery/0000.png) has 2 symbols, expected 3',
    );
    expect(() => parseGallery([{ ...entry, symbols: [1, 10, 0] }], 'g.json', expect4)).toThrow(
      'g.json: entry 0 (gallery/0000.png): symbol 10 is outside the vocabulary 0..9',
    );
    expect(() => parseGallery([{ ...entry, embeddings: { 1: [0, 1] } }], 'g.json', expect4)).toThrow(
      'g.json: entry 0 (gallery/0000.png) has no embedding for prefix length 2',
    );
    expect(() => parseGallery([{ ...entry, embeddings: { 1: [0, 1], 2: [1] } }], 'g.json', expect4)).toThrow(
      'g.json: entry 0 (gallery/0000.png): embedding for length 2 has 1 values, expected 2',
    );
    expect(() => parseGallery({}, 'g.json', expect4)).toThrow(/^invalid g\.json:/);
  });
});
