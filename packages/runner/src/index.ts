// Public surface of @goldstone/runner: named re-exports only. Running experiments.
export { checkTree, deepMerge, ExperimentSchema, experimentToJson, locateField, MAX_DEPTH, parseExperiment, parseOrThrow, parsePath, RESERVED_KEYS, setPath, TrainSchema } from './experiment';
export type { ParseExperimentOptions, PathKey } from './experiment';
export type { Experiment, TrainSettings } from './experiment';
export { loadExperimentFile, parseAssignments, readConfigFile } from './experiment-file';
export { packageVersions, registryFor, resolutionBases, startBackend } from './plugin-environment';
export type { PluginEnvironment } from './plugin-environment';
export { buildRegistry, loadPluginModule } from './plugin-loader';
export type { LoadOptions } from './plugin-loader';
export { checkOutFlag, createRunDirectory, markInterruptedOnSignal, openRunToResume, outDirError, prepareOutDir } from './run-directory';
export { analysisIds, analyzeStoredRun, instantiate, resolvedConfig, resolveExperiment, runAnalysis, runExperiment } from './run-experiment';
export { prepareExperiment } from './preflight';
export type { PreparedExperiment, PreparedGroup } from './preflight';
export type { ResolvedExperiment, RunOutcome } from './run-experiment';
export { configDifferences, RESUMABLE_CHANGES, resumeConflicts } from './resume';
export type { ConfigDifference } from './resume';
