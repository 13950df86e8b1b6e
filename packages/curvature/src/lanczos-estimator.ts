import { defineEstimator, settingsOf } from './estimator';
import { lanczos } from './lanczos';

/**
 * `lanczos`: extreme eigenpairs by Lanczos with full reorthogonalisation (`lanczos()`), stopping
 * when every wanted Ritz residual |β_m s_m,i| is below tol·|λ_max| (default tol 1e-6, at most
 * `maxSteps` products, default min(n, max(4·(topK + bottomK), 30) + 20)). Each pair carries its
 * Ritz residual; `converged` says whether the stopping test was met.
 */
export const lanczosEstimator = defineEstimator({
  name: 'lanczos',
  kinds: ['eigenpairs'],
  description: 'Lanczos with full reorthogonalisation: top-k and bottom-k eigenpairs with Ritz residuals, one product per step',
  products: (dim, settings) => Math.min(dim, maxSteps(settingsOf('lanczos', settings, 'eigenpairs'))),
  async run(op, settings, rng) {
    const s = settingsOf('lanczos', settings, 'eigenpairs');
    const vectors = s.vectors ?? 0;
    const tol = s.tol ?? 1e-6;
    const steps = maxSteps(s);
    const lz = await lanczos(op, { topK: s.topK, bottomK: s.bottomK, maxSteps: steps, tol, vectors: vectors > 0, rng });
    return {
      eigenpairs: { top: lz.top, bottom: lz.bottom, converged: lz.converged },
      provenance: {
        estimator: 'lanczos',
        settings: { topK: s.topK, bottomK: s.bottomK, vectors, maxSteps: steps, tol },
        hvps: lz.products,
        seed: rng.seed,
        converged: lz.converged,
        steps: lz.steps,
        tol,
        reorthogonalization: 'full',
        stopping: 'Ritz residual |β_m s_m,i| ≤ tol·|λ_max|',
      },
    };
  },
});

/** The Krylov dimension cap `lanczos()` uses for these settings. */
function maxSteps(s: { topK: number; bottomK: number; maxSteps?: number }): number {
  return s.maxSteps ?? Math.max(4 * (s.topK + s.bottomK), 30) + 20;
}
