import { startBackend, UnsupportedBrowserError } from './backend';
import { decodeImageBlob, NotAnImageError, type PageImage } from './image';
import { DemoModel, type Description } from './model';
import { readPageParams } from './params';
import { renderTree } from './tree';
import { byId, filterGallery, renderDescription, renderGallery, renderNeighbours } from './view';

type PageState = 'starting' | 'ready' | 'working' | 'failed';

const status = byId('status');
const errorBox = byId('error');
const fileInput = byId<HTMLInputElement>('file-input');
const dropZone = byId('drop-zone');
const slider = byId<HTMLInputElement>('prefix');

function setState(state: PageState, message: string): void {
  document.body.dataset.state = state;
  status.textContent = message;
}

function showError(message: string): void {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function clearError(): void {
  errorBox.hidden = true;
  errorBox.textContent = '';
}

let model: DemoModel | undefined;
let current: Description | undefined;
/** Gallery index of the described image, when it came from the gallery (it is not its own neighbour). */
let currentIndex: number | undefined;
/** Counts requests, so a slow answer for an older image never overwrites a newer one. */
let request = 0;

async function describe(load: () => Promise<PageImage>, galleryIndex?: number): Promise<void> {
  if (!model) return;
  const mine = ++request;
  clearError();
  setState('working', 'reading the image…');
  try {
    const image = await load();
    setState('working', `describing ${image.name}…`);
    const t0 = performance.now();
    const d = await model.describe(image);
    if (mine !== request) return;
    current = d;
    currentIndex = galleryIndex;
    renderDescription(image, d);
    renderNeighbours(d, model.gallery, Number(slider.value), galleryIndex);
    const result = byId('result');
    result.hidden = false;
    result.dataset.image = image.name;
    result.dataset.count = String(mine);
    setState(
      'ready',
      `${image.name}: ${d.symbols.length} symbols in ${(performance.now() - t0).toFixed(0)} ms`,
    );
  } catch (e) {
    if (mine !== request) return;
    const message =
      e instanceof NotAnImageError ? e.message : `Could not describe the image: ${(e as Error).message}`;
    showError(message);
    setState('ready', 'Choose another image.');
  } finally {
    // Tells a watcher (the end-to-end test) that request `mine` is answered, either way.
    if (mine === request) document.body.dataset.answered = String(mine);
  }
}

function describeFile(file: File): void {
  void describe(() => decodeImageBlob(file, file.name));
}

async function main(): Promise<void> {
  const params = readPageParams(location.href);

  setState('starting', 'starting TensorFlow.js…');
  const backend = await startBackend(params.backend);
  byId('backend').textContent =
    backend.name + (backend.skipped.length ? ` (passed over: ${backend.skipped.join('; ')})` : '');
  document.body.dataset.backend = backend.name;

  try {
    model = await DemoModel.load(params.modelUrl, (m) => setState('starting', `${m}…`));
  } catch (e) {
    throw new Error(
      `The model at ${params.modelUrl} could not be loaded.\n${(e as Error).message}\n\n` +
        'Export a trained run with `symseq export --run <run> --out apps/demo/public/model`, ' +
        'or point the page at an export with ?model=<url of the export folder>.',
    );
  }
  const { student, manifest, gallery } = model;
  const c = student.config;
  byId('model-info').textContent =
    `${c.vocabSize} symbols × ${c.maxLength} positions; teacher ${manifest.teacher.id ?? manifest.teacher.layer} ` +
    `at ${manifest.teacher.inputSize} px (${manifest.grid.join('×')} tokens); gallery of ${gallery.length} images`;

  slider.max = String(c.maxLength);
  slider.value = String(c.maxLength);
  slider.addEventListener('input', () => {
    if (current && model) renderNeighbours(current, model.gallery, Number(slider.value), currentIndex);
  });

  renderGallery(gallery, (item, index) => {
    void describe(async () => {
      const res = await fetch(item.url);
      if (!res.ok) throw new Error(`${item.url} answered HTTP ${res.status}`);
      return decodeImageBlob(await res.blob(), item.file);
    }, index);
  });
  renderTree(gallery, manifest.classes, (node) => filterGallery(node.members, node.prefix));
  byId('tree-section').hidden = gallery.length === 0;
  byId('gallery-show-all').addEventListener('click', () => {
    filterGallery(undefined);
    byId('tree')
      .querySelectorAll('.tree-select.selected')
      .forEach((el) => {
        el.classList.remove('selected');
      });
  });

  fileInput.disabled = false;
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    // Cleared, so choosing the same file again is a change too.
    fileInput.value = '';
    if (file) describeFile(file);
  });
  for (const target of [dropZone, document.body]) {
    target.addEventListener('dragover', (e) => {
      e.preventDefault();
      dropZone.classList.add('dragging');
    });
    target.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
    target.addEventListener('drop', (e) => {
      e.preventDefault();
      e.stopPropagation();
      dropZone.classList.remove('dragging');
      const file = (e as DragEvent).dataTransfer?.files[0];
      if (file) describeFile(file);
    });
  }
  setState('ready', 'Ready: drop an image, choose a file, or click a gallery image.');
}

main().catch((e: Error) => {
  if (e instanceof UnsupportedBrowserError) byId('backend').textContent = 'none';
  showError(e.message);
  setState(
    'failed',
    e instanceof UnsupportedBrowserError ? 'Unsupported browser.' : 'The demo could not start.',
  );
});
