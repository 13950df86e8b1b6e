// Public surface of @goldstone/bench (private): re-exports only. `pnpm bench` builds it and runs `main`.
export { runBench, runToyOnly, table, settingsFromEnv, sectionsFromEnv, SECTIONS, main } from './run';
export type { BenchReport, BenchSettings, BackendRun, Row, KrylovReport, Section } from './run';
export { CASES, prepareCase, buildCase } from './cases';
export type { BenchCase, PreparedCase } from './cases';
export { runTorch, parseTorchOutput, torchMissing, TORCH_SCRIPT } from './torch';
export type { TorchResult } from './torch';
export { summarize, median, quantile, timeIt, ratio } from './stats';
export type { Summary } from './stats';
export {
  krylovProblem,
  topKAccurate,
  krylovRatio,
  AccuracyClock,
  setupKrylov,
  referenceEigenvalues,
  timeLanczos,
  timePower,
  runKrylov,
  runTorchKrylov,
  parseKrylovOutput,
  krylovTable,
  KRYLOV_SCRIPT,
} from './krylov';
export type { KrylovProblem, KrylovRun, KrylovSetup, KrylovBackendRun, KrylovReference, KrylovPeerInput, TorchKrylovResult, KrylovRow } from './krylov';
export {
  TOY_CELLS,
  TOY_PARAMS,
  TOY_SCRIPT,
  CLI_BIN,
  toyProblem,
  toyExperiment,
  readToyRun,
  runOursToy,
  runTorchToy,
  parseToyOutput,
  toyTable,
  runToy,
} from './grokking-toy';
export type { ToyProblem, ToyCell, OursToy, TorchToy, ToyRow, ToyReport } from './grokking-toy';
export { peerScript, lastJsonLine, runPeer, runChild } from './peer';
export type { PeerOutcome, ChildRun } from './peer';
export { hessianProblem, cltData, setupHessian, timeDenseHessian, runExactHessian, runTorchHessian, HESSIAN_SCRIPT } from './exact-hessian';
export type { HessianProblem, HessianSetup, HessianRun, HessianPeerInput, TorchHessianResult, HessianReport } from './exact-hessian';
export { estimatorProblem, setupEstimators, timeEstimators, runEstimators, runTorchEstimators, PYHESSIAN_SCRIPT } from './curvature-estimators';
export type { EstimatorProblem, EstimatorRun, EstimatorBackendRun, EstimatorPeerInput, TorchEstimatorResult, EstimatorReport } from './curvature-estimators';
export {
  seedsProblem,
  epochsOf,
  seedsTask,
  seedsModel,
  seedsConfig,
  seedStream,
  seedsRun,
  trainSeedsSequential,
  workerSeeds,
  trainSeedsInWorkers,
  seedsWorkerMain,
  runTorchSeeds,
  BENCH_DIST,
  SEEDS_SCRIPT,
} from './seeds';
export type { SeedsProblem, SeedResult, SeedsRun, SeedsOutcome, SeedsJob, TorchSeedsResult, SeedsReport } from './seeds';
export { vectorisedSeeds, findTrainReplicas, maxLossDiff } from './vectorised-seeds';
export type { TrainReplicas } from './vectorised-seeds';
export { hessianSection, estimatorSection, seedsSection } from './sections';
export type { SectionSettings } from './sections';
export { ratioTable, formatRatioTable } from './ratio-table';
export type { RatioRow, RatioSources } from './ratio-table';
