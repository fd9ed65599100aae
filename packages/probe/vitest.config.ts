// This package's tests alone (wasm, plus *.numeric on cpu), from any working directory.
import { packageTestConfig } from '../../vitest.shared';

export default packageTestConfig(import.meta.url);
