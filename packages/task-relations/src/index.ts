import { relations } from './relations';

export {
  relations,
  relationsOptions,
  RELATIONS,
  nodesOf,
  unorderedPairCount,
  unorderedPairs,
  labeller,
  classCount,
  automorphismCount,
  trainCount,
  splitPairs,
  informationOf,
  estimateRelations,
  targetWidth,
  drawTemplates,
  templateMetrics,
  orientedPairs,
  DEFAULT_TEMPLATE_DIM,
  type RelationName,
  type RelationsOptions,
} from './relations';
export { factorial, log2Big, classSizes, cliqueUnionAut, informationBits, entropyBits } from './info';

/** The plugins this package provides. */
export const plugins = [relations];
