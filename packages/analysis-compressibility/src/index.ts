// Public surface of @goldstone/analysis-compressibility: re-exports only.
import { compressibility } from './compressibility';

export { compressibility, analyzeCompressibility, compressibleSlots } from './compressibility';
export { compressibilityOptions, COMPRESSIBILITY_SECTIONS, type CompressibilityOptions, type CompressibilitySection } from './options';
export { magnitudePrune, sparsityOf, type Slot } from './pruning';
export { fineTuneMasked, type FineTuneConfig } from './fine-tune';
export { quantizeUniform } from './quantization';
export { svdOf, truncateRank, autoRanks } from './low-rank';
export { descriptionLength, log2Binomial, type TensorCode } from './description-length';

/** goldstone loads a module's `plugins` export. */
export const plugins = [compressibility];
