import { describe, expect, it } from 'vitest';
import { denseOperator } from './linear-operator';
import { Rng } from '@goldstone/core';
import { exactQuadrature, stochasticLanczosQuadrature } from './spectral-density';
import { directionalCurvature, effectiveDimension, logDet, nearZeroModes, symmetryZeroModes } from './spectrum-metrics';
import { compose, orthonormal } from './test-support';

describe('spectrum metrics on an exact spectrum', () => {
  const lambdas = [10, 4, 1, 0.5, 1e-4, -2e-4, 3e-5, 0, 0, -1];
  const s = { quadratures: [exactQuadrature(lambdas)], dim: lambdas.length, lambdaMax: 10 };

  it('counts near-zero modes |λ| < ε·λ_max with the count at ε/2 and 2ε', () => {
    const nz = nearZeroModes(s, 1e-5);
    expect(nz.threshold).toBeCloseTo(1e-4, 15);
    // |λ| < 1e-4: −2e-4 no, 1e-4 no (strict), 3e-5, 0, 0 yes
    expect(nz.value).toBeCloseTo(3, 12);
    expect(nz.stderr).toBe(0);
    expect(nz.range[0]).toBeCloseTo(3, 12);
    expect(nz.range[1]).toBeCloseTo(4, 12);
  });

  it('gives N_eff(z) = Σ λ/(λ+z) and log det = Σ log(1+λ/z) over positive eigenvalues', () => {
    const z = 0.5;
    const pos = lambdas.filter((t) => t > 0);
    expect(effectiveDimension(s, z).value).toBeCloseTo(pos.reduce((a, t) => a + t / (t + z), 0), 12);
    expect(logDet(s, z).value).toBeCloseTo(pos.reduce((a, t) => a + Math.log(1 + t / z), 0), 12);
    expect(() => effectiveDimension(s, 0)).toThrow(RangeError);
  });
});

describe('spectrum metrics from stochastic Lanczos quadrature', () => {
  it('estimate the exact N_eff and log det within 3 standard errors', async () => {
    const rng = new Rng(61);
    const n = 120;
    const lambdas = Array.from({ length: n }, (_, i) => (i < 5 ? 50 / (i + 1) : 10 ** (-5 * rng.uniform())));
    const op = denseOperator(compose(orthonormal(n, rng), lambdas), n);
    const slq = await stochasticLanczosQuadrature(op, { probes: 12, steps: 25, rng });
    const est = { quadratures: slq.quadratures, dim: n, lambdaMax: 50 };
    const exact = { quadratures: [exactQuadrature(lambdas)], dim: n, lambdaMax: 50 };
    for (const z of [0.01, 1]) {
      const a = effectiveDimension(est, z);
      const b = effectiveDimension(exact, z);
      expect(a.stderr).toBeGreaterThan(0);
      expect(Math.abs(a.value - b.value)).toBeLessThan(3 * a.stderr + 1e-6 * b.value);
      const c = logDet(est, z);
      const d = logDet(exact, z);
      expect(Math.abs(c.value - d.value)).toBeLessThan(3 * c.stderr + 1e-6 * d.value);
    }
  });
});

describe('curvature along directions and symmetry zero modes', () => {
  const rng = new Rng(62);
  const n = 12;
  const q = orthonormal(n, rng);
  // eigenvectors q[9], q[10], q[11] span the null space
  const lambdas = [9, 7, 5, 4, 3, 2, 1, 0.5, 0.2, 0, 0, 0];
  const op = denseOperator(compose(q, lambdas), n);

  it('gives vᵀHv/‖v‖², whatever the length of v', () => {
    const v = Float64Array.from(q[0].map((t, i) => 3 * t + 4 * q[2][i]));
    const c = directionalCurvature(op, v, 9);
    expect(c.value).toBeCloseTo((9 * 9 + 16 * 5) / 25, 10);
    expect(c.relative).toBeCloseTo(c.value / 9, 12);
  });

  it('compares predicted (rank of the declared directions) with measured zero modes', async () => {
    const mix = (a: number, u: Float64Array, b: number, w: Float64Array) => Float64Array.from(u.map((t, i) => a * t + b * w[i]));
    const directions = [
      mix(1, q[9], 1, q[10]),
      mix(1, q[9], -1, q[10]),
      mix(2, q[9], 0, q[10]), // dependent on the first two: does not add to the rank
      mix(1, q[11], 1, q[8]), // not a zero mode: curvature 0.1
    ];
    const res = await symmetryZeroModes(op, directions, { lambdaMax: 9, epsilon: 1e-3 });
    expect(res.predicted).toBe(3);
    expect(res.measured).toBe(2);
    expect(res.curvatures[0].value).toBeCloseTo(0, 10);
    expect(res.curvatures[3].value).toBeCloseTo(0.1, 10);
    expect(res.restrictedEigenvalues).toHaveLength(3);
    expect(res.restrictedEigenvalues[2]).toBeCloseTo(0.1, 10);
    expect(res.products).toBe(4 + 3);
    expect(res.blocks).toBe(4 + 3);
    // in blocks: the same numbers, fewer block products
    const blocked = await symmetryZeroModes(denseOperator(compose(q, lambdas), n, { blockSize: 3 }), directions, { lambdaMax: 9, epsilon: 1e-3 });
    expect(blocked).toEqual({ ...res, blocks: 2 + 1 });
  });
});
