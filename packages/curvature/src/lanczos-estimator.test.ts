import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { lanczosEstimator } from './lanczos-estimator';
import { eigenResidual, knownSpectrum } from './test-support';

describe('lanczos estimator', () => {
  it('gives the top-5 and bottom-2 eigenpairs to 1e-6 with Ritz residuals, in fewer products than n', async () => {
    const { op, lambdas } = knownSpectrum();
    const n = lambdas.length;
    const settings = { eigenpairs: { topK: 5, bottomK: 2, vectors: 2, maxSteps: 40, tol: 1e-8 } };
    const out = await lanczosEstimator.run(op, settings, new Rng(3));
    const eig = out.eigenpairs!;
    expect([eig.top.length, eig.bottom.length]).toEqual([5, 2]);
    expect(eig.converged).toBe(true);
    eig.top.forEach((p, i) => expect(Math.abs(p.value - lambdas[i]) / lambdas[0]).toBeLessThan(1e-6));
    eig.bottom.forEach((p, i) => expect(Math.abs(p.value - lambdas[n - 1 - i]) / lambdas[0]).toBeLessThan(1e-6));
    for (const p of [...eig.top, ...eig.bottom]) expect(p.residual).toBeLessThanOrEqual(1e-8 * lambdas[0]);
    for (const p of eig.top.slice(0, 2)) expect(eigenResidual(op, p.value, p.vector!)).toBeLessThan(1e-6 * lambdas[0]);
    expect(eig.spectrum).toBeUndefined();
    expect(out.provenance.hvps).toBeLessThanOrEqual(lanczosEstimator.products!(n, settings));
    expect(out.provenance.hvps).toBeLessThan(n);
    expect(out.provenance).toMatchObject({ estimator: 'lanczos', converged: true, steps: out.provenance.hvps, settings: settings.eigenpairs });
  });

  it('records the defaults it used', async () => {
    const { op } = knownSpectrum();
    const out = await lanczosEstimator.run(op, { eigenpairs: { topK: 1, bottomK: 0 } }, new Rng(3));
    expect(out.provenance.settings).toEqual({ topK: 1, bottomK: 0, vectors: 0, maxSteps: 50, bottomSteps: 50, tol: 1e-6 });
  });
});
