// Public surface of @goldstone/sweep: named re-exports only. Sweeps.
export { jobOf, jobPoints } from './executor';
export type { ExecutorEvents, PointJob, PointRef, PointResult, SweepExecutor } from './executor';
export { InProcessExecutor } from './in-process-executor';
export { LocalExecutor } from './local-executor';
export type { LocalExecutorOptions } from './local-executor';
export { PointRunner } from './run-point';
export { runSweep, silentReporter } from './run-sweep';
export type { SweepMode, SweepOptions, SweepOutcome, SweepReporter } from './run-sweep';
export { checkSlurmFlags, checkSlurmTime, emitSlurm, runArrayTask, shellQuote, SLURM_DIR, SLURM_POINTS_FILE, SLURM_SCRIPT, slurmJobName } from './slurm';
export type { ArrayTaskOptions, ArrayTaskOutcome, SlurmEmission, SlurmEmitOptions, SlurmFlags, SlurmSettings } from './slurm';
export { replicaKey, vectorGroups } from './vectorize';
export { canonicalJson, comparableConfig, DEFAULT_MAX_REPLICAS, vectorizeSetting, countPoints, countStatuses, createSweepIndex, DEFAULT_MAX_POINTS, expandRange, expandSweep, finishPoint, forbiddenSegment, groupSettings, indexDifferences, jsonDifferences, metricStats, needsRun, POINT_STATUSES, pointId, readSweepIndex, reconcilePoint, resetPoint, resolveSweep, shortName, startPoint, summarizeFinalMetrics, SWEEP_INDEX_FILE, SWEEP_INDEX_FORMAT, SweepSchema, updatePoint, updatePoints, writeSweepIndex } from './sweep-spec';
export type { JsonDifference, MetricGroup, MetricStats, PointStatus, ResolvedSweep, SweepIndex, SweepPoint, SweepPointRecord, SweepRange, SweepSpec } from './sweep-spec';
