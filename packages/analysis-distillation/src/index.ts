// Public surface of @goldstone/analysis-distillation: re-exports only.
import { distillation } from './distillation';

export { distillation, analyzeDistillation, tempered, type StudentScore } from './distillation';
export { distillationOptions, type DistillationOptions } from './options';
export { fidelity, outputMse, softTargets } from './fidelity';

/** goldstone loads a module's `plugins` export. */
export const plugins = [distillation];
