// Public surface of @goldstone/runner: named re-exports only. Running experiments.
export { ExperimentSchema, experimentToJson, parseExperiment, parseOrThrow, setPath, TrainSchema } from './experiment';
export type { Experiment, TrainSettings } from './experiment';
export { loadExperimentFile, parseAssignments, readConfigFile } from './experiment-file';
export { packageVersions, registryFor, resolutionBases, startBackend } from './plugin-environment';
export type { PluginEnvironment } from './plugin-environment';
export { buildRegistry, loadPluginModule } from './plugin-loader';
export type { LoadOptions } from './plugin-loader';
export { checkOutFlag, createRunDirectory, markInterruptedOnSignal, openRunToResume, outDirError, prepareOutDir } from './run-directory';
export { analyzeStoredRun, instantiate, resolvedConfig, runAnalysis, runExperiment } from './run-experiment';
export { analysisIds, resolveExperiment } from './resolve';
export { prepareExperiment } from './preflight';
export { MEMORY_FRACTION, MEMORY_LIMIT_ENV, memoryBudget, parseByteSize, trainingBytes, WASM_HEAP_MAX } from './memory-budget';
export type { MemoryBudget } from './memory-budget';
export type { PreparedExperiment, PreparedGroup } from './preflight';
export type { RunOutcome } from './run-experiment';
export type { ResolvedExperiment } from './resolve';
export { configDifferences, RESUMABLE_CHANGES, resumeConflicts } from './resume';
export type { ConfigDifference } from './resume';
