// Public surface of @goldstone/analysis-geneft: re-exports only.
import { geneft } from './geneft';

export { geneft, analyzeGeneft, splitScores } from './geneft';
export { geneftOptions, geneftIssues, embeddingShape, relationInfo, GEOMETRY_RELATIONS, type GeneftOptions } from './options';
export {
  centred,
  classDistanceRatio,
  distanceCorrelation,
  firstPrincipalCoordinate,
  graphDistance,
  meanSquaredDistance,
  parallelogramResidual,
  rankCorrelation,
  rankCorrelationInterval,
  squaredDistance,
  type Embedding,
  type RankEstimate,
} from './geometry';
export { byValue, fitTransition, fitTransitionWithInterval, goldilocks, meanSpread, resampleWithin, transitionCurve, type AccuracyPoint, type GoldilocksTest, type TransitionEstimate, type TransitionFit, type WidthPoint } from './fit';
export { geneftRow, geometryFigure, goldilocksFigure, summarizeGeneft, transitionFigure, verdictOf, type ClaimRow, type GeneftRow, type GeometryPoint, type TransitionRow, type WidthCell } from './summary';

/** goldstone loads a module's `plugins` export. */
export const plugins = [geneft];
