import { sizeOf } from '@goldstone/core';
import { EXACT_MAX_PARAMS, estimatorNames, type EstimatorKind } from '@goldstone/curvature';
import { z } from 'zod';
import { checkParamNames, checkSplit, formatBytes, type AnalysisCheckContext, type OptionIssue } from '@goldstone/plugin-api';

/** The known trace estimators, quoted, for messages. */
const traceEstimators = () => estimatorNames('trace').map((n) => JSON.stringify(n)).join(', ');

/** Options of the `hessian` analysis. */
export const hessianOptions = z.strictObject({
  /**
   * `exact`: the dense Hessian (one HVP per parameter) and its full eigendecomposition.
   * `lanczos`: Lanczos for extreme eigenpairs, `traceEstimator` (Hutchinson) for the trace,
   * stochastic Lanczos quadrature for the density. `auto`: exact up to `exactMaxParams`
   * parameters, else lanczos. Each resolves to estimators by name (`estimatorsFor`).
   */
  method: z.enum(['auto', 'exact', 'lanczos']).default('auto').describe('exact: dense Hessian, full eigendecomposition; lanczos: Lanczos, traceEstimator trace, SLQ density; auto: exact up to exactMaxParams'),
  /** Largest parameter count `auto` treats exactly (cost ~ n HVPs + n³ eigendecomposition; 2,000 ≈ 40–60 s). */
  exactMaxParams: z.number().int().positive().default(EXACT_MAX_PARAMS).describe('Largest parameter count auto treats exactly (cost ~ n HVPs + n³ eigendecomposition)'),
  /** The curvature matrix: the Hessian, or the (positive semi-definite) Gauss–Newton matrix. */
  operator: z.enum(['hessian', 'ggn']).default('hessian').describe('The curvature matrix: the Hessian, or the (positive semi-definite) Gauss–Newton matrix'),
  /** Restrict to these parameters (a layer, a block); all when absent. */
  params: z.array(z.string()).optional().describe('Restrict to these parameters (a layer, a block); all when absent'),
  /** Number of largest eigenvalues reported. */
  topK: z.number().int().min(1).default(5).describe('Number of largest eigenvalues reported'),
  /** Number of smallest eigenvalues reported (0: none). */
  bottomK: z.number().int().min(0).default(2).describe('Number of smallest eigenvalues reported (0: none)'),
  /**
   * The bottom eigenpairs' own budget: the Krylov dimension up to which unconverged bottom pairs
   * may extend the Lanczos run once the top has converged. 0 (default): the run stops when the top
   * has converged, and the bottom Ritz values it has (upper bounds θ_j ≥ λ_j) are reported as
   * bounds, flagged not converged and kept out of the headline.
   */
  bottomSteps: z.number().int().min(0).default(0).describe('Krylov dimension up to which unconverged bottom eigenpairs may extend the Lanczos run (0: stop when the top has converged; the bottom is then reported as bounds)'),
  /** Maximum Krylov dimension of the Lanczos run for the extreme eigenpairs. */
  lanczosSteps: z.number().int().min(2).default(100).describe('Maximum Krylov dimension of the Lanczos run for the extreme eigenpairs'),
  /**
   * Vectors per block of the Lanczos run for the extreme eigenpairs: 1, single-vector Lanczos
   * (`lanczos`); b ≥ 2, block Lanczos (`block-lanczos`) with blocks of b, which finds up to b copies
   * of a repeated or clustered top (or bottom) eigenvalue, one block product per step; 0, block
   * Lanczos with the curvature operator's own block size (capped at 8). `lanczosSteps` and
   * `bottomSteps` still count vectors: with blocks of b the run makes at most lanczosSteps / b
   * block products, so raise lanczosSteps with b for as many Krylov steps.
   */
  lanczosBlock: z.number().int().min(0).default(1).describe("Vectors per Lanczos block for the extreme eigenpairs: 1 single-vector Lanczos, b ≥ 2 block Lanczos (repeated eigenvalues up to b), 0 block Lanczos with the operator's block size (≤ 8)"),
  /** Lanczos stops when every wanted Ritz residual is below tol · |λ_max|. */
  tol: z.number().positive().default(1e-5).describe('Lanczos stops when every wanted Ritz residual is below tol · |λ_max|'),
  /**
   * Trace estimator of the lanczos method, by its name in `@goldstone/curvature`'s registry:
   * `hutchinson` (Rademacher), `hutch++`, `dense`, or one added with `registerEstimator`.
   */
  traceEstimator: z
    .string()
    .refine((name) => estimatorNames('trace').includes(name), { error: () => `unknown trace estimator, expected one of ${traceEstimators()}` })
    .default('hutchinson')
    .describe(`Trace estimator of the lanczos method, by name (${estimatorNames('trace').join(', ')}, or a registered one)`),
  /** Probes of the trace estimator (Hutch++: products, split in thirds). */
  traceProbes: z.number().int().min(2).default(30).describe('Probes of the trace estimator (Hutch++: products, split in thirds)'),
  /** Probes of stochastic Lanczos quadrature. */
  densityProbes: z.number().int().min(1).default(5).describe('Probes of stochastic Lanczos quadrature'),
  /** Lanczos steps per density probe. */
  densitySteps: z.number().int().min(2).default(40).describe('Lanczos steps per density probe'),
  /** Gaussian smoothing of the linear density, as a fraction of the spectral range. */
  sigma: z.number().positive().default(0.01).describe('Gaussian smoothing of the linear density, as a fraction of the spectral range'),
  /** Gaussian smoothing of the log-|λ| density, in decades. */
  logSigma: z.number().positive().default(0.1).describe('Gaussian smoothing of the log-|λ| density, in decades'),
  /** Points of the density grids. */
  gridPoints: z.number().int().min(16).default(200).describe('Points of the density grids'),
  /** Confidence level of the intervals of SLQ-derived numbers (quadrature bracket + Monte-Carlo error). */
  level: z.number().gt(0).lt(1).default(0.9).describe('Confidence level of the intervals of SLQ-derived numbers (quadrature bracket + Monte-Carlo error)'),
  /** An SLQ-derived number is flagged unreliable when its quadrature bracket is wider than this fraction of |value|. */
  maxRelativeBracket: z.number().positive().default(0.25).describe('Flag an SLQ-derived number unreliable when its quadrature bracket exceeds this fraction of |value|'),
  /** Near-zero threshold: modes with |λ| < epsilon · λ_max. */
  epsilon: z.number().positive().default(1e-4).describe('Near-zero threshold: modes with |λ| < epsilon · λ_max'),
  /** Curvature scale z of N_eff(z) = Σ λ/(λ+z) and log det = Σ log(1 + λ/z) (absolute units of λ). */
  z: z.number().positive().default(1e-3).describe('Curvature scale z of N_eff(z) = Σ λ/(λ+z) and log det = Σ log(1 + λ/z) (absolute units of λ)'),
  /** N_eff and log det at z = zRelative · λ_max (scale-free across runs: the headline); the absolute `z` stays beside it. */
  zRelative: z.number().positive().default(1e-3).describe('Also report N_eff and log det at z = zRelative · λ_max (scale-free across runs)'),
  /**
   * The function whose curvature is taken: `data`, the task's loss; `total`, the objective that was
   * trained (data + symmetry penalty + weight decay, the run's `objective.total`). Hessian only.
   */
  objective: z.enum(['data', 'total']).default('data').describe("The function whose curvature is taken: data (the task's loss) or total (data + penalty + weight decay, as trained)"),
  /** Examples of the split the loss is averaged over (a seeded random subset when the split is larger). */
  maxExamples: z.number().int().positive().default(512).describe('Examples of the split the loss is averaged over (a seeded random subset when larger)'),
  /** Split the examples into fixed batches of this size (0: one batch); the operator is their mean. */
  batchSize: z.number().int().min(0).default(0).describe('Split the examples into fixed batches of this size (0: one batch); the operator is their mean'),
  /** The split the curvature is taken on. */
  split: z.string().default('train').describe('The split the curvature is taken on'),
  /** Offset added to the run's seed for this analysis's random draws (probes, subset). */
  seed: z.number().int().min(0).default(0).describe("Offset added to the run's seed for this analysis's random draws (probes, subset)"),
  /** Directions whose curvature is reported: the model's declared parameter symmetries, or none. */
  directions: z.enum(['symmetries', 'none']).default('symmetries').describe("Directions whose curvature is reported: the model's declared parameter symmetries, or none"),
  /**
   * Curvature along the parameter direction that realises each input symmetry's generator
   * (`model.generatorDirection`): Rayleigh quotient, its ratio to λ_max, percentile, overlap with
   * the bottom eigenvectors, and a first-order functional check.
   */
  generators: z.boolean().default(true).describe("Whether to report the curvature along the direction realising each input symmetry's generator"),
  /** Bottom eigenvectors the generator direction's overlap is summed over (exact mode). */
  bottomOverlapK: z.number().int().min(1).default(10).describe("Bottom eigenvectors the generator direction's overlap is summed over (exact mode)"),
  /** Which eigenvectors are the bottom ones: smallest |λ| (near-zero modes) or smallest λ. */
  bottomOverlapBy: z.enum(['abs', 'algebraic']).default('abs').describe('Bottom eigenvectors: smallest |λ| (abs) or smallest λ (algebraic)'),
  /** Examples of the first batch the generator direction's first-order check runs on (0: none). */
  generatorCheckExamples: z.number().int().min(0).default(8).describe("Examples the generator direction's first-order check runs on (0: none)"),
  /** Loss profiles L(w + t·uᵢ) along this many top eigenvectors (figure). */
  lossLines: z.number().int().min(0).default(3).describe('Loss profiles L(w + t·uᵢ) along this many top eigenvectors (figure)'),
  /** Points per loss profile. */
  lossLinePoints: z.number().int().min(3).default(41).describe('Points per loss profile'),
  /** Figures (spectrum, densities, loss profiles). */
  figures: z.boolean().default(true).describe('Whether to draw figures (spectrum, densities, loss profiles)'),
});

export type HessianOptions = z.output<typeof hessianOptions>;

/** Float64 n×n matrices the exact method holds at once (the Hessian, its eigenvectors, the eigensolver's work). */
const EXACT_DENSE_MATRICES = 3;

/**
 * The `check` hook: the split and the parameters named exist, and the exact method's dense
 * matrices fit in memory.
 */
export function hessianIssues(o: HessianOptions, { task, model, memoryLimit }: Pick<AnalysisCheckContext, 'task' | 'model' | 'memoryLimit'>): OptionIssue[] {
  const issues = [...checkSplit(task, 'split', o.split), ...checkParamNames(model, 'params', o.params)];
  if (o.objective === 'total' && o.operator !== 'hessian') {
    issues.push({ field: 'objective', message: `objective: total has a Hessian only (the penalty and weight decay are not a loss of the outputs), but operator is "${o.operator}"; use operator: hessian or objective: data` });
  }
  if (issues.length) return issues;
  const n = o.params ? model.specs.filter((s) => o.params!.includes(s.name)).reduce((a, s) => a + sizeOf(s.shape), 0) : model.paramCount;
  const exact = o.method === 'exact' || (o.method === 'auto' && n <= o.exactMaxParams);
  const bytes = EXACT_DENSE_MATRICES * 8 * n * n;
  if (exact && bytes > memoryLimit) {
    issues.push({
      field: o.method === 'exact' ? 'method' : 'exactMaxParams',
      message: `the exact method would hold dense ${n}×${n} matrices (~${formatBytes(bytes)}), more than the memory limit of ${formatBytes(memoryLimit)}; use method: lanczos${o.method === 'auto' ? ` or an exactMaxParams below ${n}` : ''}`,
    });
  }
  return issues;
}

/**
 * Which estimator answers each quantity, by method: `exact` takes everything from the dense
 * spectrum; `lanczos` takes the extreme eigenpairs from Lanczos (`block-lanczos` unless
 * `lanczosBlock` is 1), the trace from `traceEstimator` and the density (and every spectral sum)
 * from stochastic Lanczos quadrature.
 */
export function estimatorsFor(method: 'exact' | 'lanczos', opts: Pick<HessianOptions, 'traceEstimator'> & Partial<Pick<HessianOptions, 'lanczosBlock'>>): Record<EstimatorKind, string> {
  const plans: Record<'exact' | 'lanczos', Record<EstimatorKind, string>> = {
    exact: { eigenpairs: 'dense', trace: 'dense', density: 'dense' },
    lanczos: { eigenpairs: (opts.lanczosBlock ?? 1) === 1 ? 'lanczos' : 'block-lanczos', trace: opts.traceEstimator, density: 'slq' },
  };
  return plans[method];
}
