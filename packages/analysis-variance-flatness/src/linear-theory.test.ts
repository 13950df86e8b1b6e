import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { analyzeTrajectory } from './analyze';
import {
  discreteLyapunov,
  gradientNoiseCovariance,
  linearNetGradient,
  linearNetHessian,
  linearNetLoss,
  linearTeacherData,
  linearTheory,
  orbitTangentBasis,
  polishMinimum,
  predictedPsi,
  sgdTrajectory,
  type LinearDataset,
  type LinearLayer,
  type LinearNet,
} from './linear-theory';

const geometric = (n: number, lo: number, ratio: number) => Array.from({ length: n }, (_, i) => lo * ratio ** (i / (n - 1)));

/** A random symmetric positive semi-definite n×n matrix A Aᵀ/n (A n×m). */
function randomPsd(n: number, m: number, rng: Rng): Float64Array {
  const A = Array.from({ length: n * m }, () => rng.normal());
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let l = 0; l < m; l++) S[i * n + j] += (A[i * m + l] * A[j * m + l]) / m;
  return S;
}

const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
const sd = (a: number[]) => Math.sqrt(a.reduce((s, x) => s + (x - mean(a)) ** 2, 0) / (a.length - 1));

describe('discreteLyapunov', () => {
  it('matches the closed form on a diagonal H and C', () => {
    const h = [0.1, 0.5, 1, 3, 7];
    const c = [0.2, 1, 0.3, 2, 0.05];
    const n = h.length;
    const H = new Float64Array(n * n);
    const C = new Float64Array(n * n);
    h.forEach((v, i) => {
      H[i * n + i] = v;
      C[i * n + i] = c[i];
    });
    const eta = 0.2;
    const { sigma, zeroModes } = discreteLyapunov(H, C, n, eta);
    expect(zeroModes).toBe(0);
    // Σ_ii = η²c/(1 − (1 − ηh)²) = ηc/(h(2 − ηh)); off-diagonal 0.
    h.forEach((v, i) => expect(sigma[i * n + i]).toBeCloseTo((eta * c[i]) / (v * (2 - eta * v)), 12));
    expect(Math.max(...Array.from(sigma).filter((_, k) => k % (n + 1) !== 0).map(Math.abs))).toBeLessThan(1e-14);
  });

  it('is the fixed point of Σ ← (I − ηH)Σ(I − ηH) + η²C for dense H and C', () => {
    const rng = new Rng(3);
    const n = 6;
    const H = randomPsd(n, 8, rng);
    const C = randomPsd(n, 3, rng);
    const eta = 0.3;
    const { sigma } = discreteLyapunov(H, C, n, eta);
    const A = H.map((v, k) => (k % (n + 1) === 0 ? 1 : 0) - eta * v);
    const mul = (X: Float64Array, Y: Float64Array) => {
      const Z = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let l = 0; l < n; l++) for (let j = 0; j < n; j++) Z[i * n + j] += X[i * n + l] * Y[l * n + j];
      return Z;
    };
    let S = new Float64Array(n * n);
    for (let it = 0; it < 20000; it++) S = mul(mul(A, S), A).map((v, k) => v + eta * eta * C[k]);
    const scale = Math.max(...Array.from(S).map(Math.abs));
    for (let k = 0; k < n * n; k++) expect(Math.abs(sigma[k] - S[k]) / scale).toBeLessThan(1e-9);
  });

  it('agrees with the sample covariance of the simulated linear process', () => {
    const rng = new Rng(5);
    const n = 3;
    const H = Float64Array.from([1, 0.3, 0, 0.3, 0.6, 0.1, 0, 0.1, 0.2]);
    // Noise ξ = L z with L lower-triangular, C = L Lᵀ.
    const L = [0.5, 0, 0, 0.2, 0.3, 0, -0.1, 0.1, 0.4];
    const C = new Float64Array(9);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let l = 0; l < 3; l++) C[i * 3 + j] += L[i * 3 + l] * L[j * 3 + l];
    const eta = 0.5;
    const { sigma } = discreteLyapunov(H, C, n, eta);
    let u = [0, 0, 0];
    const acc = new Float64Array(9);
    const T = 200000;
    for (let t = 0; t < T + 1000; t++) {
      const z = [rng.normal(), rng.normal(), rng.normal()];
      const xi = [0, 1, 2].map((i) => L[i * 3] * z[0] + L[i * 3 + 1] * z[1] + L[i * 3 + 2] * z[2]);
      u = [0, 1, 2].map((i) => u[i] - eta * (H[i * 3] * u[0] + H[i * 3 + 1] * u[1] + H[i * 3 + 2] * u[2]) + eta * xi[i]);
      if (t >= 1000) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) acc[i * 3 + j] += (u[i] * u[j]) / T;
    }
    // The slowest mode (ηλ ≈ 0.08) decorrelates in ~12 steps: ~10⁴ independent samples, ~2 % error.
    for (let i = 0; i < 3; i++) expect(acc[i * 3 + i] / sigma[i * 3 + i]).toBeGreaterThan(0.9);
    for (let i = 0; i < 3; i++) expect(acc[i * 3 + i] / sigma[i * 3 + i]).toBeLessThan(1.1);
  });

  it('projects out zero modes and reports the noise they carried', () => {
    const n = 2;
    const H = Float64Array.from([1, 0, 0, 0]);
    const C = Float64Array.from([1, 0, 0, 0.25]);
    const r = discreteLyapunov(H, C, n, 0.1);
    expect(r.zeroModes).toBe(1);
    expect(r.nullNoiseShare).toBeCloseTo(0.2, 12);
    expect(r.sigma[3]).toBe(0);
    expect(() => discreteLyapunov(Float64Array.from([-1, 0, 0, 1]), C, n, 0.1)).toThrow(/negative eigenvalue/);
    expect(() => discreteLyapunov(H, C, n, 2.5)).toThrow(/unstable/);
  });
});

describe('the linear networks', () => {
  const data = linearTeacherData({ inputDim: 5, outputDim: 3, samples: 40, labelNoise: 0.3, seed: 2, inputSpectrum: geometric(5, 0.5, 4) });
  const nets: LinearNet[] = [{ layers: 1 }, { layers: 2, hidden: 2 }];
  for (const net of nets) {
    it(`${net.layers} layer(s): loss, gradient and Hessian agree with direct sums and finite differences`, () => {
      const P = net.layers === 1 ? 15 : 5 * 2 + 3 * 2;
      const theta = new Float64Array(P).map((_, i) => Math.sin(1.7 * i + 1));
      // The loss from moments equals the direct sum over examples.
      let direct = 0;
      const W = net.layers === 1 ? theta : (() => {
        const out = new Float64Array(15);
        for (let c = 0; c < 3; c++) for (let j = 0; j < 5; j++) for (let a = 0; a < 2; a++) out[c * 5 + j] += theta[10 + c * 2 + a] * theta[a * 5 + j];
        return out;
      })();
      for (let i = 0; i < data.M; i++) {
        for (let c = 0; c < 3; c++) {
          let r = -data.y[i * 3 + c];
          for (let j = 0; j < 5; j++) r += W[c * 5 + j] * data.x[i * 5 + j];
          direct += (r * r) / (2 * data.M);
        }
      }
      expect(linearNetLoss(data, net, theta)).toBeCloseTo(direct, 12);
      const g = linearNetGradient(data, net, theta);
      const H = linearNetHessian(data, net, theta);
      const e = 1e-5;
      for (let i = 0; i < P; i++) {
        const plus = theta.slice();
        const minus = theta.slice();
        plus[i] += e;
        minus[i] -= e;
        expect(g[i]).toBeCloseTo((linearNetLoss(data, net, plus) - linearNetLoss(data, net, minus)) / (2 * e), 6);
        const gp = linearNetGradient(data, net, plus);
        const gm = linearNetGradient(data, net, minus);
        for (let j = 0; j < P; j++) expect(H[j * P + i]).toBeCloseTo((gp[j] - gm[j]) / (2 * e), 6);
      }
    });
  }

  it('two layers: the minimum has exactly h² zero modes, and the gradient noise has no part in them', () => {
    const big = linearTeacherData({ inputDim: 6, outputDim: 4, samples: 400, labelNoise: 0.2, seed: 4, teacherSingularValues: [2, 1] });
    const net: LinearNet = { layers: 2, hidden: 2 };
    const traj = sgdTrajectory(big, net, { lr: 0.05, batch: 8, steps: 6000, recordFrom: 5000, recordEvery: 10, layer: 'W2', seed: 1 });
    const star = polishMinimum(big, net, traj.final);
    expect(star.gradientNorm).toBeLessThan(1e-12);
    const th = linearTheory(big, net, star.theta, { lr: 0.05, batch: 8, layer: 'W2' });
    expect(th.zeroModes).toBe(4);
    expect(th.nullNoiseShare).toBeLessThan(1e-12);
    expect(th.hessianEigenvalues[4]).toBeGreaterThan(1e-3);
  });
});

interface Measured {
  psi: number;
  ci: [number, number];
  stdErr: number;
  predicted: number;
  predictedR2: number;
  totalMeasured: number;
  totalPredicted: number;
}

/** SGD from `seed`, the variance–flatness analysis of `layer`, and the theory at the minimum next to the window. */
function measure(data: LinearDataset, net: LinearNet, layer: LinearLayer, o: { lr: number; batch: number; steps: number; recordFrom: number; recordEvery: number; seed: number }): Measured {
  const traj = sgdTrajectory(data, net, { ...o, layer });
  const centre = Float64Array.from(traj.windowMean);
  // The exact full-data loss with the layer set to w, the other layer at its window mean.
  const lossAt = (w: Float64Array) => {
    centre.set(w, traj.block.offset);
    return linearNetLoss(data, net, centre);
  };
  const n = traj.block.length;
  const res = analyzeTrajectory(traj.snapshots, lossAt, { components: n, excludeFirst: true, gammaFrom: 1, gammaTo: n, profileComponents: [], relTol: 1e-8 });
  const star = polishMinimum(data, net, traj.windowMean);
  const th = linearTheory(data, net, star.theta, { lr: o.lr, batch: o.batch, layer });
  const pred = predictedPsi(th, res.psi!.ranks);
  return {
    psi: res.psi!.value,
    ci: res.psi!.ci,
    stdErr: res.psi!.stdErr,
    predicted: pred.value,
    predictedR2: pred.r2,
    totalMeasured: res.components.slice(1).reduce((s, c) => s + c.variance, 0),
    totalPredicted: th.variances.slice(1).reduce((s, v) => s + v, 0),
  };
}

/** Mean, and the two-sided 95 % Student-t half-width of the mean, of five numbers (t₀.₉₇₅,₄ = 2.776). */
function pooled(values: number[]): { mean: number; halfWidth: number } {
  expect(values.length).toBe(5);
  return { mean: mean(values), halfWidth: (2.776 * sd(values)) / Math.sqrt(values.length) };
}

describe('one layer (y = W·x): the theory and the measurement', () => {
  // d = 10, M = 2000 (strongly underparameterised), Σₓ eigenvalues 0.25 … 4, σ = 0.3, B = 10.
  const data = linearTeacherData({ inputDim: 10, outputDim: 1, samples: 2000, labelNoise: 0.3, seed: 1, inputSpectrum: geometric(10, 0.25, 16) });
  const net: LinearNet = { layers: 1 };
  const star = polishMinimum(data, net, new Float64Array(10)).theta;

  it('has C ≈ 2L₀H at the minimum: isotropic fluctuations σ² ≈ ηL₀/B and no variance–flatness relation in the continuum limit', () => {
    const H = linearNetHessian(data, net, star);
    const C = gradientNoiseCovariance(data, net, star);
    const L0 = linearNetLoss(data, net, star);
    const diff = Math.sqrt(C.reduce((s, c, k) => s + (c - 2 * L0 * H[k]) ** 2, 0));
    const norm = Math.sqrt(C.reduce((s, c) => s + c * c, 0));
    // Measured 0.089: the label-noise residuals make C = (1/M)Σ rᵢ²xᵢxᵢᵀ ≈ σ²·Sxx = 2L₀H up to sampling.
    expect(diff / norm).toBeLessThan(0.15);
    // Continuum (η = 0.001): HΣ + ΣH = ηC/B with C = 2L₀H gives Σ = (ηL₀/B)·I. Measured: σ² within
    // 0.86–1.19 × ηL₀/B, and ln σ² against ln F has r² = 0.07 (predicted ψ = −0.22): no relation.
    const cont = linearTheory(data, net, star, { lr: 0.001, batch: 10, layer: 'W' });
    for (const v of cont.variances) expect(Math.abs(v / ((0.001 * L0) / 10) - 1)).toBeLessThan(0.25);
    expect(predictedPsi(cont).r2).toBeLessThan(0.2);
    // At η = 0.1 (ηλ_max = 0.40) the discrete update adds the factor 1/(1 − ηhᵢ/2): sharper directions
    // fluctuate more, a ψ > 0 that is a finite-learning-rate effect (predicted 0.40, r² 0.79).
    const disc = predictedPsi(linearTheory(data, net, star, { lr: 0.1, batch: 10, layer: 'W' }));
    expect(disc.value).toBeGreaterThan(0.2);
    expect(disc.r2).toBeGreaterThan(0.5);
  });

  it('in the weakly underparameterised regime (M = 15, d = 10) the fluctuations are anisotropic but the loss along them is nearly isotropic', () => {
    const weak = linearTeacherData({ inputDim: 10, outputDim: 1, samples: 15, labelNoise: 0.3, seed: 1 });
    const th = linearTheory(weak, net, polishMinimum(weak, net, new Float64Array(10)).theta, { lr: 0.001, batch: 5, layer: 'W' });
    const lnVar = th.variances.map(Math.log);
    const lnF = th.flatness.map(Math.log);
    // Predicted for this seed: σ² spans a factor 12.9 (sd of ln σ² 0.87), while the flatness along
    // the PCs varies little (sd of ln F 0.17; ψ fit r² 0.001): C deviates from H, the loss seen by
    // the fluctuations is nearly isotropic.
    expect(sd(lnVar)).toBeGreaterThan(0.5);
    expect(sd(lnF)).toBeLessThan(0.3 * sd(lnVar));
  });

  it('measured ψ agrees with the prediction at η = 0.1 (5 seeds)', () => {
    // SGD for 22,000 steps (t = η·steps = 2,200; slowest relaxation 1/(ηλ_min) = 40 steps), window
    // from step 2,000, a snapshot every 10 steps; ψ over PCs 2–10 (PC1 left out, the default).
    // Measured ψ 0.39, 0.43, 0.27, 0.47, 0.44 (per-run 95 % intervals ±0.2–0.4), pooled 0.40 ± 0.09;
    // predicted 0.36 (r² 0.79). The measured total variance is 8–11 % above the prediction: the
    // multiplicative part of the noise ((H_B − H)u), which the linearisation leaves out.
    const runs = [1, 2, 3, 4, 5].map((seed) => measure(data, net, 'W', { lr: 0.1, batch: 10, steps: 22000, recordFrom: 2000, recordEvery: 10, seed }));
    for (const r of runs) {
      expect(r.predicted).toBeGreaterThanOrEqual(r.ci[0]);
      expect(r.predicted).toBeLessThanOrEqual(r.ci[1]);
      expect(r.totalMeasured / r.totalPredicted).toBeGreaterThan(0.9);
      expect(r.totalMeasured / r.totalPredicted).toBeLessThan(1.25);
    }
    const p = pooled(runs.map((r) => r.psi));
    expect(Math.abs(p.mean - runs[0].predicted)).toBeLessThan(p.halfWidth);
  });
});

describe('two layers (y = W₂W₁·x, d = 12, h = 4, k = 8): the second layer', () => {
  // A rank-4 teacher (singular values 3, 1, 0.5, 0.25), Σₓ eigenvalues 0.25 … 4, σ = 0.3, M = 2000.
  const data = linearTeacherData({ inputDim: 12, outputDim: 8, samples: 2000, labelNoise: 0.3, seed: 1, inputSpectrum: geometric(12, 0.25, 16), teacherSingularValues: [3, 1, 0.5, 0.25] });
  const net: LinearNet = { layers: 2, hidden: 4 };

  it('the theory predicts the inverse relation ψ > 0 also in the continuum limit', () => {
    const traj = sgdTrajectory(data, net, { lr: 0.05, batch: 10, steps: 20000, recordFrom: 19000, recordEvery: 10, layer: 'W2', seed: 1 });
    const star = polishMinimum(data, net, traj.windowMean).theta;
    // Predicted ψ at this minimum: η = 0.001: 1.27 (r² 0.51); η = 0.05: 1.07 — not a finite-η effect, unlike one layer.
    const cont = linearTheory(data, net, star, { lr: 0.001, batch: 10, layer: 'W2' });
    expect(cont.zeroModes).toBe(16);
    expect(cont.nullNoiseShare).toBeLessThan(1e-10);
    const psi = predictedPsi(cont);
    expect(psi.value).toBeGreaterThan(0.5);
  });

  it('measured ψ has the predicted sign and size at η = 0.05 (5 seeds)', () => {
    // 100,000 steps; the window starts at step 20,000 (learning time t = 1,000) and holds 4,000
    // snapshots. ψ over PCs 2–32. Measured ψ 0.92, 1.03, 1.07, 1.02, 1.00 (per-run 95 % intervals
    // ±0.23–0.44), pooled 1.006 ± 0.070; predicted 1.07 (r² 0.48). Total variance 11–22 % above the
    // prediction (multiplicative noise, as in one layer). A window from step 2,000 (t = 100) instead
    // gave 1.07, 0.76, 0.74, 0.88, 0.33 with 40–100 % excess variance: the slow modes had not
    // relaxed yet, and PC2 still held the approach to the minimum.
    const runs = [1, 2, 3, 4, 5].map((seed) => measure(data, net, 'W2', { lr: 0.05, batch: 10, steps: 100000, recordFrom: 20000, recordEvery: 20, seed }));
    for (const r of runs) {
      expect(r.ci[0]).toBeGreaterThan(0);
      expect(r.predicted).toBeGreaterThanOrEqual(r.ci[0]);
      expect(r.predicted).toBeLessThanOrEqual(r.ci[1]);
      expect(r.totalMeasured / r.totalPredicted).toBeGreaterThan(0.9);
      expect(r.totalMeasured / r.totalPredicted).toBeLessThan(1.35);
    }
    // Caveat, from two checks kept out of the suite for time: the same estimator on the linearised
    // process itself (simulated with the same window) reads ψ 1.32, 1.40, 1.47 (3 seeds), i.e. the
    // finite-window PCA biases ψ up by ~0.3 here; and SGD reads lower than that because it also moves
    // along the GL(h) orbit (next test). The agreement below is therefore partly a cancellation.
    const p = pooled(runs.map((r) => r.psi));
    const predicted = mean(runs.map((r) => r.predicted));
    expect(Math.abs(p.mean - predicted)).toBeLessThan(p.halfWidth);
  });

  it('the fluctuations off the GL(h) orbit match the theory; the excess variance lies along the orbit', () => {
    const traj = sgdTrajectory(data, net, { lr: 0.05, batch: 10, steps: 100000, recordFrom: 20000, recordEvery: 20, layer: 'W2', seed: 1 });
    const star = polishMinimum(data, net, traj.windowMean).theta;
    const th = linearTheory(data, net, star, { lr: 0.05, batch: 10, layer: 'W2' });
    const Q = orbitTangentBasis(data, net, star, 'W2');
    expect(Q.length).toBe(16);
    const n = traj.block.length;
    const centre = new Float64Array(n);
    for (const s of traj.snapshots) for (let a = 0; a < n; a++) centre[a] += s[a] / traj.snapshots.length;
    let measuredAll = 0;
    let measuredOrbit = 0;
    for (const s of traj.snapshots) {
      const dev = s.map((x, a) => x - centre[a]);
      measuredAll += dev.reduce((t, x) => t + x * x, 0) / traj.snapshots.length;
      for (const q of Q) measuredOrbit += dev.reduce((t, x, a) => t + x * q[a], 0) ** 2 / traj.snapshots.length;
    }
    let predictedAll = 0;
    let predictedOrbit = 0;
    for (let a = 0; a < n; a++) predictedAll += th.covariance[a * n + a];
    for (const q of Q) for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) predictedOrbit += q[a] * th.covariance[a * n + b] * q[b];
    // Measured: off the orbit (16 directions) 3.834e-3 against 3.809e-3 predicted (ratio 1.007; with
    // ~200 independent samples per direction the sampling error of this sum is ~3 %); along the orbit
    // 1.57e-2 against 2.54e-3 (6.2×): the drift of the balance W₁W₁ᵀ − W₂ᵀW₂, absent from the theory.
    const off = (measuredAll - measuredOrbit) / (predictedAll - predictedOrbit);
    expect(off).toBeGreaterThan(0.9);
    expect(off).toBeLessThan(1.1);
    expect(measuredOrbit / predictedOrbit).toBeGreaterThan(2);
  });
});
