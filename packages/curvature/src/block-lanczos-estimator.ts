import { BLOCK_LANCZOS_MAX_DEFAULT, blockLanczos } from './block-lanczos';
import { defineEstimator, settingsOf, type EigenpairSettings } from './estimator';
import { defaultLanczosSteps } from './lanczos';
import { lanczosEstimatorResult } from './lanczos-estimator';
import { blockSizeOf } from './linear-operator';

/**
 * `block-lanczos`: extreme eigenpairs by block Lanczos with full reorthogonalisation
 * (`blockLanczos()`): blocks of `blockSize` vectors (default the operator's `blockSize`, capped at
 * 8), one block product per step, Ritz pairs from the block tridiagonal matrix. Finds up to
 * `blockSize` copies of a repeated or clustered extreme eigenvalue, where `lanczos` finds one.
 * Stopping, flags and provenance as `lanczos`; `maxSteps` and `bottomSteps` are Krylov dimensions
 * in vectors (products; default maxSteps min(n, blockSize·(max(4·(topK + bottomK), 30) + 20))),
 * `blocks` the block products made.
 */
export const blockLanczosEstimator = defineEstimator({
  name: 'block-lanczos',
  kinds: ['eigenpairs'],
  description: 'Block Lanczos with full reorthogonalisation: top-k and bottom-k eigenpairs with Ritz residuals, repeated eigenvalues up to the block size, one block product per step',
  products: (dim, settings) => {
    const s = settingsOf('block-lanczos', settings, 'eigenpairs');
    return Math.min(dim, maxSteps(s, s.blockSize ?? BLOCK_LANCZOS_MAX_DEFAULT));
  },
  async run(op, settings, rng) {
    const s = settingsOf('block-lanczos', settings, 'eigenpairs');
    const blockSize = s.blockSize ?? blockSizeOf(op, BLOCK_LANCZOS_MAX_DEFAULT);
    const vectors = s.vectors ?? 0;
    const tol = s.tol ?? 1e-6;
    const steps = maxSteps(s, blockSize);
    const bottomSteps = Math.min(steps, s.bottomSteps ?? steps);
    const lz = await blockLanczos(op, { topK: s.topK, bottomK: s.bottomK, maxSteps: steps, bottomSteps, tol, vectors: vectors > 0, blockSize, rng });
    const settingsUsed = { topK: s.topK, bottomK: s.bottomK, vectors, maxSteps: steps, bottomSteps, tol, blockSize };
    return lanczosEstimatorResult('block-lanczos', lz, settingsUsed, rng.seed, '‖B_j s_last,i‖', { blockSize: lz.blockSize });
  },
});

/** The Krylov dimension cap (vectors) `blockLanczos()` gets for these settings and block size. */
function maxSteps(s: EigenpairSettings, blockSize: number): number {
  return s.maxSteps ?? blockSize * defaultLanczosSteps(s.topK, s.bottomK);
}
