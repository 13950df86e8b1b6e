import { clt } from './clt';

export { clt, cltOptions, type CltOptions, type CltInstance } from './clt';
export {
  DISTRIBUTIONS,
  exactCumulants,
  isSymmetric,
  sampleSpins,
  type DistributionName,
  type DistributionParams,
} from './distributions';
export { sampleCumulants, coarseGrainCumulants } from './cumulants';
export { blockSum, blockSumArray, type BlockSumOptions } from './block-sum';
export { regressionMetrics } from './metrics';
export { permuteWithinBlocks, translateByBlocks, signFlip, type Equivariance } from './symmetries';

/** The plugins this package provides. */
export const plugins = [clt];
