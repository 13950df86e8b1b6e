import { z } from 'zod';
import { checkSplit, formatBytes, type AnalysisCheckContext, type OptionIssue } from '@goldstone/plugin-api';

/** The direction sets a slice can be taken along. */
export const DIRECTION_KINDS = ['random', 'hessian', 'pca'] as const;
export type DirectionKind = (typeof DIRECTION_KINDS)[number];

/** Half-width of a slice: a number (in the units of the direction set), or `auto`. */
const range = z.union([z.number().positive(), z.literal('auto')]);

/** Options of the `landscape` analysis. */
export const landscapeOptions = z.strictObject({
  /**
   * The direction sets slices are taken along, around the trained parameters: `random`, two
   * Gaussian directions with filter normalisation (Li et al. 2018); `hessian`, the top two
   * eigenvectors of the Hessian of the loss (Lanczos); `pca`, the top two principal components of
   * the recorded training trajectory.
   */
  directions: z.array(z.enum(DIRECTION_KINDS)).default(['random']).describe('Direction sets: random (filter-normalised), hessian (top-2 eigenvectors), pca (top-2 trajectory PCs)'),
  /** Which slices: 1 (a curve along each of the two directions), 2 (a grid over the plane of both). */
  dims: z.array(z.union([z.literal(1), z.literal(2)])).default([1, 2]).describe('Slices drawn: 1 (curves along each direction), 2 (the plane of the first two)'),
  /** Points of a 1-D slice. */
  points1d: z.number().int().min(3).default(41).describe('Points of a 1-D slice'),
  /** Points per axis of a 2-D slice (points2d² evaluations). */
  points2d: z.number().int().min(3).default(21).describe('Points per axis of a 2-D slice (points2d² loss evaluations)'),
  /**
   * Half-width of the slices: coordinates run over [−range, range] on each axis. `auto`: random,
   * 1 (filter-normalised directions have the norm of the weights); hessian, 2·√(2·max(L₀, 0.01)/λ₁)
   * (the quadratic model along u₁ rises by 4·max(L₀, 0.01)); pca, 1.25 × the trajectory's largest
   * excursion along the axis.
   */
  range: range.default('auto').describe('Half-width of the slices (auto: random 1, hessian from λ₁ and L₀, pca 1.25 × the trajectory extent)'),
  /**
   * Rescaling of random directions: `filter`, each output unit's block (the slice along the last
   * axis of a weight tensor; each element of a vector) to the norm of the same block of the
   * weights (Li et al.); `layer`, each parameter tensor to the tensor's norm; `none`, raw N(0, 1).
   */
  normalization: z.enum(['filter', 'layer', 'none']).default('filter').describe('Random directions rescaled per output unit (filter, Li et al.), per tensor (layer), or not (none)'),
  /** Zero the random directions of biases (vectors named `bias`, `b`, `b1`, …), as Li et al. do. */
  zeroBiases: z.boolean().default(true).describe('Zero the random directions of biases (Li et al.)'),
  /** Zero the random directions of other vector parameters (normalisation gains and offsets, learnable slopes). */
  zeroNorms: z.boolean().default(true).describe('Zero the random directions of other vector parameters (norm gains/offsets)'),
  /**
   * Where the trajectory for `pca` (and the init for `interpolate: [init]`) comes from: `record`,
   * the parameters every `every` steps during training (train hooks); `checkpoints`, the run's
   * checkpoints in training order; `auto`, the recording when there is one, else the checkpoints.
   */
  trajectory: z.enum(['auto', 'record', 'checkpoints']).default('auto').describe('Trajectory source for pca: record (train hooks), checkpoints (the run directory), auto'),
  /** Record all parameters every this many training steps (trajectory: record or auto). */
  every: z.number().int().positive().default(10).describe('Record the parameters every this many steps'),
  /**
   * Linear interpolations θ(α) = (1 − α)·θ_A + α·θ_B, one per entry: `init`, from the initial to
   * the trained parameters; any other string, from the trained parameters to another run's (a run
   * directory, whose last checkpoint is used, or a checkpoint directory): mode connectivity.
   */
  interpolate: z.array(z.string().min(1)).default(['init']).describe('Interpolations: init (init → trained) or a path to another run or checkpoint (trained → that)'),
  /** Points of each interpolation. */
  interpolationPoints: z.number().int().min(2).default(21).describe('Points of each interpolation'),
  /** α range of the interpolations (0: the first parameter set, 1: the second). */
  interpolationRange: z.tuple([z.number(), z.number()]).default([0, 1]).describe('α range of the interpolations (0: first set, 1: second)'),
  /** The split the slices are evaluated on (interpolations always use train and test). */
  split: z.string().default('train').describe('The split the slices are evaluated on (interpolations: train and test)'),
  /** Examples per split the losses are averaged over (a seeded random subset when the split is larger). */
  maxExamples: z.number().int().positive().default(512).describe('Examples per split (a seeded random subset when larger)'),
  /**
   * Parameter points per forward call (models with `applyReplicas`): 1, one `apply` per point; n,
   * n points stacked along a replica axis; 0 (auto), stacked (up to 64, within a 16 M-value input
   * budget) when examples × parameters ≤ 2¹⁸, where dispatch dominates, else one per point (the
   * stacked products of tfjs are slower for larger models).
   */
  replicas: z.number().int().min(0).default(0).describe('Parameter points per forward call (0: auto, stacked for small models; 1: one per point)'),
  /** Maximum Krylov dimension of the Lanczos run for the Hessian directions. */
  lanczosSteps: z.number().int().min(4).default(60).describe('Maximum Krylov dimension of the Lanczos run (hessian directions)'),
  /** Lanczos stops when the top two Ritz residuals are below tol · |λ_max|. */
  tol: z.number().positive().default(1e-4).describe('Lanczos tolerance (hessian directions)'),
  /** Report wall-clock seconds of the grid evaluation in the result (false: null, for byte-identical reruns). */
  timing: z.boolean().default(true).describe('Report seconds of the grid evaluation in the result (false: null)'),
  /** Offset added to the run's seed for this analysis's random draws. */
  seed: z.number().int().min(0).default(0).describe("Offset added to the run's seed for this analysis's random draws"),
  /** Figures (contours, heat maps, curves, interpolations). */
  figures: z.boolean().default(true).describe('Whether to draw figures'),
});

export type LandscapeOptions = z.output<typeof landscapeOptions>;

/** Snapshots a recorded trajectory may hold, at most (the PCA's Gram matrix is snapshots²). */
export const MAX_SNAPSHOTS = 2000;

/**
 * The `check` hook: the split exists, the recorded trajectory fits in memory and has at least two
 * snapshots, and interpolation targets exist.
 */
export function landscapeIssues(o: LandscapeOptions, ctx: Pick<AnalysisCheckContext, 'task' | 'model' | 'train' | 'memoryLimit'>, exists: (path: string) => boolean): OptionIssue[] {
  const issues = [...checkSplit(ctx.task, 'split', o.split)];
  if (o.directions.length === 0 && o.interpolate.length === 0) issues.push({ field: 'directions', message: 'no directions and no interpolations: nothing to draw' });
  if (o.dims.length === 0 && o.directions.length > 0) issues.push({ field: 'dims', message: 'expected 1, 2 or both, found an empty list' });
  const [a, b] = o.interpolationRange;
  if (!(a < b)) issues.push({ field: 'interpolationRange', message: `expected [from, to] with from < to, found [${a}, ${b}]` });
  const recording = o.trajectory !== 'checkpoints' && (o.directions.includes('pca') || o.interpolate.includes('init'));
  if (recording && o.directions.includes('pca') && ctx.train.epochs > 0) {
    const steps = ctx.train.epochs * Math.ceil(ctx.task.splits.train.n / Math.max(1, ctx.train.batchSize));
    const snapshots = Math.floor(steps / o.every);
    const bytes = snapshots * ctx.model.paramCount * 4;
    if (o.trajectory === 'record' && snapshots < 2) {
      issues.push({ field: 'every', message: `expected at least 2 snapshots for the PCA, found ${snapshots} (${steps} steps, every ${o.every}); lower every` });
    } else if (snapshots > MAX_SNAPSHOTS) {
      issues.push({ field: 'every', message: `${snapshots} snapshots (${steps} steps, every ${o.every}) exceed ${MAX_SNAPSHOTS}; raise every to at least ${Math.ceil(steps / MAX_SNAPSHOTS)}` });
    } else if (bytes > ctx.memoryLimit / 4) {
      issues.push({ field: 'every', message: `the trajectory would hold ${snapshots} × ${ctx.model.paramCount} parameters (~${formatBytes(bytes)}), more than a quarter of the memory limit of ${formatBytes(ctx.memoryLimit)}; raise every` });
    }
  }
  o.interpolate.forEach((target, i) => {
    if (target !== 'init' && !exists(target)) issues.push({ field: `interpolate[${i}]`, message: `expected init or an existing run or checkpoint directory, found "${target}" (no such directory)` });
  });
  return issues;
}
