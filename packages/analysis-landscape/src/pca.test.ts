import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { dot, norm } from './directions';
import { projectTrajectory, trajectoryPca } from './pca';

describe('trajectory PCA', () => {
  it('recovers the plane of a synthetic trajectory and its variances', async () => {
    const rng = new Rng(8);
    const n = 300;
    // an orthonormal pair p, q
    const p = rng.normalArray(n);
    const pn = norm(p);
    for (let i = 0; i < n; i++) p[i] /= pn;
    const q = rng.normalArray(n);
    const pq = dot(p, q);
    for (let i = 0; i < n; i++) q[i] -= pq * p[i];
    const qn = norm(q);
    for (let i = 0; i < n; i++) q[i] /= qn;
    const centre = rng.normalArray(n);
    const T = 60;
    // a: a drift from −3 to 3 (odd about the middle); b: an oscillation of amplitude 1 (even about
    // the middle, so uncorrelated with a); tiny noise off the plane
    const coef = Array.from({ length: T }, (_, t) => {
      const s = t - (T - 1) / 2;
      return [(6 * s) / (T - 1), Math.cos((2 * Math.PI * 5 * s) / T)];
    });
    const snaps = coef.map(([a, b]) => {
      const noise = rng.normalArray(n, 1e-4);
      return Float32Array.from({ length: n }, (_, i) => centre[i] + a * p[i] + b * q[i] + noise[i]);
    });
    const pca = await trajectoryPca(snaps, 2);
    const [c1, c2] = pca.components;
    expect(Math.abs(dot(c1, p))).toBeGreaterThan(0.9999);
    expect(Math.abs(dot(c2, q))).toBeGreaterThan(0.9999);
    expect(dot(c1, p)).toBeGreaterThan(0); // the drift runs along +PC1
    expect(Math.abs(dot(c1, c2))).toBeLessThan(1e-5);
    const meanA = coef.reduce((s, c) => s + c[0], 0) / T;
    const varA = coef.reduce((s, c) => s + (c[0] - meanA) ** 2, 0) / T;
    const meanB = coef.reduce((s, c) => s + c[1], 0) / T;
    const varB = coef.reduce((s, c) => s + (c[1] - meanB) ** 2, 0) / T;
    expect(pca.variances[0]).toBeCloseTo(varA, 4);
    expect(pca.variances[1]).toBeCloseTo(varB, 4);
    expect(pca.explained[0] + pca.explained[1]).toBeGreaterThan(0.9999);
    // projection onto the plane about the last snapshot reproduces the coefficients
    const proj = projectTrajectory(snaps, snaps[T - 1], [c1, c2]);
    proj.forEach((xy, t) => {
      expect(xy[0]).toBeCloseTo(coef[t][0] - coef[T - 1][0], 3);
      expect(Math.abs(xy[1])).toBeCloseTo(Math.abs(coef[t][1] - coef[T - 1][1]), 3);
    });
  });

  it('refuses a trajectory of one snapshot', async () => {
    await expect(trajectoryPca([new Float32Array(3)], 2)).rejects.toThrow(/at least 2 snapshots/);
  });
});
