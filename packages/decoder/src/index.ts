export {
  type DiscretizerConfig,
  type StudentConfig,
  type StudentConfigInput,
  studentConfigSchema,
} from './config';
export {
  type EncodeResult,
  type PrefixOutput,
  Student,
  type StudentForwardOptions,
  type StudentOutput,
} from './student';
export {
  createStudentDiscretizer,
  STUDENT_DISCRETIZERS,
  type StudentDiscretizerKind,
  type StudentDiscretizerSizes,
  type StudentDiscretizerSpec,
} from './studentDiscretizer';
export {
  type DecoderOutput,
  type GenerateOptions,
  SymbolDecoder,
  type SymbolDecoderConfig,
  type TeacherForcedOutput,
} from './symbolDecoder';
export { SymbolEncoder, type SymbolEncoderConfig } from './symbolEncoder';
