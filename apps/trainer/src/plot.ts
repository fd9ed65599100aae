/** A line plot of k-NN accuracy against sequence length, as a standalone SVG document. */
export interface Series {
  label: string;
  /** [length, accuracy in %] */
  points: [number, number][];
  colour: string;
  dashed?: boolean;
}

export function accuracyVsLengthSvg(
  series: Series[],
  title: string,
  yLabel = 'k-NN top-1 accuracy (%)',
): string {
  const W = 640;
  const H = 420;
  const m = { l: 64, r: 180, t: 48, b: 56 };
  const lengths = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const maxAcc = Math.min(
    100,
    Math.ceil((Math.max(10, ...series.flatMap((s) => s.points.map((p) => p[1]))) + 5) / 10) * 10,
  );
  // Lengths are 1, 2, 4, 8: a log2 axis spaces them evenly.
  const lx = (l: number) => Math.log2(l);
  const [x0, x1] = [lx(lengths[0] ?? 1), lx(lengths[lengths.length - 1] ?? 8)];
  const px = (l: number) => m.l + ((lx(l) - x0) / Math.max(1e-9, x1 - x0)) * (W - m.l - m.r);
  const py = (a: number) => H - m.b - (a / maxAcc) * (H - m.t - m.b);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="13">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - m.r / 2 + m.l / 2}" y="26" text-anchor="middle" font-size="16">${esc(title)}</text>`,
  );
  for (let a = 0; a <= maxAcc; a += 10) {
    parts.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${py(a)}" y2="${py(a)}" stroke="#ddd"/>`,
      `<text x="${m.l - 8}" y="${py(a) + 4}" text-anchor="end">${a}</text>`,
    );
  }
  for (const l of lengths) {
    parts.push(`<text x="${px(l)}" y="${H - m.b + 20}" text-anchor="middle">${l}</text>`);
  }
  parts.push(
    `<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>`,
    `<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 14}" text-anchor="middle">symbols (sequence length)</text>`,
    `<text transform="translate(18 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    const d = pts.map((p, j) => `${j ? 'L' : 'M'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ');
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    for (const p of pts) {
      parts.push(
        `<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="4" fill="${s.colour}"/>`,
      );
    }
    const ly = m.t + 10 + i * 22;
    parts.push(
      `<line x1="${W - m.r + 14}" x2="${W - m.r + 40}" y1="${ly}" y2="${ly}" stroke="${s.colour}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${W - m.r + 46}" y="${ly + 4}">${esc(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The paper's CIFAR-10 k-NN top-1 (arXiv 2503.04900, ViT-B/16 DINO teacher): 1 and 8 symbols are reported. */
export const PAPER_CIFAR10: [number, number][] = [
  [1, 28.5],
  [8, 43.9],
];
