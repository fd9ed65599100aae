/**
 * Information measures between two labelings of the same samples (class labels, symbols, codes),
 * following scikit-learn's definitions (natural logarithm; the normalisation cancels the base).
 */

/** Counts of each value in `a`, and of each (a, b) pair, as a sparse contingency table. */
export function contingency(a: ArrayLike<number>, b: ArrayLike<number>, what = 'contingency') {
  if (a.length !== b.length) throw new Error(`${what}: labelings have ${a.length} and ${b.length} entries`);
  const rowTotals = new Map<number, number>();
  const colTotals = new Map<number, number>();
  const cells = new Map<number, Map<number, number>>();
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    rowTotals.set(x, (rowTotals.get(x) ?? 0) + 1);
    colTotals.set(y, (colTotals.get(y) ?? 0) + 1);
    let row = cells.get(x);
    if (!row) {
      row = new Map();
      cells.set(x, row);
    }
    row.set(y, (row.get(y) ?? 0) + 1);
  }
  return { n: a.length, rowTotals, colTotals, cells };
}

/** Entropy in nats of the empirical distribution of `counts` (zeros ignored). */
export function entropyOfCounts(counts: Iterable<number>): number {
  let total = 0;
  const list: number[] = [];
  for (const c of counts) {
    if (c > 0) {
      total += c;
      list.push(c);
    }
  }
  if (total === 0) return 0;
  let h = 0;
  for (const c of list) h -= (c / total) * (Math.log(c) - Math.log(total));
  return h;
}

/** Entropy in nats of a labeling. */
export function labelEntropy(labels: ArrayLike<number>): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
  return entropyOfCounts(counts.values());
}

/** Mutual information in nats, as sklearn.metrics.mutual_info_score (clipped at 0). */
export function mutualInformation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const t = contingency(a, b, 'mutualInformation');
  if (t.rowTotals.size <= 1 || t.colTotals.size <= 1) return 0;
  let mi = 0;
  for (const [x, row] of t.cells) {
    const ax = t.rowTotals.get(x)!;
    for (const [y, nxy] of row) {
      const by = t.colTotals.get(y)!;
      const term = (nxy / t.n) * (Math.log(nxy) + Math.log(t.n) - Math.log(ax) - Math.log(by));
      // sklearn zeroes terms below float64 eps before summing.
      if (Math.abs(term) >= Number.EPSILON) mi += term;
    }
  }
  return Math.max(0, mi);
}

/**
 * Normalised mutual information with the arithmetic-mean normaliser, MI / ((H(a) + H(b)) / 2):
 * sklearn's `normalized_mutual_info_score` default, including its special cases (both labelings
 * constant → 1; zero MI otherwise → 0).
 */
export function normalizedMutualInfo(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>): number {
  if (labelsTrue.length !== labelsPred.length) {
    throw new Error(
      `normalizedMutualInfo: labelings have ${labelsTrue.length} and ${labelsPred.length} entries`,
    );
  }
  const kt = new Set(Array.from(labelsTrue)).size;
  const kp = new Set(Array.from(labelsPred)).size;
  if ((kt === 1 && kp === 1) || (kt === 0 && kp === 0)) return 1;
  const mi = mutualInformation(labelsTrue, labelsPred);
  if (mi === 0) return 0;
  const normalizer = Math.max((labelEntropy(labelsTrue) + labelEntropy(labelsPred)) / 2, Number.EPSILON);
  return mi / normalizer;
}

/**
 * Purity of `clusters` with respect to `classes`: each cluster is credited with its most frequent
 * class, and purity is the fraction of samples so credited.
 */
export function purity(classes: ArrayLike<number>, clusters: ArrayLike<number>): number {
  const t = contingency(clusters, classes, 'purity');
  if (t.n === 0) throw new Error('purity: no samples');
  let hit = 0;
  for (const row of t.cells.values()) hit += Math.max(...row.values());
  return hit / t.n;
}
