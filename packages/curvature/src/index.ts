// Public surface of @goldstone/curvature: named re-exports only. Curvature.
export { denseMatrix, EXACT_MAX_PARAMS, exactSpectrum, symmetricEigen } from './dense-hessian';
export type { DenseMatrix, SymmetricEigen } from './dense-hessian';
export { lanczos, lanczosDecomposition, tridiagonalEigen } from './lanczos';
export type { EigenPair, LanczosDecomposition, LanczosOptions, LanczosResult, LanczosRunOptions } from './lanczos';
export { checkDeterministic, curvatureOperator, denseOperator, ggnProduct, paramRanges, rayleighQuotient } from './linear-operator';
export type { CurvatureOperatorOptions, DataBatch, LinearOperator, ParamRange } from './linear-operator';
export { powerIteration } from './power-iteration';
export type { PowerIterationOptions, PowerIterationResult } from './power-iteration';
export { exactQuadrature, integrate, logAbsDensity, smoothedDensity, spectralSum, stochasticLanczosQuadrature } from './spectral-density';
export type { Density, DensityOptions, LogDensity, LogDensityOptions, Quadrature, SlqResult } from './spectral-density';
export { directionalCurvature, effectiveDimension, logDet, nearZeroModes, symmetryZeroModes } from './spectrum-metrics';
export type { Estimate, NearZeroModes, SpectrumSource, SymmetryModes } from './spectrum-metrics';
export { symmetricEigenDecomposition, tridiagonalEigenvalues } from './symmetric-eigen';
export type { SymmetricEigenDecomposition, SymmetricTridiagonal } from './symmetric-eigen';
export { hutchinson, hutchPlusPlus } from './trace-estimators';
export type { TraceEstimate } from './trace-estimators';
