export interface Neighbour {
  /** Index into the bank. */
  index: number;
  /** Cosine similarity to the query, in [−1, 1]. */
  similarity: number;
}

/**
 * The `k` bank vectors most similar to `query` by cosine similarity, best first; ties keep bank
 * order, so the answer is deterministic. A zero vector has similarity 0 to everything. `exclude`
 * leaves one bank entry out (the query itself, when it is a bank image).
 */
export function nearestByCosine(
  query: ArrayLike<number>,
  bank: ArrayLike<number>[],
  k: number,
  exclude?: number,
): Neighbour[] {
  if (!Number.isInteger(k) || k < 1)
    throw new Error(`nearestByCosine: k must be a positive integer, got ${k}`);
  const qn = norm(query);
  const scored = bank.map((v, index) => {
    if (v.length !== query.length) {
      throw new Error(
        `nearestByCosine: bank vector ${index} has ${v.length} values, the query has ${query.length}`,
      );
    }
    let dot = 0;
    for (let i = 0; i < v.length; i++) dot += query[i] * v[i];
    const denom = qn * norm(v);
    return { index, similarity: denom > 0 ? dot / denom : 0 };
  });
  const kept = exclude === undefined ? scored : scored.filter((n) => n.index !== exclude);
  kept.sort((a, b) => b.similarity - a.similarity || a.index - b.index);
  return kept.slice(0, k);
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}
