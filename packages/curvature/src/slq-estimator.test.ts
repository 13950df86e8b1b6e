import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { slqEstimator } from './slq-estimator';
import { spectralSum } from './spectral-density';
import { denseOperator } from './linear-operator';
import { knownSpectrum } from './test-support';

describe('slq estimator', () => {
  it('gives unit-mass quadratures whose spectral sums cover the exact ones, over seeds', async () => {
    const { op, lambdas, trace } = knownSpectrum();
    const n = lambdas.length;
    const lo = Math.min(...lambdas);
    const hi = Math.max(...lambdas);
    let within = 0;
    const seeds = 20;
    for (let seed = 0; seed < seeds; seed++) {
      const out = await slqEstimator.run(op, { density: { probes: 6, steps: 20 } }, new Rng(100 + seed));
      expect(out.provenance.hvps).toBe(6 * 20);
      const qs = out.density!.quadratures;
      expect(qs).toHaveLength(6);
      for (const q of qs) {
        expect(q.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 10);
        for (const t of q.nodes) expect(t > lo - 1e-9 && t < hi + 1e-9).toBe(true);
      }
      const tr = spectralSum(qs, n, (t) => t);
      // a Gauss rule of m ≥ 2 nodes integrates t and t² exactly: per probe, zᵀAz and zᵀA²z
      const sq = spectralSum(qs, n, (t) => t * t);
      const trSq = lambdas.reduce((s, v) => s + v * v, 0);
      if (Math.abs(tr.value - trace) < 3 * tr.stderr && Math.abs(sq.value - trSq) < 3 * sq.stderr) within++;
    }
    expect(within).toBeGreaterThanOrEqual(seeds - 1);
  });

  it('takes the eigenvalues as nodes when the steps reach n', async () => {
    const { op, lambdas } = knownSpectrum();
    const out = await slqEstimator.run(op, { density: { probes: 1, steps: lambdas.length } }, new Rng(5));
    const nodes = out.density!.quadratures[0].nodes;
    const distinct = [...new Set(lambdas)].sort((a, b) => a - b);
    // one Krylov space holds one copy of each distinct eigenvalue (the zeros are a double one)
    for (const l of distinct) expect(Math.min(...nodes.map((t) => Math.abs(t - l)))).toBeLessThan(1e-8);
    expect(out.provenance).toMatchObject({ estimator: 'slq', seed: 5, settings: { probes: 1, steps: lambdas.length } });
  });

  it('runs the probes in lockstep on a block operator: the same rules in fewer block products', async () => {
    const { matrix, lambdas } = knownSpectrum();
    const settings = { density: { probes: 6, steps: 20 } };
    const one = await slqEstimator.run(denseOperator(matrix, lambdas.length), settings, new Rng(8));
    const block = await slqEstimator.run(denseOperator(matrix, lambdas.length, { blockSize: 8 }), settings, new Rng(8));
    expect(block.density).toEqual(one.density);
    expect([one.provenance.hvps, one.provenance.blocks, block.provenance.hvps, block.provenance.blocks]).toEqual([120, 120, 120, 20]);
  });

  it('records the defaults it used', async () => {
    const { op } = knownSpectrum();
    const out = await slqEstimator.run(op, { density: {} }, new Rng(5));
    expect(out.provenance).toMatchObject({ settings: { probes: 5, steps: 40 }, hvps: 5 * 40, blocks: 5 * 40 });
    expect(slqEstimator.products!(op.dim, { density: {} })).toBe(5 * 40);
  });
});
