import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { cosine, dot, trajectoryPca } from './pca';

/** k orthonormal random directions in R^n (Gram–Schmidt). */
function orthonormal(k: number, n: number, rng: Rng): Float64Array[] {
  const out: Float64Array[] = [];
  while (out.length < k) {
    const v = Float64Array.from(rng.normalArray(n));
    for (const q of out) {
      const c = dot(v, q);
      for (let j = 0; j < n; j++) v[j] -= c * q[j];
    }
    const norm = Math.sqrt(dot(v, v));
    for (let j = 0; j < n; j++) v[j] /= norm;
    out.push(v);
  }
  return out;
}

describe('trajectoryPca', () => {
  it('recovers planted directions and their variances from a synthetic trajectory (Gram path, T < N)', () => {
    const rng = new Rng(3);
    const N = 300;
    const T = 200;
    const planted = orthonormal(4, N, rng);
    const sds = [5, 3, 2, 1.2];
    const offset = Float64Array.from(rng.normalArray(N));
    const snaps = Array.from({ length: T }, () => {
      const w = Float64Array.from(offset);
      planted.forEach((q, k) => {
        const a = sds[k] * rng.normal();
        for (let j = 0; j < N; j++) w[j] += a * q[j];
      });
      for (let j = 0; j < N; j++) w[j] += 0.05 * rng.normal();
      return w;
    });
    const pca = trajectoryPca(snaps, { components: 4 });
    expect(pca.method).toBe('gram');
    planted.forEach((q, k) => {
      expect(Math.abs(cosine(pca.components[k], q))).toBeGreaterThan(0.99);
      // Sample variance of 200 normals: relative standard error √(2/200) = 10 %.
      expect(pca.variances[k] / (sds[k] * sds[k])).toBeGreaterThan(0.7);
      expect(pca.variances[k] / (sds[k] * sds[k])).toBeLessThan(1.3);
      expect(Math.sqrt(dot(pca.components[k], pca.components[k]))).toBeCloseTo(1, 10);
    });
    // The rest is the isotropic noise floor: 0.05² per direction at most a few times over.
    expect(pca.variances[4]).toBeLessThan(0.05 * 0.05 * 5);
    let total = 0;
    for (const v of pca.variances) total += v;
    expect(total).toBeCloseTo(pca.totalVariance, 8);
  });

  it('the Gram and covariance paths agree with each other', () => {
    const rng = new Rng(5);
    const snaps = Array.from({ length: 12 }, () => rng.normalArray(20));
    const a = trajectoryPca(snaps, { components: 5, method: 'gram' });
    const b = trajectoryPca(snaps, { components: 5, method: 'covariance' });
    for (let i = 0; i < 12; i++) expect(a.variances[i]).toBeCloseTo(b.variances[i], 9);
    for (let i = 0; i < 5; i++) expect(Math.abs(dot(a.components[i], b.components[i]))).toBeCloseTo(1, 8);
    // The snapshots' projections on the PCs have the reported variances.
    for (let i = 0; i < 5; i++) {
      let s = 0;
      for (const w of snaps) {
        let t = 0;
        for (let j = 0; j < 20; j++) t += (w[j] - a.mean[j]) * a.components[i][j];
        s += t * t;
      }
      expect(s / 12).toBeCloseTo(a.variances[i], 9);
    }
  });
});
