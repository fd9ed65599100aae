import { type RgbaImage, symbolOverlays } from '@symseq/attnviz';
import { type PageImage, resizeForDisplay } from './image';
import type { Description, GalleryItem } from './model';
import { nearestByCosine } from './neighbours';

/** Side of the overlays, in pixels: small images are scaled up to it, large ones down. */
export const OVERLAY_SIDE = 128;
/** Neighbours shown for the slider's prefix length. */
export const NEIGHBOURS = 8;

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** A colour per symbol id (golden-angle hues), so equal symbols look equal across the page. */
export function symbolColour(symbol: number): string {
  return `hsl(${(symbol * 137.508) % 360} 55% 40%)`;
}

export function chip(symbol: number, title: string, dim = false): HTMLElement {
  const el = document.createElement('span');
  el.className = dim ? 'chip dim' : 'chip';
  el.textContent = String(symbol);
  el.title = title;
  el.style.background = symbolColour(symbol);
  return el;
}

function drawRgba(canvas: HTMLCanvasElement, image: RgbaImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser gives no 2D canvas context');
  ctx.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
}

/** The chosen image, its symbols and one attention overlay per symbol. */
export function renderDescription(image: PageImage, d: Description): void {
  drawRgba(byId('query-canvas'), image);
  const scaled = image.scaledFrom ? `, scaled from ${image.scaledFrom[0]}×${image.scaledFrom[1]}` : '';
  byId('query-name').textContent = `${image.name} (${image.width}×${image.height}${scaled})`;

  const list = byId<HTMLOListElement>('symbols');
  list.replaceChildren(
    ...d.symbols.map((s, i) => {
      const li = document.createElement('li');
      li.append(chip(s, `position ${i + 1}: symbol ${s}`));
      return li;
    }),
  );
  list.dataset.symbols = d.symbols.join(',');

  const display = resizeForDisplay(image, OVERLAY_SIDE);
  const overlays = symbolOverlays(display, d.maps, 0, { alpha: 0.6, colormap: 'viridis' });
  byId('overlay-note').textContent =
    `Cross-attention of the last decoder layer, mean over heads, on the teacher's ${d.maps.height}×${d.maps.width} ` +
    'token grid, scaled to the image (bright = looked at most).';
  byId('overlays').replaceChildren(
    ...overlays.map((o, i) => {
      const fig = document.createElement('figure');
      const canvas = document.createElement('canvas');
      canvas.dataset.position = String(i + 1);
      canvas.dataset.symbol = String(d.symbols[i]);
      canvas.setAttribute('aria-label', `attention of symbol ${d.symbols[i]} at position ${i + 1}`);
      drawRgba(canvas, o);
      const cap = document.createElement('figcaption');
      cap.append(`#${i + 1} `, chip(d.symbols[i], `symbol ${d.symbols[i]}`));
      fig.append(canvas, cap);
      return fig;
    }),
  );
}

/**
 * The gallery images nearest to the description at prefix length `length`; `self` (the gallery
 * index of the described image, when it is one) is left out.
 */
export function renderNeighbours(
  d: Description,
  gallery: GalleryItem[],
  length: number,
  self?: number,
): void {
  const list = byId<HTMLOListElement>('neighbours');
  byId('prefix-value').textContent = `l = ${length}: ${d.symbols.slice(0, length).join(' ')}`;
  const found = nearestByCosine(
    d.embeddings[length - 1],
    gallery.map((g) => g.prefixEmbeddings[length - 1]),
    Math.min(NEIGHBOURS, gallery.length - (self === undefined ? 0 : 1)),
    self,
  );
  list.replaceChildren(
    ...found.map(({ index, similarity }) => {
      const g = gallery[index];
      const li = document.createElement('li');
      li.dataset.index = String(index);
      const img = document.createElement('img');
      img.src = g.url;
      img.alt = g.class ?? g.file;
      const label = document.createElement('div');
      label.textContent = `${g.class ?? g.file} · ${similarity.toFixed(3)}`;
      const chips = document.createElement('div');
      chips.className = 'chips';
      chips.append(...g.symbols.map((s, i) => chip(s, `position ${i + 1}`, i >= length)));
      li.append(img, label, chips);
      return li;
    }),
  );
  list.dataset.length = String(length);
  list.dataset.indices = found.map((n) => n.index).join(',');
}

/** Clickable thumbnails of the gallery. */
export function renderGallery(
  gallery: GalleryItem[],
  onPick: (item: GalleryItem, index: number) => void,
): void {
  byId('gallery').replaceChildren(
    ...gallery.map((g, i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.index = String(i);
      b.title = `${g.class ?? ''} ${g.file}`.trim();
      const img = document.createElement('img');
      img.src = g.url;
      img.alt = g.class ?? g.file;
      img.loading = 'lazy';
      b.append(img);
      b.addEventListener('click', () => onPick(g, i));
      return b;
    }),
  );
  byId('gallery-section').hidden = gallery.length === 0;
}

/** Shows only the gallery images in `members` (all when undefined), and says which prefix they share. */
export function filterGallery(members: number[] | undefined, prefix: number[] = []): void {
  const keep = members ? new Set(members) : undefined;
  const buttons = byId('gallery').querySelectorAll<HTMLButtonElement>('button');
  buttons.forEach((b) => {
    b.hidden = keep ? !keep.has(Number(b.dataset.index)) : false;
  });
  const note = byId('gallery-filter');
  note.hidden = !keep;
  byId('gallery-filter-text').textContent = keep
    ? `${keep.size} of ${buttons.length} images start with ${prefix.join(' ')}.`
    : '';
  byId('gallery').dataset.prefix = prefix.join(' ');
}
