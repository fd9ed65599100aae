export {
  type AccuracyVsLengthInput,
  accuracyVsLength,
  formatLengthTable,
  type LengthFeatures,
  type LengthRow,
} from './accuracy-vs-length';
export {
  contingency,
  entropyOfCounts,
  labelEntropy,
  mutualInformation,
  normalizedMutualInfo,
  purity,
} from './information';
export type { FeatureInput, LabelInput, SymbolInput } from './inputs';
export { type KnnInput, type KnnOptions, knnClassify } from './knn';
export {
  type PrefixDepthStats,
  type PrefixNode,
  type PrefixStatsOptions,
  prefixTree,
  prefixTreeStats,
} from './prefix-tree';
export { type SymbolKnnInput, symbolKnnClassify } from './symbol-knn';
export {
  type ClassAgreement,
  type CodeUsage,
  jointCodes,
  type SymbolClassStats,
  type SymbolUsage,
  symbolClassStats,
  symbolUsage,
} from './symbol-stats';
export type { KnnResult } from './weighted-vote';
