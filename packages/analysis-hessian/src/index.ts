// Public surface of @goldstone/analysis-hessian: re-exports only.
import { hessian } from './hessian';
import { sharpness } from './sharpness';

export { hessian } from './hessian';
export { hessianOptions, type HessianOptions } from './options';
export { analyzeHessian } from './analyze';
export { hessianFigures, type FigureInput } from './figures';
export { sharpness, sharpnessOptions, type SharpnessOptions, analyzeSharpness, stabilityThreshold, type StabilityThreshold, sharpnessFigures } from './sharpness';
export { BudgetPacer, recordSharpness, type SharpnessPoint, type SharpnessRecording } from './sharpness-recorder';

/** goldstone loads a module's `plugins` export. */
export const plugins = [hessian, sharpness];
