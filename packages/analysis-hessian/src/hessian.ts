import { API_VERSION, defineAnalysis } from '@goldstone/plugin-api';
import { analyzeHessian } from './analyze';
import { hessianIssues, hessianOptions } from './options';

/**
 * The `hessian` analysis: spectrum, trace, density and complexity metrics of the loss Hessian at
 * the trained parameters, exact for small models and by Krylov methods for large ones, with the
 * provenance of every number.
 */
export const hessian = defineAnalysis({
  name: 'hessian',
  apiVersion: API_VERSION,
  description: 'Hessian spectrum, trace, spectral density, near-zero modes, effective dimension and symmetry zero modes',
  options: hessianOptions,
  check: (options, ctx) => hessianIssues(options, ctx),
  run: (ctx, options) => analyzeHessian(ctx, options),
});
