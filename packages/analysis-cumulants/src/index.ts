// Public surface of @goldstone/analysis-cumulants: re-exports only.
import { cumulants } from './cumulants';

export { cumulants, analyzeCumulants, applyRows, declaredDegree, infoInputCumulants, mlpLayers, probeQuadraticForms } from './cumulants';
export { cumulantsOptions, type CumulantsOptions } from './options';
export { bootstrapMeanDifference, cumulantsRow, flowFigure, headlineFigure, summarizeCumulants, type ClaimRow, type CumulantsRow, type FlowPoint, type GroupRow } from './summary';
export {
  affineCumulantTensors,
  compileQuadraticForm,
  evaluateCompiled,
  gaussHermite,
  gaussianClosure,
  iidCumulantTensors,
  pooledCumulants,
  quadraticFormCumulants,
  quadraticScalarCumulants,
  type CompiledForm,
  type CumulantTensors,
  type DenseLayer,
  type QuadraticForm,
} from './propagation';
export { cumulantsFromMoments, momentsFromCumulants, percentileInterval, plugInCumulants, type Estimate } from './stats';

/** goldstone loads a module's `plugins` export. */
export const plugins = [cumulants];
