// Public surface of @goldstone/models: re-exports only.
import { mlp } from './mlp';

export { mlp, mlpOptions, createMlp, mlpParamCount, initStd, MLP_INITS, RELU_LIKE } from './mlp';
export type { MlpOptions, MlpInit } from './mlp';

/** Every model plugin of this package (the CLI loads a package's `plugins` export). */
export const plugins = [mlp];
