import { beforeAll, describe, expect, it } from 'vitest';
import { denseOperator } from './linear-operator';
import { Rng } from '@goldstone/core';
import {
  type SlqResult,
  exactQuadrature,
  integrate,
  logAbsDensity,
  smoothedDensity,
  spectralSum,
  stochasticLanczosQuadrature,
} from './spectral-density';
import { matrixWithSpectrum } from './test-support';
import { boundedSpectralSum, windowBracket } from './quadrature-bounds';
import { nearZeroModes } from './spectrum-metrics';


// A Hessian-like spectrum: a few outliers, a bulk near zero over many decades, some negatives.
function hessianLike(n: number, rng: Rng): number[] {
  return Array.from({ length: n }, (_, i) => (i < 3 ? 20 - 5 * i : i < 10 ? -0.05 * rng.uniform() : 10 ** (-6 * rng.uniform())));
}

describe('stochasticLanczosQuadrature', () => {
  const rng = new Rng(41);
  const n = 100;
  const lambdas = hessianLike(n, rng);
  const trace = lambdas.reduce((s, v) => s + v, 0);
  const op = denseOperator(matrixWithSpectrum(lambdas, rng), n);
  let slq: SlqResult;
  beforeAll(async () => {
    slq = await stochasticLanczosQuadrature(op, { probes: 10, steps: 30, rng });
  });

  it('gives quadrature rules with unit mass and one product per step', () => {
    expect(slq.products).toBe(10 * 30);
    for (const q of slq.quadratures) expect(q.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 10);
  });

  it('gives a density that integrates to 1 and whose first moment matches the trace', () => {
    const d = smoothedDensity(slq.quadratures, { sigma: 0.01, points: 2000 });
    expect(integrate(d)).toBeCloseTo(1, 6);
    const est = spectralSum(slq.quadratures, n, (t) => t);
    // n ∫ t φ(t) dt is the quadrature's trace estimate (Gaussian smoothing keeps the mean) …
    expect(n * integrate(d, (t) => t)).toBeCloseTo(est.value, 4);
    // … which is Hutchinson's with the same probes: within 3 standard errors of the exact trace
    expect(Math.abs(est.value - trace)).toBeLessThan(3 * est.stderr);
  });

  it('recovers the exact spectrum with a full Krylov space', async () => {
    const full = await stochasticLanczosQuadrature(op, { probes: 1, steps: n, rng });
    const nodes = [...full.quadratures[0].nodes].sort((a, b) => a - b);
    const sorted = [...lambdas].sort((a, b) => a - b);
    expect(nodes.length).toBe(n);
    // extreme and well-separated eigenvalues exactly; the whole set to rounding
    expect(nodes[n - 1]).toBeCloseTo(sorted[n - 1], 8);
    expect(Math.max(...nodes.map((t, i) => Math.abs(t - sorted[i])))).toBeLessThan(1e-8);
  });

  it('matches spectral sums of the exact spectrum within 3 standard errors', () => {
    const f = (t: number) => (t > 0 ? t / (t + 0.01) : 0);
    const est = spectralSum(slq.quadratures, n, f);
    const exact = spectralSum([exactQuadrature(lambdas)], n, f);
    expect(exact.stderr).toBe(0);
    expect(Math.abs(est.value - exact.value)).toBeLessThan(3 * est.stderr + 1e-9);
  });

  it('resolves the near-zero bulk on a log scale', () => {
    const ld = logAbsDensity([exactQuadrature(lambdas)], { sigma: 0.1, points: 1000 });
    expect(integrate(ld)).toBeCloseTo(1, 6);
    expect(ld.negativeFraction).toBeCloseTo(7 / n, 12);
    // mass below |λ| = 1e-3 (log10 < −3): the bulk entries drawn under 1e-3, about half of 90
    const below = lambdas.filter((t) => Math.abs(t) < 1e-3).length / n;
    const massBelow = integrate({ grid: ld.grid, values: ld.values.map((v, i) => (ld.grid[i] < -3 ? v : 0)) });
    expect(Math.abs(massBelow - below)).toBeLessThan(0.05);
  });
});

describe('stochasticLanczosQuadrature in lockstep', () => {
  const rng = new Rng(42);
  const n = 60;
  const lambdas = hessianLike(n, rng);
  const matrix = matrixWithSpectrum(lambdas, rng);
  const slqOf = (blockSize: number | undefined, limit?: number) =>
    stochasticLanczosQuadrature(denseOperator(matrix, n, { blockSize }), { probes: 10, steps: 25, rng: new Rng(43), blockSize: limit });

  it('gives the rules, brackets and intervals of the probe-by-probe path with an exact block product', async () => {
    const one = await slqOf(undefined);
    expect([one.products, one.blocks]).toEqual([250, 250]);
    const fn = { f: (t: number) => (t > 0 ? Math.log1p(t / 0.01) : 0), increasing: true, atMinusInfinity: 0, atPlusInfinity: Infinity };
    const bounds = { upper: 21, lower: -1 };
    for (const blockSize of [3, 10, 32]) {
      const b = await slqOf(blockSize);
      expect(b.quadratures).toEqual(one.quadratures);
      expect(b.steps).toBe(one.steps);
      expect(b.products).toBe(250);
      // 10 probes ≤ the block: one block per step; 3: blocks of 3, 3, 3 and the last probe alone
      expect(b.blocks).toBe(blockSize >= 10 ? 25 : 4 * 25);
      expect(boundedSpectralSum(b.quadratures, n, fn, { bounds })).toEqual(boundedSpectralSum(one.quadratures, n, fn, { bounds }));
      expect(b.quadratures.map((q) => windowBracket(q, -0.01, 0.01))).toEqual(one.quadratures.map((q) => windowBracket(q, -0.01, 0.01)));
      const source = (r: SlqResult) => ({ quadratures: r.quadratures, dim: n, lambdaMax: 20, lambdaMaxBound: 21 });
      expect(nearZeroModes(source(b), 1e-3)).toEqual(nearZeroModes(source(one), 1e-3));
    }
    // a smaller cap than the operator's block size
    const capped = await slqOf(32, 4);
    expect(capped.quadratures).toEqual(one.quadratures);
    expect(capped.blocks).toBe(3 * 25);
  });

  it('drops a probe whose Krylov space became invariant from the block, its rule exact', async () => {
    // five distinct eigenvalues: every Krylov space is invariant after 5 steps
    const few = Array.from({ length: 40 }, (_, i) => [4, 2, 1, 0, -1][i % 5]);
    const m = matrixWithSpectrum(few, new Rng(44));
    const run = (blockSize?: number) => stochasticLanczosQuadrature(denseOperator(m, 40, { blockSize }), { probes: 6, steps: 20, rng: new Rng(45) });
    const one = await run();
    expect(one.steps).toBe(5);
    expect(one.products).toBe(6 * 5);
    for (const q of one.quadratures) {
      expect(q.exact).toBe(true);
      expect(q.nodes).toEqual([-1, 0, 1, 2, 4].map((t) => expect.closeTo(t, 8)));
    }
    const block = await run(4);
    expect(block.quadratures).toEqual(one.quadratures);
    // probes 1–4 for 5 blocks, then 5–6
    expect(block.blocks).toBe(10);
  });
});
