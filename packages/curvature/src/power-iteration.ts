import { axpy, dot, norm, scale, type LinearOperator } from './linear-operator';
import type { EigenPair } from './lanczos';
import { yieldToEventLoop } from '@goldstone/core';
import type { Rng } from '@goldstone/plugin-api';

export interface PowerIterationOptions {
  /** Number of eigenpairs (largest in magnitude, found one after another). */
  k: number;
  /** Stop an eigenpair when its residual ‖Av − λv‖ ≤ tol·|λ| (default 1e-6). */
  tol?: number;
  /** Products allowed per eigenpair (default 1000). */
  maxIterations?: number;
  rng: Rng;
  /** Called after each product with the current estimates (for convergence traces). */
  onIteration?: (info: { pair: number; iteration: number; value: number; residual: number; products: number }) => void;
}

export interface PowerIterationResult {
  /** Eigenpairs in the order found (descending |λ| when the iteration converged). */
  pairs: (EigenPair & { vector: Float64Array; iterations: number; converged: boolean })[];
  products: number;
  converged: boolean;
}

/**
 * Deflated power iteration, the baseline Lanczos is measured against: the i-th eigenpair is the
 * dominant one of A − Σ_{j<i} λ_j u_j u_jᵀ (Hotelling deflation; the iterate is also kept
 * orthogonal to the found u_j). Converges at rate |λ_{i+1}/λ_i| per product, so it is slow
 * where eigenvalues cluster; it finds eigenvalues largest in *magnitude*. The event loop turns
 * between products.
 */
export async function powerIteration(op: LinearOperator, opts: PowerIterationOptions): Promise<PowerIterationResult> {
  const n = op.dim;
  const tol = opts.tol ?? 1e-6;
  const maxIt = opts.maxIterations ?? 1000;
  const before = op.products;
  const pairs: PowerIterationResult['pairs'] = [];
  for (let p = 0; p < Math.min(opts.k, n); p++) {
    let v: Float64Array = Float64Array.from(opts.rng.normalArray(n));
    const deflate = (x: Float64Array) => {
      for (const u of pairs) axpy(x, -dot(u.vector, x), u.vector);
    };
    deflate(v);
    scale(v, 1 / norm(v));
    let value = 0;
    let residual = Infinity;
    let it = 0;
    let converged = false;
    while (it < maxIt) {
      const av = op.apply(v);
      it++;
      await yieldToEventLoop();
      // (A − Σ λ_j u_j u_jᵀ) v; v ⟂ u_j, so the deflation only removes rounding drift
      deflate(av);
      value = dot(v, av);
      const r = Float64Array.from(av);
      axpy(r, -value, v);
      residual = norm(r);
      opts.onIteration?.({ pair: p, iteration: it, value, residual, products: op.products - before });
      if (residual <= tol * Math.abs(value)) {
        converged = true;
        break;
      }
      const na = norm(av);
      if (!(na > 0)) break;
      scale(av, 1 / na);
      v = av;
    }
    pairs.push({ value, vector: v, residual, iterations: it, converged });
  }
  return { pairs, products: op.products - before, converged: pairs.every((q) => q.converged) };
}
