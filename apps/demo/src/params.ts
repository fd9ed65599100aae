import { BACKEND_ORDER, type BackendName } from './backend-names';

export interface PageParams {
  /** The one backend to use (`?backend=`), or undefined to try them in order. */
  backend?: BackendName;
  /** The export folder, as an absolute URL ending in `/`. */
  modelUrl: string;
}

/** Default model folder, relative to the page: `public/model/` in development, `model/` beside the build. */
export const DEFAULT_MODEL_PATH = './model/';

/** Reads `?backend=` and `?model=` (a folder, or its manifest.json; relative to the page) from a page URL. */
export function readPageParams(pageUrl: string): PageParams {
  const url = new URL(pageUrl);
  const backend = url.searchParams.get('backend') ?? undefined;
  if (backend !== undefined && !(BACKEND_ORDER as readonly string[]).includes(backend)) {
    throw new Error(
      `?backend=${backend} is not a TensorFlow.js backend this page knows; use one of ${BACKEND_ORDER.join(', ')}`,
    );
  }
  const model = url.searchParams.get('model') || DEFAULT_MODEL_PATH;
  const resolved = new URL(model, url);
  // `?model=…/manifest.json` names the folder too.
  if (resolved.pathname.endsWith('.json')) resolved.pathname = resolved.pathname.replace(/[^/]*$/, '');
  else if (!resolved.pathname.endsWith('/')) resolved.pathname += '/';
  const modelUrl = resolved.href;
  return { backend: backend as BackendName | undefined, modelUrl };
}
