// Public surface of @goldstone/analysis-grokking: named re-exports only.
import { grokking } from './grokking';

export { grokking, geometryPlan, grokkingIssues, thinned, VERSION } from './grokking';
export { grokkingOptions, readTrainSettings, type GrokkingOptions, type TrainSettings } from './options';
export { effectiveLoss, effectiveLossTensor, idealParallelograms, quadResidual, rqi, standardize, trainParallelograms } from './geometry';
export { allPairs, allParallelograms, idealAccuracy, nullDimension, predictedAccuracy, type IdealAccuracy } from './ideal';
export { decodePairs, relationOf, unorderedPairsOf, type Pair } from './pairs';
export { asPredicted, classifyPhase, firstReach, predictPhase, PHASES, PREDICTED, type Phase, type PredictedPhase } from './phase';
export { copyParams, geometryOf, grokkingRecordingFor, metricOn, recordGrokking, type GeometryPlan, type GrokkingRecording, type HostTensor } from './recorder';
export { decoderMemorisation, simulateEffective, type EffectiveRun, type MemorisationRun } from './effective';
export { trainingFigure } from './figures';
export { cellEdges, curveFigure, grokkingRow, phaseMapFigure, PHASE_COLOURS, summarizeGrokking, type ClaimRow, type CurvePoint, type GrokkingRow, type PhaseCell } from './summary';

/** The plugins this package provides. */
export const plugins = [grokking];
