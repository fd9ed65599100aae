/** Called as bytes arrive; `total` is undefined when the server sends no Content-Length. */
export type ProgressCallback = (loaded: number, total: number | undefined) => void;

export interface FetchBytesOptions {
  onProgress?: ProgressCallback;
  /** The fetch to use (default: the global one). */
  fetch?: typeof globalThis.fetch;
}

/** Downloads `url` into memory, reporting progress per chunk. Works in browsers and Node ≥ 18. */
export async function fetchBytes(url: string | URL, opts: FetchBytesOptions = {}): Promise<Uint8Array> {
  const f = opts.fetch ?? globalThis.fetch;
  if (typeof f !== 'function') throw new Error(`fetchBytes: no fetch() available to download ${url}`);
  let res: Response;
  try {
    res = await f(url);
  } catch (e) {
    throw new Error(`fetchBytes: could not download ${url}: ${(e as Error).message}`);
  }
  if (!res.ok)
    throw new Error(
      `fetchBytes: ${url} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`,
    );
  const header = Number(res.headers.get('content-length'));
  const total = Number.isFinite(header) && header > 0 ? header : undefined;
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    opts.onProgress?.(bytes.byteLength, total ?? bytes.byteLength);
    return bytes;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  opts.onProgress?.(0, total);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    opts.onProgress?.(loaded, total);
  }
  if (total !== undefined && loaded !== total) {
    throw new Error(`fetchBytes: ${url} ended after ${loaded} of ${total} bytes`);
  }
  const out = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
