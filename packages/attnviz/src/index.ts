export {
  type AttentionInput,
  type HostArray,
  type SymbolMapOptions,
  type SymbolMaps,
  symbolAttentionMaps,
  symbolMap,
} from './attention-maps';
export { type ColormapName, colorize, colormapBytes, colormapNames, colormapRgb } from './colormap';
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
  dictionaryPanels,
  type PngEncoder,
  type SymbolDictionary,
  symbolDictionary,
} from './dictionary';
export {
  type DistinctnessOptions,
  type DistinctnessResult,
  quantile,
  symbolDistinctness,
} from './distinctness';
export {
  type ChangeRate,
  type FaithfulnessOptions,
  type FaithfulnessResult,
  type OccludedImage,
  occludeCells,
  occlusionFaithfulness,
  type SymbolRerun,
  topCells,
} from './faithfulness';
export { drawText, fontCharacters, measureText } from './font';
export type { Heatmap, ImageInput, Rgba, RgbaImage } from './image';
export { toRgba } from './image';
export type { MapSimilarity } from './map-vectors';
export { type MontageInput, montage, symbolLabel } from './montage';
export { type OverlayOptions, overlayHeatmap, symbolOverlays } from './overlay';
export { resizeBilinear } from './resize';
