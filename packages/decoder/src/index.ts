export {
  type DiscretizerConfig,
  discretizerConfigSchema,
  type StudentConfig,
  type StudentConfigInput,
  studentConfigSchema,
} from './config';
export { DecoderBlock, type DecoderBlockOptions, type DecoderBlockResult } from './decoderBlock';
export {
  type EncodeResult,
  type PrefixOutput,
  STUDENT_KIND,
  STUDENT_VERSION,
  Student,
  type StudentForwardOptions,
  type StudentOutput,
} from './student';
export {
  createStudentDiscretizer,
  STUDENT_DISCRETIZERS,
  STUDENT_SET_OPTIONS,
  type StudentDiscretizerKind,
  type StudentDiscretizerSizes,
  type StudentDiscretizerSpec,
} from './studentDiscretizer';
export {
  type DecoderOutput,
  type GenerateOptions,
  SymbolDecoder,
  type SymbolDecoderConfig,
  symbolDecoderConfigSchema,
  type TeacherForcedOutput,
} from './symbolDecoder';
export { SymbolEmbedding } from './symbolEmbedding';
export { SymbolEncoder, type SymbolEncoderConfig, symbolEncoderConfigSchema } from './symbolEncoder';
