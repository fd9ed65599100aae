export {
  type AttentionInput,
  type HostArray,
  type SymbolMapOptions,
  type SymbolMaps,
  symbolAttentionMaps,
  symbolMap,
} from './attention-maps';
export { type ColormapName, colorize } from './colormap';
export {
  type ConsistencyOptions,
  type ConsistencyResult,
  symbolRegionConsistency,
} from './consistency';
export {
  type ConsistencyEstimate,
  type ConsistencyStats,
  type ConsistencyStatsOptions,
  type SymbolConsistency,
  symbolConsistencyStats,
} from './consistency-stats';
export {
  type AtlasOptions,
  classColour,
  type DictionaryEntry,
  type DictionaryInput,
  type DictionaryOccurrence,
  dictionaryAtlas,
  dictionaryHtml,
  type PngEncoder,
  type SymbolDictionary,
  symbolDictionary,
} from './dictionary';
export {
  type DistinctnessOptions,
  type DistinctnessResult,
  symbolDistinctness,
} from './distinctness';
export {
  type ChangeRate,
  type FaithfulnessOptions,
  type FaithfulnessResult,
  type OccludedImage,
  occlusionFaithfulness,
  type SymbolRerun,
} from './faithfulness';
export type { Heatmap, ImageInput, Rgba, RgbaImage } from './image';
export type { MapSimilarity } from './map-vectors';
export { type MontageInput, montage } from './montage';
export { type OverlayOptions, overlayHeatmap, symbolOverlays } from './overlay';
export { resizeBilinear } from './resize';
