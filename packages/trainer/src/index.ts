// Public surface of @goldstone/trainer: named re-exports only. Training.
export { createOptimizer } from './optim';
export type { Optimizer, OptimizerConfig, OptimizerName, ParamGroup, ReplicaOptions } from './optim';
export { lrFactor } from './schedule';
export type { ScheduleConfig } from './schedule';
export { createSymmetryPenalty, generatorViolation, resolveSymmetry, sampledViolation } from './symmetry-penalty';
export type { SymmetryPenalty, SymmetryPenaltyConfig, SymmetryPenaltyForm } from './symmetry-penalty';
export { replicaIssues, replicaLosses, trainReplicas } from './replicas';
export { trainedObjective } from './trained-objective';
export { createTrainStep, evaluate, paramsFinite, train } from './trainer';
export type { EpochRow, LossFunction, MetricRow, Penalty, StepRow, TrainConfig, TrainOptions, TrainResult, TrainStep } from './trainer';
