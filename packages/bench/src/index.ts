// Public surface of @goldstone/bench (private): re-exports only. `pnpm bench` builds it and runs `main`.
export { runBench, runToyOnly, table, settingsFromEnv, main } from './run';
export type { BenchReport, BenchSettings, BackendRun, Row, KrylovReport } from './run';
export { CASES, prepareCase } from './cases';
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
