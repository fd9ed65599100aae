export { assertFinite, assertLastDim, assertPositive, assertRank } from './assert';
export { closest, editDistance, parseConfig } from './config';
export * as init from './init';
export type { Initializer } from './init';
export { dense, matMul, swapLast } from './matmul';
export { type HostTensor, ParamScope, ParamStore, sameShape } from './params';
export { Rng } from './rng';
