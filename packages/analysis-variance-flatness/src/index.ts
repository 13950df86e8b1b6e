import { varianceFlatness } from './variance-flatness';

export { varianceFlatness, varianceFlatnessOptions, PUBLISHED, planWindows, withRunSettings, type RunSettings, stabilisedWindow, STABILISATION_RULE, type PlannedWindow, type VarianceFlatnessOptions, type WindowFits } from './variance-flatness';
export { isPublishedSetting } from './published';
export { analyzeTrajectory, analyzePca, psiFits, DEFAULT_ANALYZE_OPTIONS, type AnalyzeOptions, type ComponentResult, type PsiEstimate, type PsiFits, type VarianceFlatness } from './analyze';
export { trajectoryPca, cosine, type TrajectoryPca, type PcaMethod } from './pca';
export { findCrossing, profileFlatness, type Crossing, type CrossingOptions, type FlatnessResult } from './root-finding';
export { linearFit, powerLawFit, studentTQuantile, studentTCdf, slopes, bootstrapFits, bootstrapMean, quantileSorted, SLOPE_ESTIMATORS, type LinearFit, type PowerLawFit, type BootstrapFits, type BootstrapSlope, type SlopeEstimator } from './fit';
export { recordTrajectory, recordingFor, defaultSubset, locateSubset, type Recording, type Snapshot, type WindowRecording, type WindowSpec } from './recorder';
export { summarizeVarianceFlatness } from './summarize';
export { linearTeacherData, linearNetLayout, layerBlock, linearNetLoss, linearNetGradient, linearNetHessian, gradientNoiseCovariance, sgdTrajectory, polishMinimum, discreteLyapunov, linearTheory, predictedPsi, orbitTangentBasis, type LinearTeacherOptions, type LinearDataset, type LinearNet, type LinearLayer, type SgdOptions, type SgdTrajectory, type LyapunovSolution, type LinearTheory } from './linear-theory';

/** The plugins this package provides. */
export const plugins = [varianceFlatness];
