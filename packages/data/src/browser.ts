// What a browser bundle gets for `@symseq/data` (the package.json `browser` condition and field):
// a clear error at import instead of a bundler failure on `node:fs`, `node:crypto` or `zlib`.
throw new Error(
  '@symseq/data is Node-only: it reads and writes files (node:fs), hashes (node:crypto) and extracts ' +
    'archives, so it cannot run in a browser. In a browser, decode images with the DOM ' +
    '(createImageBitmap, a canvas, tf.browser.fromPixels) and pass the tensors to @symseq/vit-teacher, ' +
    '@symseq/decoder and @symseq/attnviz, which run anywhere.',
);
