// Public surface of @goldstone/analysis-hessian: re-exports only.
import { hessian } from './hessian';

export { hessian } from './hessian';
export { hessianOptions, type HessianOptions } from './options';
export { analyzeHessian } from './analyze';
export { hessianFigures, type FigureInput } from './figures';

/** goldstone loads a module's `plugins` export. */
export const plugins = [hessian];
