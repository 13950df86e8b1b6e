// Public surface of @goldstone/core: named re-exports only. Tensors.
export { activation, ACTIVATIONS, elu, ELU_ALPHA, erf, exp, gelu, identity, LEAKY_RELU_SLOPE, leakyRelu, logSoftmax, logSumExp, quadratic, relu, sigmoid, softmax, softplus, tanh } from './activations';
export type { ActivationName } from './activations';
export { createAnalysisContext, taskLoss } from './analysis-context';
export { BACKEND_CHOICES, backendInfo, BackendUnavailableError, initBackend, isBackendChoice } from './backend';
export type { BackendChoice, BackendInfo, BackendName, InitBackendOptions } from './backend';
export { barChart, lineChart } from './chart-specs';
export { batchIndices, sampleIndices, sampleSplit, splitTensors, subsetSplit, trainTestSplit } from './data';
export type { BatchOptions } from './data';
export { flatLoss, gradientOf, hvp, hvpFiniteDifference } from './hvp';
export type { FlatFunction } from './hvp';
export { binaryCrossEntropy, LOSSES, lossFunction, mse, softmaxCrossEntropy } from './losses';
export type { LossFunction } from './losses';
export { cloneParams, countParams, disposeParams, flattenParams, paramsFromArray, paramsToArray, sizeOf, unflattenParams } from './params';
export { Rng } from './rng';
export { argmaxRow, auc, chanceScore, higherIsBetter, predictSplit, primaryMetric, scoreArrays, scoreTensors, withinTolerance } from './scoring';
export type { MetricName } from './scoring';
export { activeWasmKernels, installWasmKernels, uninstallWasmKernels, WASM_FIXES } from './wasm-kernels';
export type { WasmFix } from './wasm-kernels';
