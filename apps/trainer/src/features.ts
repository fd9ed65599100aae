/** Teacher features of a dataset split held in host memory, as the trainer consumes them. */
export interface FeatureSet {
  /** Number of images. */
  n: number;
  /** Views per image: index 0 is the clean image, 1… are augmented views. */
  views: number;
  /** Tokens per view (h·w) and their size. */
  tokensPerView: number;
  tokenDim: number;
  pooledDim: number;
  grid: [number, number];
  /** [n, views, tokensPerView, tokenDim] */
  tokens: Float32Array;
  /** [n, views, pooledDim] */
  pooled: Float32Array;
  labels: Int32Array;
  classes: string[];
}

/** Copies the tokens of images `idx` (view `view[i]` for image i) into one [B, N, D] buffer. */
export function gatherTokens(
  f: FeatureSet,
  idx: ArrayLike<number>,
  view: (i: number) => number,
): Float32Array {
  const per = f.tokensPerView * f.tokenDim;
  const out = new Float32Array(idx.length * per);
  for (let i = 0; i < idx.length; i++) {
    const start = (idx[i] * f.views + view(i)) * per;
    out.set(f.tokens.subarray(start, start + per), i * per);
  }
  return out;
}

/** Copies pooled features of images `idx` into one [B, Dp] buffer. */
export function gatherPooled(
  f: FeatureSet,
  idx: ArrayLike<number>,
  view: (i: number) => number,
): Float32Array {
  const out = new Float32Array(idx.length * f.pooledDim);
  for (let i = 0; i < idx.length; i++) {
    const start = (idx[i] * f.views + view(i)) * f.pooledDim;
    out.set(f.pooled.subarray(start, start + f.pooledDim), i * f.pooledDim);
  }
  return out;
}
