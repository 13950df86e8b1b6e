// Public surface of @goldstone/bench (private): re-exports only. `pnpm bench` runs src/bench.ts.
export { runBench, table, settingsFromEnv, main } from './run';
export type { BenchReport, BenchSettings, BackendRun, Row, KrylovReport } from './run';
export { CASES, prepareCase } from './cases';
export type { BenchCase, PreparedCase } from './cases';
export { runTorch, parseTorchOutput, TORCH_SCRIPT } from './torch';
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
