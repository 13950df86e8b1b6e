import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { denseEstimator } from './dense-estimator';
import { eigenResidual, knownSpectrum } from './test-support';

describe('dense estimator', () => {
  it('gives the exact eigenpairs, trace and spectrum (1e-10) from n products', async () => {
    const { op, lambdas, trace } = knownSpectrum();
    const n = lambdas.length;
    const out = await denseEstimator.run(op, { eigenpairs: { topK: 5, bottomK: 2, vectors: 3 }, trace: {}, density: {} }, new Rng(1));
    const eig = out.eigenpairs!;
    eig.top.forEach((p, i) => expect(Math.abs(p.value - lambdas[i])).toBeLessThan(1e-10 * lambdas[0]));
    expect(eig.bottom.map((p) => p.value)).toHaveLength(2);
    eig.bottom.forEach((p, i) => expect(Math.abs(p.value - lambdas[n - 1 - i])).toBeLessThan(1e-10 * lambdas[0]));
    expect(eig.converged).toBe(true);
    expect(eig.spectrum).toHaveLength(n);
    eig.spectrum!.forEach((v, i) => expect(Math.abs(v - lambdas[i])).toBeLessThan(1e-10 * lambdas[0]));
    // vectors on the first three top pairs only, each an eigenvector
    expect(eig.top.map((p) => p.vector !== undefined)).toEqual([true, true, true, false, false]);
    for (const p of eig.top.slice(0, 3)) expect(eigenResidual(op, p.value, p.vector!)).toBeLessThan(1e-10 * lambdas[0]);
    // every eigenvector on request, in the spectrum's (descending) order
    for (const i of [0, n - 1]) expect(eigenResidual(op, eig.spectrum![i], eig.eigenvector!(i))).toBeLessThan(1e-10 * lambdas[0]);
    expect(out.trace!.stderr).toBe(0);
    expect(Math.abs(out.trace!.value - trace)).toBeLessThan(1e-10 * lambdas[0]);
    const [q] = out.density!.quadratures;
    expect(q.nodes).toHaveLength(n);
    expect(q.weights).toHaveLength(n);
    expect(q.weights.every((w) => w === 1 / n)).toBe(true);
    expect(out.provenance).toMatchObject({ estimator: 'dense', hvps: n, settings: { topK: 5, bottomK: 2, vectors: 3 } });
    expect(out.provenance.asymmetry).toBeLessThan(1e-14);
  });

  it('answers only the kinds asked for', async () => {
    const { op } = knownSpectrum();
    const out = await denseEstimator.run(op, { trace: {} }, new Rng(1));
    expect(out.trace).toBeDefined();
    expect(out.eigenpairs).toBeUndefined();
    expect(out.density).toBeUndefined();
  });
});
