import type { Json, Rng } from '@goldstone/plugin-api';
import type { LinearOperator } from './linear-operator';
import type { Quadrature } from './spectral-density';
import type { Estimate } from './spectrum-metrics';

/**
 * What an estimator estimates:
 * - `eigenpairs`: the extreme eigenvalues (top-k descending, bottom-k ascending), with unit
 *   eigenvectors on request;
 * - `trace`: tr(A) with its standard error;
 * - `density`: the spectral density as Gauss quadrature rules (one per probe, or one exact rule),
 *   from which the smoothed densities and every spectral sum (near-zero count, N_eff, log det) follow.
 */
export const ESTIMATOR_KINDS = ['eigenpairs', 'trace', 'density'] as const;
export type EstimatorKind = (typeof ESTIMATOR_KINDS)[number];

/** Settings of an `eigenpairs` run. */
export interface EigenpairSettings {
  /** Number of largest eigenpairs wanted. */
  topK: number;
  /** Number of smallest eigenpairs wanted (0: none). */
  bottomK: number;
  /** Unit eigenvectors wanted on the first `vectors` top pairs (default 0: none). */
  vectors?: number;
  /** Iterative estimators: the largest Krylov dimension (each estimator documents its default). */
  maxSteps?: number;
  /** Iterative estimators: the stopping tolerance, relative to |λ_max| (each estimator documents its default). */
  tol?: number;
  /**
   * Iterative estimators: the Krylov dimension up to which unconverged bottom pairs may extend the
   * run once the top has converged (default: `maxSteps`). Bottom values left unconverged are bounds.
   */
  bottomSteps?: number;
  /**
   * Block estimators (`block-lanczos`): vectors per block (each estimator documents its default).
   * `maxSteps` and `bottomSteps` still count vectors.
   */
  blockSize?: number;
}

/** Settings of a `trace` run (`{}`: the estimator's defaults). */
export interface TraceSettings {
  /**
   * Random probes (an estimator that splits a product budget, such as Hutch++, reads it as that
   * budget); each stochastic estimator documents its default. Exact ones ignore it.
   */
  probes?: number;
}

/** Settings of a `density` run (`{}`: the estimator's defaults). */
export interface DensitySettings {
  /** Random probes, one quadrature rule each (stochastic estimators; each documents its default). */
  probes?: number;
  /** Lanczos steps (quadrature nodes) per probe (Krylov estimators; each documents its default). */
  steps?: number;
}

/**
 * What a run is asked for: one section per kind. A section's presence asks for that kind; an
 * estimator that provides several kinds (`dense`) answers every kind asked for from one run.
 */
export interface EstimatorSettings {
  eigenpairs?: EigenpairSettings;
  trace?: TraceSettings;
  density?: DensitySettings;
}

/** One estimated eigenpair. */
export interface EigenpairEstimate {
  value: number;
  /** Unit eigenvector (host, length n), when asked for. */
  vector?: Float64Array;
  /** Residual ‖A v − λ v‖, where the method has one (Ritz residuals); absent for exact ones. */
  residual?: number;
  /**
   * Whether this pair met the stopping test (iterative methods; exact ones: absent, always true).
   * An unconverged bottom Ritz value is an upper bound θ_j ≥ λ_j, an unconverged top one a lower bound.
   */
  converged?: boolean;
}

/** The result of an `eigenpairs` run. */
export interface ExtremeEigenpairs {
  /** The largest eigenpairs, descending (at most topK). */
  top: EigenpairEstimate[];
  /** The smallest eigenpairs, ascending (at most bottomK). */
  bottom: EigenpairEstimate[];
  /** Whether every wanted pair met the stopping test (always true for an exact method). */
  converged: boolean;
  /** Iterative methods: the top and the bottom pairs separately, and the Krylov dimension each converged at (null: never). */
  topConverged?: boolean;
  bottomConverged?: boolean;
  topConvergedAt?: number | null;
  bottomConvergedAt?: number | null;
  /** Every eigenvalue, descending, when the estimator computed them all (exact methods). */
  spectrum?: number[];
  /**
   * The unit eigenvector of `spectrum[i]` (same descending order), computed on request, when the
   * estimator holds a full eigendecomposition (exact methods): for overlaps with any eigenvectors.
   */
  eigenvector?: (i: number) => Float64Array;
}

/** The result of a `density` run. */
export interface SpectralQuadratures {
  /** Quadrature rules whose mean is the spectral measure (weights of each sum to 1). */
  quadratures: Quadrature[];
}

/**
 * Where a run's numbers came from. `estimator` is the registry name (the name that reruns it),
 * `settings` what the run used (defaults resolved), `hvps` the operator products it made. Stochastic
 * estimators add `seed` (of the random stream they drew from) and, for a single number, `stderr`;
 * iterative ones add `converged`. Any further field is an estimator-specific detail (e.g. `steps`,
 * `probe`, `stopping`, `asymmetry`).
 */
export interface EstimatorProvenance {
  estimator: string;
  settings: { [key: string]: Json };
  hvps: number;
  seed?: number;
  stderr?: number;
  converged?: boolean;
  [detail: string]: Json | undefined;
}

/** What a run returns: a result for every kind asked for (that the estimator provides), and its provenance. */
export interface EstimatorResult {
  eigenpairs?: ExtremeEigenpairs;
  trace?: Estimate;
  density?: SpectralQuadratures;
  provenance: EstimatorProvenance;
}

/**
 * A curvature estimator: a named method that measures a symmetric operator through its
 * matrix-vector products. Randomness only from the `rng` passed in: the same stream gives the
 * same numbers. An estimator never disposes the operator. `run` may return its result directly or
 * as a promise (callers await it); a long one should be async and let the event loop turn between
 * products (`await yieldToEventLoop()` from `@goldstone/core`), as the built-ins do, so that a
 * Ctrl-C, a timer or I/O is not held up until it ends.
 */
export interface Estimator {
  /** Unique name in the registry, the name users pick it by: `lanczos`, `hutch++`. */
  name: string;
  /** What it estimates (one run answers every kind asked for that is listed here). */
  kinds: readonly EstimatorKind[];
  /** One line: the method, its cost and its error bar. */
  description: string;
  /** The most operator products a run with these settings makes (for progress bars and budgets). */
  products?(dim: number, settings: EstimatorSettings): number;
  run(op: LinearOperator, settings: EstimatorSettings, rng: Rng): EstimatorResult | Promise<EstimatorResult>;
}

/** Check an estimator's shape and return it (typed): the one way to write an estimator. */
export function defineEstimator(e: Estimator): Estimator {
  if (typeof e.name !== 'string' || !/^[a-z0-9][a-z0-9+.-]*$/.test(e.name)) {
    throw new TypeError(`defineEstimator: name must be lower-case letters, digits, '+', '.' or '-', got ${JSON.stringify(e.name)}`);
  }
  if (e.kinds.length === 0 || e.kinds.some((k) => !(ESTIMATOR_KINDS as readonly string[]).includes(k))) {
    throw new TypeError(`defineEstimator: ${e.name}: kinds must be some of ${ESTIMATOR_KINDS.join(', ')}, got [${e.kinds.join(', ')}]`);
  }
  if (typeof e.run !== 'function') throw new TypeError(`defineEstimator: ${e.name}: run must be a function`);
  return e;
}

/** The settings of one kind, or a clear error naming the estimator when they were not given. */
export function settingsOf<K extends EstimatorKind>(name: string, settings: EstimatorSettings, kind: K): NonNullable<EstimatorSettings[K]> {
  const s = settings[kind];
  if (!s) throw new TypeError(`${name}: no ${kind} settings given`);
  return s as NonNullable<EstimatorSettings[K]>;
}
