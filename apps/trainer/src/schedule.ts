/** Linear warm-up to `lr`, then cosine decay to `minLr` (DINO's schedule), as a function of the step. */
export function cosineLr(step: number, total: number, warmup: number, lr: number, minLr: number): number {
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const t = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * t));
}
