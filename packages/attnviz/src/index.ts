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
export { drawText, fontCharacters, measureText } from './font';
export type { Heatmap, ImageInput, Rgba, RgbaImage } from './image';
export { toRgba } from './image';
export { type MontageInput, montage, symbolLabel } from './montage';
export { type OverlayOptions, overlayHeatmap, symbolOverlays } from './overlay';
export { resizeBilinear } from './resize';
