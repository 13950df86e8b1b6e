// The curvature engine of @goldstone/core. Core's index does not re-export these modules yet;
// once it does, this file becomes `export * from '@goldstone/core'` (or goes away).
export * from '../../core/src/linear-operator';
export * from '../../core/src/lanczos';
export * from '../../core/src/power-iteration';
export * from '../../core/src/trace-estimators';
export * from '../../core/src/spectral-density';
export * from '../../core/src/dense-hessian';
export * from '../../core/src/spectrum-metrics';
