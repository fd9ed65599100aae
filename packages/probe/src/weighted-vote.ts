/** Result of a weighted k-NN evaluation. Accuracies are percentages (0–100), as eval_knn.py prints them. */
export interface KnnResult {
  top1: number;
  top5: number;
  /** Number of test queries evaluated. */
  total: number;
  /** Top-1 predicted class per query, when `returnPredictions` is set. */
  predictions?: Int32Array;
}

export interface VoteOptions {
  k: number;
  T: number;
  numClasses: number;
  returnPredictions: boolean;
}

/**
 * DINO's weighted vote (facebookresearch/dino eval_knn.py `knn_classifier`), one query at a time:
 * the k neighbours vote for their class with weight exp(similarity / T); classes are ranked by
 * summed weight; top-1 is the best class, top-5 asks whether the true class is among the first
 * min(5, k) (eval_knn.py's `min(5, k)`, also capped at the number of classes, where eval_knn.py
 * would fail). Equal class scores rank the lower class id first (eval_knn.py leaves that to torch's sort).
 */
export class VoteTally {
  private readonly scores: Float64Array;
  private readonly order: number[];
  private readonly top5Width: number;
  private readonly predictions?: Int32Array;
  private top1 = 0;
  private top5 = 0;

  constructor(
    private readonly trainLabels: Int32Array,
    private readonly testLabels: Int32Array,
    private readonly opts: VoteOptions,
  ) {
    this.scores = new Float64Array(opts.numClasses);
    this.order = Array.from({ length: opts.numClasses }, (_, i) => i);
    this.top5Width = Math.min(5, opts.k, opts.numClasses);
    if (opts.returnPredictions) this.predictions = new Int32Array(testLabels.length);
  }

  /** Adds query `q` given its k neighbours (training indices) and their similarities. */
  add(q: number, neighbours: ArrayLike<number>, similarities: ArrayLike<number>): void {
    const { scores, order } = this;
    scores.fill(0);
    for (let j = 0; j < this.opts.k; j++) {
      scores[this.trainLabels[neighbours[j]]] += Math.exp(similarities[j] / this.opts.T);
    }
    order.sort((a, b) => scores[b] - scores[a] || a - b);
    const truth = this.testLabels[q];
    if (order[0] === truth) this.top1++;
    for (let j = 0; j < this.top5Width; j++) {
      if (order[j] === truth) {
        this.top5++;
        break;
      }
    }
    if (this.predictions) this.predictions[q] = order[0];
  }

  result(): KnnResult {
    const m = this.testLabels.length;
    const r: KnnResult = { top1: (this.top1 * 100) / m, top5: (this.top5 * 100) / m, total: m };
    if (this.predictions) r.predictions = this.predictions;
    return r;
  }
}

/** Splits `[0, n)` into consecutive ranges of at most `size`. */
export function ranges(n: number, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  return out;
}
