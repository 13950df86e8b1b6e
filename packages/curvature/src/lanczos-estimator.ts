import type { Json } from '@goldstone/plugin-api';
import { defineEstimator, settingsOf, type EstimatorResult } from './estimator';
import { defaultLanczosSteps, lanczos, type LanczosResult } from './lanczos';

/**
 * `lanczos`: extreme eigenpairs by Lanczos with full reorthogonalisation (`lanczos()`), the top
 * and the bottom converging separately: the run stops once every wanted top Ritz residual
 * |β_m s_m,i| is below tol·|λ_max| (default tol 1e-6) and the bottom has converged too or spent
 * its budget `bottomSteps` (default: `maxSteps`), at most `maxSteps` products (default min(n,
 * max(4·(topK + bottomK), 30) + 20)). Each pair carries its Ritz residual and `converged`; the
 * result and provenance say which end converged and at which step.
 */
export const lanczosEstimator = defineEstimator({
  name: 'lanczos',
  kinds: ['eigenpairs'],
  description: 'Lanczos with full reorthogonalisation: top-k and bottom-k eigenpairs with Ritz residuals, top and bottom converged separately (bottomSteps budget), one product per step',
  products: (dim, settings) => Math.min(dim, maxSteps(settingsOf('lanczos', settings, 'eigenpairs'))),
  async run(op, settings, rng) {
    const s = settingsOf('lanczos', settings, 'eigenpairs');
    const vectors = s.vectors ?? 0;
    const tol = s.tol ?? 1e-6;
    const steps = maxSteps(s);
    const bottomSteps = Math.min(steps, s.bottomSteps ?? steps);
    const lz = await lanczos(op, { topK: s.topK, bottomK: s.bottomK, maxSteps: steps, bottomSteps, tol, vectors: vectors > 0, rng });
    return lanczosEstimatorResult('lanczos', lz, { topK: s.topK, bottomK: s.bottomK, vectors, maxSteps: steps, bottomSteps, tol }, rng.seed, '|β_m s_m,i|');
  },
});

/**
 * The estimator result of a Lanczos eigensolver's run: the pairs with their flags, and the
 * provenance (`settings` as used, products, block products, stopping) shared by `lanczos` and
 * `block-lanczos`. `residual` names the Ritz residual of the stopping test.
 */
export function lanczosEstimatorResult(
  name: string,
  lz: LanczosResult,
  settings: { [key: string]: Json },
  seed: number,
  residual: string,
  details: { [key: string]: Json } = {},
): EstimatorResult {
  const ends = { topConverged: lz.topConverged, bottomConverged: lz.bottomConverged, topConvergedAt: lz.topConvergedAt, bottomConvergedAt: lz.bottomConvergedAt };
  return {
    eigenpairs: { top: lz.top, bottom: lz.bottom, converged: lz.converged, ...ends },
    provenance: {
      estimator: name,
      settings,
      hvps: lz.products,
      blocks: lz.blocks,
      seed,
      converged: lz.converged,
      ...ends,
      stopped: lz.stopped,
      steps: lz.steps,
      ...details,
      tol: settings.tol,
      reorthogonalization: 'full',
      stopping: `top and bottom separately: Ritz residual ${residual} ≤ tol·|λ_max|; the bottom may extend the run to bottomSteps`,
      bottomBounds: lz.bottomConverged ? null : 'unconverged bottom Ritz values are upper bounds θ_j ≥ λ_j',
    },
  };
}

/** The Krylov dimension cap `lanczos()` uses for these settings. */
function maxSteps(s: { topK: number; bottomK: number; maxSteps?: number }): number {
  return s.maxSteps ?? defaultLanczosSteps(s.topK, s.bottomK);
}
