import { varianceFlatness } from './variance-flatness';

export { varianceFlatness, varianceFlatnessOptions, PUBLISHED, type VarianceFlatnessOptions } from './variance-flatness';
export { analyzeTrajectory, DEFAULT_ANALYZE_OPTIONS, type AnalyzeOptions, type ComponentResult, type VarianceFlatness } from './analyze';
export { trajectoryPca, cosine, type TrajectoryPca, type PcaMethod } from './pca';
export { findCrossing, profileFlatness, type Crossing, type CrossingOptions, type FlatnessResult } from './root-finding';
export { linearFit, powerLawFit, studentTQuantile, studentTCdf, type LinearFit, type PowerLawFit } from './fit';
export { recordTrajectory, recordingFor, defaultSubset, locateSubset, type Recording, type Snapshot } from './recorder';
export { summarizeVarianceFlatness } from './summarize';
export { linearTeacherData, linearNetLayout, layerBlock, linearNetLoss, linearNetGradient, linearNetHessian, gradientNoiseCovariance, sgdTrajectory, polishMinimum, discreteLyapunov, linearTheory, predictedPsi, orbitTangentBasis, type LinearTeacherOptions, type LinearDataset, type LinearNet, type LinearLayer, type SgdOptions, type SgdTrajectory, type LyapunovSolution, type LinearTheory } from './linear-theory';

/** The plugins this package provides. */
export const plugins = [varianceFlatness];
