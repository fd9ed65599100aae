import { type SymbolMaps, symbolAttentionMaps } from '@symseq/attnviz';
import { Student } from '@symseq/decoder';
import { fetchBytes, type LayersModelTeacher, mobilenetTeacher } from '@symseq/vit-teacher';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { toUnitRgb } from './image';
import { type DemoManifest, type GalleryEntry, parseGallery, parseManifest } from './manifest';

/** What the student says about one image. */
export interface Description {
  /** The symbol sequence, L ints. */
  symbols: number[];
  /** One attention map per symbol on the token grid (last decoder layer, mean of heads, min-max). */
  maps: SymbolMaps;
  /** Student embedding of each prefix: `embeddings[l - 1]` for l = 1…L. */
  embeddings: Float32Array[];
}

/** A gallery image with its embedding at every prefix length 1…L. */
export interface GalleryItem extends GalleryEntry {
  /** Absolute URL of the image. */
  url: string;
  /** `embeddings[l - 1]`, l = 1…L. */
  prefixEmbeddings: Float32Array[];
}

export type LoadProgress = (message: string) => void;

/** A model exported by `symseq export`: student, MobileNet teacher and gallery, ready to describe images. */
export class DemoModel {
  private constructor(
    readonly manifest: DemoManifest,
    readonly student: Student,
    readonly teacher: LayersModelTeacher,
    readonly gallery: GalleryItem[],
  ) {}

  /** Longest symbol sequence L. */
  get maxLength(): number {
    return this.student.config.maxLength;
  }

  /** Loads an export folder (`baseUrl` ends in `/`); each failure names the file and what was wrong. */
  static async load(baseUrl: string, progress: LoadProgress = () => {}): Promise<DemoModel> {
    const manifestUrl = new URL('manifest.json', baseUrl).href;
    progress(`reading ${manifestUrl}`);
    const manifest = parseManifest(await fetchJson(manifestUrl), manifestUrl);
    const at = (p: string) => new URL(p, baseUrl).href;

    progress('loading the student');
    const studentJsonUrl = at(manifest.student.json);
    const [studentJson, studentWeights] = await Promise.all([
      fetchText(studentJsonUrl),
      fetchBytes(at(manifest.student.weights)),
    ]);
    const student = Student.load(studentJson, studentWeights, {
      source: studentJsonUrl.replace(/\.json$/, ''),
    });
    const disposeOnError: { dispose(): void }[] = [student];
    try {
      progress('loading the MobileNet teacher');
      const teacherUrl = at(manifest.teacher.model);
      let layersModel: Awaited<ReturnType<typeof loadLayersModel>>;
      try {
        layersModel = await loadLayersModel(teacherUrl);
      } catch (e) {
        throw new Error(`teacher model ${teacherUrl} could not be loaded: ${(e as Error).message}`);
      }
      const teacher = mobilenetTeacher({
        model: layersModel as never,
        inputSize: manifest.teacher.inputSize,
        layer: manifest.teacher.layer,
      });
      disposeOnError.push(teacher);
      checkCompatible(manifest, student, teacher, manifestUrl);

      progress('loading the gallery');
      const galleryUrl = at(manifest.gallery);
      const entries = parseGallery(await fetchJson(galleryUrl), galleryUrl, {
        lengths: manifest.lengths,
        maxLength: student.config.maxLength,
        vocabSize: student.config.vocabSize,
        dim: student.config.dModel,
      });
      const gallery = await galleryWithAllLengths(entries, student, (f) => new URL(f, galleryUrl).href);
      return new DemoModel(manifest, student, teacher, gallery);
    } catch (e) {
      for (const d of disposeOnError) d.dispose();
      throw e;
    }
  }

  /** Symbols, attention maps and prefix embeddings of one RGBA image. */
  async describe(image: { width: number; height: number; data: ArrayLike<number> }): Promise<Description> {
    const L = this.maxLength;
    const [h, w] = this.manifest.grid;
    const { symbols, attention, embeddings } = tf.tidy(() => {
      const pixels = tf.tensor4d(toUnitRgb(image), [1, image.height, image.width, 3]);
      const { tokens } = this.teacher.forward(pixels);
      const encoded = this.student.encode(tokens);
      // [layers, B, heads, L, N]: the layout attnviz reads (its default layer is the last).
      const attention = encoded.crossAttention;
      const lengths = Array.from({ length: L }, (_, i) => i + 1);
      const out = this.student.forward(tokens, { mode: 'inference', lengths });
      return {
        symbols: encoded.symbols,
        attention,
        embeddings: tf.concat(
          out.prefixes.map((p) => p.embedding),
          0,
        ),
      };
    });
    try {
      const [sym, att, emb] = await Promise.all([symbols.data(), attention.data(), embeddings.data()]);
      const d = this.student.config.dModel;
      return {
        symbols: Array.from(sym),
        maps: symbolAttentionMaps({ data: att, shape: attention.shape }, { grid: [h, w], head: 'mean' }),
        embeddings: Array.from({ length: L }, (_, l) => (emb as Float32Array).slice(l * d, (l + 1) * d)),
      };
    } finally {
      tf.dispose([symbols, attention, embeddings]);
    }
  }

  dispose(): void {
    this.student.dispose();
    this.teacher.dispose();
  }
}

/** The teacher must produce what the student was trained on, on the grid the export states. */
function checkCompatible(
  manifest: DemoManifest,
  student: Student,
  teacher: LayersModelTeacher,
  source: string,
) {
  const { tokenDim, grid } = teacher.dims;
  if (tokenDim !== student.config.teacherDim) {
    throw new Error(
      `${source}: the teacher's layer '${manifest.teacher.layer}' gives ${tokenDim}-dim tokens, but the student reads ${student.config.teacherDim}`,
    );
  }
  if (grid[0] !== manifest.grid[0] || grid[1] !== manifest.grid[1]) {
    throw new Error(
      `${source}: grid is [${manifest.grid.join(', ')}], but the teacher at ${manifest.teacher.inputSize} px gives [${grid.join(', ')}]`,
    );
  }
}

/**
 * The export carries embeddings at a few lengths (1, 2, 4, 8); the slider offers every length, and a
 * prefix embedding depends only on the prefix's symbols, so the missing ones are computed from them.
 */
async function galleryWithAllLengths(
  entries: GalleryEntry[],
  student: Student,
  resolveUrl: (file: string) => string,
): Promise<GalleryItem[]> {
  const L = student.config.maxLength;
  const computed: Float32Array[][] = entries.map(() => []);
  if (entries.length) {
    for (let l = 1; l <= L; l++) {
      if (entries.every((e) => e.embeddings[String(l)])) continue;
      const emb = tf.tidy(() =>
        student.embedSymbols(
          tf.tensor2d(
            entries.map((e) => e.symbols.slice(0, l)),
            [entries.length, l],
            'int32',
          ),
        ),
      );
      const values = (await emb.data()) as Float32Array;
      emb.dispose();
      const d = student.config.dModel;
      entries.forEach((_, i) => {
        computed[i][l - 1] = values.slice(i * d, (i + 1) * d);
      });
    }
  }
  return entries.map((e, i) => ({
    ...e,
    url: resolveUrl(e.file),
    prefixEmbeddings: Array.from({ length: L }, (_, l) => {
      const given = e.embeddings[String(l + 1)];
      return given ? Float32Array.from(given) : computed[i][l];
    }),
  }));
}

async function fetchOk(url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`could not download ${url}: ${(e as Error).message}`);
  }
  if (!res.ok)
    throw new Error(`${url} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  return res;
}

/** Text of a JSON file. */
async function fetchText(url: string): Promise<string> {
  const text = await (await fetchOk(url)).text();
  // A development server answers a missing file with its index page.
  if (/^\s*</.test(text))
    throw new Error(`${url} is missing: the server answered with an HTML page, not JSON`);
  return text;
}

async function fetchJson(url: string): Promise<unknown> {
  const text = await fetchText(url);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(
      `${url} is not valid JSON (${(e as Error).message}); starts with ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
}
