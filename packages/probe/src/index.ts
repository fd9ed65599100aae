export {
  type AccuracyVsLengthInput,
  accuracyVsLength,
  formatLengthTable,
  type LengthFeatures,
  type LengthRow,
} from './accuracy-vs-length';
export {
  type BaselineInput,
  type BaselineMethod,
  type BaselineRow,
  type BaselineTable,
  codeBaselines,
  formatBaselineTable,
} from './baseline-table';
export {
  type Codes,
  ProductQuantizer,
  type ProductQuantizerOptions,
  ResidualKMeans,
  type ResidualKMeansOptions,
} from './code-baselines';
export {
  type CodeGram,
  type CodeRetrievalOptions,
  codeRetrieval,
  productGram,
  residualGram,
} from './code-search';
export { normalizedMutualInfo, purity } from './information';
export type { FeatureInput, LabelInput, SymbolInput } from './inputs';
export { type KnnInput, type KnnOptions, knnClassify } from './knn';
export {
  type PrefixDepthStats,
  type PrefixNode,
  type PrefixStatsOptions,
  prefixTree,
  prefixTreeStats,
} from './prefix-tree';
export { type RetrievalInput, type RetrievalResult, retrievalMap } from './retrieval-map';
export { type SymbolKnnInput, symbolKnnClassify } from './symbol-knn';
export {
  type ClassAgreement,
  type CodeUsage,
  type SymbolClassStats,
  type SymbolUsage,
  symbolClassStats,
  symbolUsage,
} from './symbol-stats';
export type { KnnResult } from './weighted-vote';
