// Public surface of @goldstone/sweep: named re-exports only. Sweeps.
export type { ExecutorEvents, PointJob, PointResult, SweepExecutor } from './executor';
export { InProcessExecutor } from './in-process-executor';
export { LocalExecutor } from './local-executor';
export type { LocalExecutorOptions } from './local-executor';
export { PointRunner } from './run-point';
export { runSweep, silentReporter } from './run-sweep';
export type { SweepOptions, SweepOutcome, SweepReporter } from './run-sweep';
export { canonicalJson, countStatuses, createSweepIndex, expandRange, expandSweep, finishPoint, groupSettings, metricStats, needsRun, POINT_STATUSES, pointId, readSweepIndex, reconcilePoint, resolveSweep, shortName, startPoint, summarizeFinalMetrics, SWEEP_INDEX_FILE, SWEEP_INDEX_FORMAT, SweepSchema, updatePoint, writeSweepIndex } from './sweep-spec';
export type { MetricGroup, MetricStats, PointStatus, ResolvedSweep, SweepIndex, SweepPoint, SweepPointRecord, SweepRange, SweepSpec } from './sweep-spec';
