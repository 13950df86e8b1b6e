// Public surface of @goldstone/plugin-api: named re-exports only. The goldstone plugin contract.
export { didYouMean, editDistance, messageOf, nearestName, RunFailedError, UsageError } from './errors';
export { headlineIssues, readHeadline } from './headline';
export type { HeadlineNumber } from './headline';
export { isObject, settingOf } from './json';
export { higherIsBetter, primaryMetric } from './metrics';
export type { MetricName } from './metrics';
export { API_VERSION, defineAnalysis, defineModel, defineTask } from './plugin';
export type { AnalysisCheckContext, AnalysisContext, AnalysisPlugin, AnalysisResult, AnalysisStore, CurvatureProductRequest, Figure, GeneratorDirection, GraphData, InputPerturbation, InputSymmetry, ModelCreateContext, ModelInstance, ModelPlugin, OptionIssue, OutputKind, ParamSymmetry, Plugin, PluginKind, Progress, Provenance, SizeEstimate, SummaryClaim, SummaryInput, TaskCreateContext, TaskInstance, TaskPlugin, TrainedObjective, TrainHooks, TrainPlan } from './plugin';
export { packageInfo } from './package-version';
export { checkParamNames, checkSplit, formatBytes, formatCount } from './preflight';
export { silentProgress } from './progress';
export { isPlugin, NO_BUILTINS, pluginsOf, Registry } from './registry';
export type { BuiltinPlugins, PluginEntry, PluginSource } from './registry';
export type { Json, LossName, OptimizerStateEntry, Params, ParamSpec, Rng, Split, TrainStatus } from './types';
// The schema library plugins write their options with: one copy, shared with the runner's validation.
export { z } from 'zod';
