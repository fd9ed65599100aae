export { Adam, type AdamConfig, adamConfigSchema } from './adam';
export {
  isHostTensor,
  joinStates,
  type StateDict,
  type Stateful,
  type StateValue,
  splitStates,
} from './state';
