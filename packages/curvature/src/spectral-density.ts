import { lockstepLanczos, tridiagonalEigen, type LanczosDecomposition } from './lanczos';
import type { LinearOperator } from './linear-operator';
import type { Rng } from '@goldstone/plugin-api';

/**
 * A discrete spectral measure Σ wᵢ δ(λ − θᵢ) with Σ wᵢ = 1: the exact spectrum (weights 1/n) or
 * one probe's Gauss quadrature from Lanczos (Ritz values θᵢ, weights τᵢ = (e₁ᵀsᵢ)²).
 */
export interface Quadrature {
  nodes: number[];
  weights: number[];
  /**
   * The rule is the measure itself, not an approximation: the exact spectrum, or a probe whose
   * Krylov space became invariant (a β = 0 restart, or m = n steps). Its spectral sums have no
   * quadrature error (their bracket has width 0).
   */
  exact?: boolean;
}

export interface SlqResult {
  /** One Gauss quadrature rule per probe. */
  quadratures: Quadrature[];
  /** Dimension n of the operator (spectral sums are n × the density's integrals). */
  dim: number;
  /** Lanczos steps per probe (≤ n). */
  steps: number;
  products: number;
  /** Block products made (the probes run in lockstep, one block product per step over those still running). */
  blocks: number;
}

export interface SlqOptions {
  probes: number;
  /** Lanczos steps (quadrature nodes) per probe. */
  steps: number;
  rng: Rng;
  /** Most probes in one block product (default `blockSizeOf(op)`; 1: probe after probe). */
  blockSize?: number;
}

/** A probe's Gauss rule from its Lanczos decomposition, exact when its Krylov space became invariant. */
function gaussRule(d: LanczosDecomposition, dim: number): Quadrature {
  const { values, vectors } = tridiagonalEigen(d.alpha, d.beta);
  // once the Krylov space is invariant (all n steps, or a vanishing last residual: the run stops
  // there) the rule is the probe's measure itself
  const m = d.alpha.length;
  const scaleT = Math.max(...d.alpha.map(Math.abs), ...d.beta, 1e-300);
  const exact = m === dim || d.betaLast <= 1e-10 * scaleT;
  return { nodes: values, weights: vectors.map((s) => s[0] * s[0]), exact };
}

/**
 * Stochastic Lanczos quadrature (Ubaru, Chen, Saad 2017; Ghorbani, Krishnan, Xiao 2019): for each
 * Rademacher probe z, m Lanczos steps (full reorthogonalisation) from z/‖z‖ give a quadrature
 * rule whose moments match zᵀAʲz/n for j < 2m. Averaged over probes, Σ τᵢ f(θᵢ) estimates
 * tr f(A)/n: the spectral density, and any spectral sum with its standard error. A probe whose
 * Krylov space becomes invariant stops there, its rule exact. The probes run in lockstep
 * (`lockstepLanczos`): one block product per step over every probe still running, at most
 * `blockSize` (default `blockSizeOf(op)`) at once; the probes are drawn in order, so the rules are
 * those of running the probes one after another. The event loop turns between block products.
 */
export async function stochasticLanczosQuadrature(op: LinearOperator, opts: SlqOptions): Promise<SlqResult> {
  if (!(opts.probes >= 1)) throw new RangeError(`stochasticLanczosQuadrature: probes must be ≥ 1, got ${opts.probes}`);
  const before = op.products;
  const quadratures: Quadrature[] = new Array<Quadrature>(opts.probes);
  let steps = 0;
  const { blocks } = await lockstepLanczos(op, {
    count: opts.probes,
    start: () => Float64Array.from(opts.rng.rademacher(op.dim)),
    steps: opts.steps,
    blockSize: opts.blockSize,
    done: (p, d) => {
      quadratures[p] = gaussRule(d, op.dim);
      steps = Math.max(steps, d.alpha.length);
    },
  });
  return { quadratures, dim: op.dim, steps, products: op.products - before, blocks };
}

/** The exact spectrum as a quadrature (weights 1/n). */
export function exactQuadrature(eigenvalues: readonly number[]): Quadrature {
  return { nodes: [...eigenvalues], weights: eigenvalues.map(() => 1 / eigenvalues.length), exact: true };
}

/**
 * The spectral sum tr f(A) = Σ f(λᵢ) estimated from quadratures: n · mean over probes of
 * Σ τᵢ f(θᵢ), with the standard error across probes (0 for a single exact quadrature).
 */
export function spectralSum(quadratures: readonly Quadrature[], dim: number, f: (lambda: number) => number): { value: number; stderr: number } {
  const per = quadratures.map((q) => dim * q.nodes.reduce((s, t, i) => s + q.weights[i] * f(t), 0));
  const k = per.length;
  const mean = per.reduce((s, x) => s + x, 0) / k;
  if (k < 2) return { value: mean, stderr: 0 };
  const variance = per.reduce((s, x) => s + (x - mean) ** 2, 0) / (k - 1);
  return { value: mean, stderr: Math.sqrt(variance / k) };
}

export interface DensityOptions {
  /**
   * Gaussian kernel width as a fraction of the spectral range (max node − min node) (default 0.01).
   * The smoothed density is φ(t) = mean_probes Σ τᵢ N(t; θᵢ, σ²) with σ = sigma · range.
   */
  sigma?: number;
  /** Grid points (default 256), evenly spaced over [min − 5σ, max + 5σ]. */
  points?: number;
}

export interface Density {
  grid: number[];
  values: number[];
  /** The absolute kernel width used. */
  sigma: number;
}

function gaussianMixture(quadratures: readonly Quadrature[], map: (t: number) => number, grid: number[], sigma: number): number[] {
  const values = new Array<number>(grid.length).fill(0);
  const c = 1 / (quadratures.length * sigma * Math.sqrt(2 * Math.PI));
  for (const q of quadratures) {
    for (let i = 0; i < q.nodes.length; i++) {
      const mu = map(q.nodes[i]);
      const w = q.weights[i] * c;
      if (w === 0) continue;
      for (let g = 0; g < grid.length; g++) {
        const u = (grid[g] - mu) / sigma;
        if (u > -9 && u < 9) values[g] += w * Math.exp(-0.5 * u * u);
      }
    }
  }
  return values;
}

function linspace(lo: number, hi: number, points: number): number[] {
  if (points < 2) return [lo];
  return Array.from({ length: points }, (_, i) => lo + ((hi - lo) * i) / (points - 1));
}

/** The Gaussian-smoothed spectral density of quadratures (integrates to 1 over the grid). */
export function smoothedDensity(quadratures: readonly Quadrature[], opts: DensityOptions = {}): Density {
  const all = quadratures.flatMap((q) => q.nodes);
  if (all.length === 0) throw new Error('smoothedDensity: no nodes');
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const range = hi - lo > 0 ? hi - lo : Math.max(Math.abs(hi), 1);
  const sigma = (opts.sigma ?? 0.01) * range;
  const grid = linspace(lo - 5 * sigma, hi + 5 * sigma, opts.points ?? 256);
  return { grid, values: gaussianMixture(quadratures, (t) => t, grid, sigma), sigma };
}

export interface LogDensityOptions {
  /** Kernel width in decades of |λ| (default 0.1). */
  sigma?: number;
  /** Grid points (default 256). */
  points?: number;
  /**
   * |λ| below floor · max|θ| is clipped to it (default 1e-10): float32 Hessians have a rounding
   * floor near 1e-7 · λ_max, so what lies below is noise, shown as one peak at the floor.
   */
  floor?: number;
}

export interface LogDensity extends Density {
  /** Grid of log10|λ|. */
  grid: number[];
  /** Estimated fraction of the spectrum with λ < 0 (folded into the |λ| density). */
  negativeFraction: number;
  /** The absolute floor |λ| was clipped to. */
  floor: number;
}

/**
 * Density of log10|λ|: resolves the near-zero bulk that a linear density squeezes into one
 * spike. Each node θᵢ carries its weight to log10(max(|θᵢ|, floor)) with a Gaussian kernel of
 * `sigma` decades; the result integrates to 1 over the grid (in log10 units).
 */
export function logAbsDensity(quadratures: readonly Quadrature[], opts: LogDensityOptions = {}): LogDensity {
  const all = quadratures.flatMap((q) => q.nodes);
  if (all.length === 0) throw new Error('logAbsDensity: no nodes');
  const maxAbs = Math.max(...all.map(Math.abs), 1e-300);
  const floor = (opts.floor ?? 1e-10) * maxAbs;
  const map = (t: number) => Math.log10(Math.max(Math.abs(t), floor));
  const sigma = opts.sigma ?? 0.1;
  const us = all.map(map);
  const grid = linspace(Math.min(...us) - 5 * sigma, Math.max(...us) + 5 * sigma, opts.points ?? 256);
  // the Gauss estimate; `negativeFraction()` in spectrum-metrics gives it with its interval
  const negativeFraction = spectralSum(quadratures, 1, (t) => (t < 0 ? 1 : 0)).value;
  return { grid, values: gaussianMixture(quadratures, map, grid, sigma), sigma, negativeFraction, floor };
}

/** ∫ f(t) φ(t) dt over a density's grid (trapezoid rule). */
export function integrate(d: { grid: number[]; values: number[] }, f: (t: number) => number = () => 1): number {
  let s = 0;
  for (let i = 1; i < d.grid.length; i++) {
    const h = d.grid[i] - d.grid[i - 1];
    s += 0.5 * h * (f(d.grid[i]) * d.values[i] + f(d.grid[i - 1]) * d.values[i - 1]);
  }
  return s;
}
