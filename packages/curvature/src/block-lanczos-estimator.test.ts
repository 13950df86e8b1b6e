import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { blockLanczosEstimator } from './block-lanczos-estimator';
import { estimator } from './estimators';
import { denseOperator } from './linear-operator';
import { eigenResidual, knownSpectrum } from './test-support';

describe('block-lanczos estimator', () => {
  it('gives the top-5 and bottom-2 eigenpairs to 1e-6 in blocks of the operator’s block size', async () => {
    const { matrix, lambdas } = knownSpectrum();
    const n = lambdas.length;
    const op = denseOperator(matrix, n, { blockSize: 4 });
    const settings = { eigenpairs: { topK: 5, bottomK: 2, vectors: 2, maxSteps: 40, tol: 1e-5 } };
    const out = await blockLanczosEstimator.run(op, settings, new Rng(3));
    const eig = out.eigenpairs!;
    expect(eig.converged).toBe(true);
    eig.top.forEach((p, i) => expect(Math.abs(p.value - lambdas[i]) / lambdas[0]).toBeLessThan(1e-6));
    eig.bottom.forEach((p, i) => expect(Math.abs(p.value - lambdas[n - 1 - i]) / lambdas[0]).toBeLessThan(1e-6));
    for (const p of eig.top.slice(0, 2)) expect(eigenResidual(op, p.value, p.vector!)).toBeLessThan(1e-6 * lambdas[0]);
    expect(out.provenance).toMatchObject({
      estimator: 'block-lanczos',
      settings: { ...settings.eigenpairs, bottomSteps: 40, blockSize: 4 },
      blockSize: 4,
      converged: true,
      steps: out.provenance.hvps,
    });
    expect(out.provenance.blocks).toBe((out.provenance.hvps as number) / 4);
    expect(out.provenance.hvps).toBeLessThanOrEqual(blockLanczosEstimator.products!(n, settings));
    expect(estimator('eigenpairs', 'block-lanczos')).toBe(blockLanczosEstimator);
  });

  it('records the defaults it used, the block size given or the operator’s capped at 8', async () => {
    const { matrix, lambdas } = knownSpectrum();
    const n = lambdas.length;
    const big = await blockLanczosEstimator.run(denseOperator(matrix, n, { blockSize: 16 }), { eigenpairs: { topK: 1, bottomK: 0 } }, new Rng(3));
    expect(big.provenance.settings).toEqual({ topK: 1, bottomK: 0, vectors: 0, maxSteps: 8 * 50, bottomSteps: 8 * 50, tol: 1e-6, blockSize: 8 });
    const given = await blockLanczosEstimator.run(denseOperator(matrix, n), { eigenpairs: { topK: 1, bottomK: 0, blockSize: 3 } }, new Rng(3));
    expect(given.provenance.settings).toMatchObject({ maxSteps: 3 * 50, blockSize: 3 });
    expect(blockLanczosEstimator.products!(1000, { eigenpairs: { topK: 1, bottomK: 0 } })).toBe(400);
    expect(blockLanczosEstimator.products!(1000, { eigenpairs: { topK: 1, bottomK: 0, blockSize: 2, maxSteps: 30 } })).toBe(30);
  });
});
