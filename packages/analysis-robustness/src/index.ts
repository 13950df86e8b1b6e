// Public surface of @goldstone/analysis-robustness: re-exports only.
import { robustness } from './robustness';

export { robustness, analyzeRobustness, evaluationSubset, perturbationStrengths } from './robustness';
export { robustnessOptions, ROBUSTNESS_SECTIONS, type RobustnessOptions, type RobustnessSection } from './options';
export { fgsm, pgd, perExampleLoss, inputGradient, type AttackTarget, type PgdOptions } from './attacks';
export { intervalBounds, activationBounds, denseChain, checkChain, GELU_ARGMIN, type DenseChain } from './interval-bounds';
export { inputDomain, clipToDomain, confine, onRealValues, type InputDomain, type DomainOption } from './domain';
export { featureScales, smear } from './smearing';
export { predictionChange, invarianceScores, type PredictionChange } from './invariance';
export { weightNoiseSweep, hutchinsonTrace, hutchinsonReason, parameterFingerprint, traceFromHessian, traceMismatches, type TraceSource, type TraceWanted, type WeightNoisePoint } from './weight-noise';

/** goldstone loads a module's `plugins` export. */
export const plugins = [robustness];
