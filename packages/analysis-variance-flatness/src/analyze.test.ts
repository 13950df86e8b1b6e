import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { analyzeTrajectory } from './analyze';
import { dot } from './pca';
import { powerLawFit } from './fit';

/** A random orthogonal basis of R^n (Gram–Schmidt on normals). */
function basis(n: number, rng: Rng): Float64Array[] {
  const out: Float64Array[] = [];
  while (out.length < n) {
    const v = Float64Array.from(rng.normalArray(n));
    for (const q of out) {
      const c = dot(v, q);
      for (let j = 0; j < n; j++) v[j] -= c * q[j];
    }
    const norm = Math.sqrt(dot(v, v));
    out.push(v.map((x) => x / norm));
  }
  return out;
}

describe('analyzeTrajectory on a quadratic loss with isotropic injected noise', () => {
  // L(w) = c + ½ wᵀHw, H = Σ h_k q_k q_kᵀ; the dynamics w ← w − ηHw + s·ξ (ξ isotropic normal) has
  // stationary variance s²/(x(2 − x)), x = ηh_k, along q_k: the equilibrium (Boltzmann-like) case,
  // where variance grows with flatness.
  const N = 8;
  const rng = new Rng(11);
  const Q = basis(N, rng);
  const h = Array.from({ length: N }, (_, k) => 0.25 * 2 ** k);
  const eta = 1 / 32;
  const s = 0.05;
  const c = 0.05;
  const Hv = (w: ArrayLike<number>) => {
    const out = new Float64Array(N);
    Q.forEach((q, k) => {
      const a = h[k] * dot(q, w);
      for (let j = 0; j < N; j++) out[j] += a * q[j];
    });
    return out;
  };
  const loss = (w: Float64Array) => c + 0.5 * dot(w, Hv(w));
  const snaps: Float64Array[] = [];
  let w = new Float64Array(N);
  for (let t = 0; t < 64000; t++) {
    const g = Hv(w);
    w = w.map((v, j) => v - eta * g[j] + s * rng.normal());
    if (t % 16 === 0 && t >= 2000) snaps.push(Float64Array.from(w));
  }
  const result = analyzeTrajectory(snaps, loss, { components: N, excludeFirst: false, gammaFrom: 1, gammaTo: 8, profileComponents: [1, 8], profilePoints: 5, maxDistance: 1e3, relTol: 1e-10 });
  const expectedVariance = h.map((hk) => (s * s) / (eta * hk * (2 - eta * hk)));

  it('orders the PCs as the eigen-directions, flattest first, with the known variances', () => {
    expect(result.pca.method).toBe('covariance');
    result.components.forEach((comp, i) => {
      // The i-th PC is the i-th flattest eigen-direction q_i (h increasing).
      expect(comp.variance / expectedVariance[i]).toBeGreaterThan(0.8);
      expect(comp.variance / expectedVariance[i]).toBeLessThan(1.2);
    });
  });

  it('recovers the known flatness along each eigen-direction', () => {
    const mean = new Float64Array(N);
    for (const sn of snaps) for (let j = 0; j < N; j++) mean[j] += sn[j] / snaps.length;
    const L0 = loss(mean);
    expect(result.L0).toBeCloseTo(L0, 12);
    result.components.forEach((comp, i) => {
      expect(comp.flatness).not.toBeNull();
      // Nominal: ½h δ² = (e − 1)c on either side of 0, F = 2√(2(e − 1)c/h).
      const nominal = 2 * Math.sqrt((2 * (Math.E - 1) * c) / h[i]);
      expect(comp.flatness! / nominal).toBeGreaterThan(0.95);
      expect(comp.flatness! / nominal).toBeLessThan(1.05);
    });
  });

  it('root-finding matches the exact roots of the quadratic profile through ⟨w⟩', () => {
    // Along a unit direction p the profile is exactly L0 + bδ + ½aδ²: read a and b off three
    // sampled profile points, and check the roots found against the closed form.
    for (const rank of [1, 8]) {
      const pts = result.profiles.filter((p) => p.rank === rank);
      expect(pts).toHaveLength(5);
      const [p0, , p2, , p4] = pts;
      const dx = p2.delta - p0.delta;
      const a = (p4.loss - 2 * p2.loss + p0.loss) / (dx * dx);
      const b = (p4.loss - p0.loss) / (p4.delta - p0.delta);
      expect(p2.delta).toBeCloseTo(0, 12);
      expect(p2.loss).toBeCloseTo(result.L0, 12);
      // a = pᵀHp ≈ h of the matching eigen-direction.
      expect(a / h[rank - 1]).toBeGreaterThan(0.95);
      expect(a / h[rank - 1]).toBeLessThan(1.05);
      const disc = Math.sqrt(b * b + 2 * a * (Math.E - 1) * result.L0);
      const comp = result.components[rank - 1];
      expect(comp.right! / ((-b + disc) / a)).toBeCloseTo(1, 6);
      expect(comp.left! / ((-b - disc) / a)).toBeCloseTo(1, 6);
    }
  });

  it('fits the equilibrium exponent: ψ < 0, matching the exact variances and flatnesses', () => {
    const nominalF = h.map((hk) => 2 * Math.sqrt((2 * (Math.E - 1) * c) / hk));
    const psiExact = -powerLawFit(nominalF, expectedVariance).exponent;
    expect(psiExact).toBeLessThan(-1.5);
    expect(result.psi).not.toBeNull();
    expect(result.psi!.value).toBeLessThan(0);
    expect(Math.abs(result.psi!.value - psiExact)).toBeLessThan(0.15);
    expect(result.psi!.ci[1]).toBeLessThan(0);
    // σ² ∝ i^(−γ) with h doubling per rank: γ ≈ log2(variance ratio) per log rank — just positive here.
    expect(result.gamma!.value).toBeGreaterThan(0);
  });
});

describe('analyzeTrajectory, drift and reporting', () => {
  it('identifies a drift along ⟨w⟩ as PC1, and reports directions it cannot bracket', () => {
    const rng = new Rng(2);
    const N = 40;
    const base = Float64Array.from(rng.normalArray(N));
    const unit = base.map((v) => v / Math.sqrt(dot(base, base)));
    const snaps = Array.from({ length: 30 }, (_, t) => base.map((v, j) => v * (1 + 0.02 * t) + 0.01 * rng.normal() + 0 * unit[j]));
    // A loss that only rises along the first coordinate axis: every other direction stays flat
    // beyond maxDistance unless it has a component along axis 0.
    const loss = (w: Float64Array) => 0.1 + (w[0] - base[0]) ** 2;
    const r = analyzeTrajectory(snaps, loss, { components: 6, maxDistance: 1, profileComponents: [] });
    expect(r.drift.pc1IsDrift).toBe(true);
    expect(Math.abs(r.drift.pc1MeanCosine)).toBeGreaterThan(0.99);
    expect(r.fractions.first).toBeGreaterThan(0.9);
    const unbracketed = r.components.filter((comp) => comp.flatness === null);
    expect(unbracketed.length).toBeGreaterThan(0);
    for (const comp of unbracketed) expect(comp.note).toMatch(/still below the target/);
  });

  it('needs a positive loss at the centre', () => {
    const snaps = [new Float64Array([0, 1]), new Float64Array([1, 0]), new Float64Array([1, 1])];
    expect(() => analyzeTrajectory(snaps, () => 0)).toThrow(/positive finite L₀/);
  });
});
