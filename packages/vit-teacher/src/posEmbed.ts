import { bicubicResample } from './bicubic';

/**
 * DINO's `interpolate_pos_encoding` on host arrays. `posEmbed` holds [1 + n·n, dim] values
 * (CLS first, then an n × n grid, row-major). For a `rows` × `cols` token grid it returns
 * [1 + rows·cols, dim]: the CLS entry unchanged and the grid resampled bicubically with torch's
 * `scale_factor = (rows + 0.1) / n, (cols + 0.1) / n` (the +0.1 avoids floor rounding down).
 * Returns the input itself when DINO does (same token count and a square grid).
 */
export function interpolatePosEmbed(
  posEmbed: Float32Array,
  dim: number,
  rows: number,
  cols: number,
): Float32Array {
  const count = posEmbed.length / dim;
  const n = Math.round(Math.sqrt(count - 1));
  if (!Number.isInteger(count) || n * n !== count - 1) {
    throw new Error(
      `interpolatePosEmbed: position embedding holds ${posEmbed.length} values, expected (1 + n²)·${dim} for a square grid`,
    );
  }
  if (rows * cols === n * n && rows === cols) return posEmbed;
  const grid = bicubicResample(
    posEmbed.subarray(dim),
    [n, n, dim],
    [rows, cols],
    [(rows + 0.1) / n, (cols + 0.1) / n],
  );
  const out = new Float32Array((1 + rows * cols) * dim);
  out.set(posEmbed.subarray(0, dim), 0);
  out.set(grid, dim);
  return out;
}
