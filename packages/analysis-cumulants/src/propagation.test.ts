import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { sampleCumulants, sampleSpins } from '@goldstone/task-clt';
import { affineCumulantTensors, compileQuadraticForm, evaluateCompiled, gaussHermite, gaussianClosure, iidCumulantTensors, quadraticFormCumulants, quadraticScalarCumulants } from './propagation';
import { cumulantsFromMoments, momentsFromCumulants, percentileInterval, resampleRows, rowKStatistics } from './stats';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** k-statistics of all values with standard errors from `groups` batches (the sampling error the tolerance is derived from). */
function kWithSE(values: Float64Array, groups = 25): { k: number[]; se: number[] } {
  const k = sampleCumulants(values);
  const size = Math.floor(values.length / groups);
  const per = Array.from({ length: groups }, (_, g) => sampleCumulants(values.subarray(g * size, (g + 1) * size)));
  const se = k.map((_, i) => {
    const m = per.reduce((a, p) => a + p[i], 0) / groups;
    const v = per.reduce((a, p) => a + (p[i] - m) ** 2, 0) / (groups - 1);
    return Math.sqrt(v / groups);
  });
  return { k, se };
}

/** |predicted − Monte Carlo| ≤ z·SE for every order (z = 4.5: a false alarm ~1e-5 per comparison). */
function expectWithinSampling(pred: readonly number[], mc: { k: number[]; se: number[] }, z = 4.5) {
  pred.forEach((p, i) => {
    const tol = z * mc.se[i] + 1e-9 * (1 + Math.abs(p));
    expect(Math.abs(p - mc.k[i]), `κ${i + 1}: predicted ${p}, Monte Carlo ${mc.k[i]} ± ${mc.se[i]}`).toBeLessThanOrEqual(tol);
  });
}

const UNIFORM = [0, 1, 0, -6 / 5, 0, 48 / 7, 0, -432 / 5];
/** Exponential(1): κₙ = (n − 1)!; centred: κ₁ = 0. */
const EXPONENTIAL = [1, 1, 2, 6, 24, 120, 720, 5040];
const EXP_CENTRED = [0, ...EXPONENTIAL.slice(1)];

function randomForm(N: number, rng: Rng, scaleB: number) {
  const a = Float64Array.from(rng.normalArray(N, 0.5));
  const B = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) B[i * N + j] = scaleB * rng.normal();
  return { c: 0.3, a, B };
}

function evalForm(form: { c: number; a: Float64Array; B: Float64Array }, x: ArrayLike<number>, N: number, M: number): Float64Array {
  const y = new Float64Array(M);
  for (let r = 0; r < M; r++) {
    let v = form.c;
    for (let i = 0; i < N; i++) {
      const xi = x[r * N + i];
      v += form.a[i] * xi;
      for (let j = 0; j < N; j++) v += form.B[i * N + j] * xi * x[r * N + j];
    }
    y[r] = v;
  }
  return y;
}

describe('moments and cumulants', () => {
  it('round-trip, and a Gaussian has m₄ = 3σ⁴', () => {
    const k = [0.3, 1.7, -0.4, 2.2, 0.5];
    cumulantsFromMoments(momentsFromCumulants(k)).forEach((v, i) => expect(v).toBeCloseTo(k[i], 12));
    expect(momentsFromCumulants([0, 2, 0, 0])[3]).toBeCloseTo(12, 12);
  });
  it('Gauss–Hermite integrates ξ⁴ and ξ⁶ of a standard normal exactly', () => {
    const { nodes, weights } = gaussHermite(20);
    const e = (p: number) => nodes.reduce((a, x, i) => a + weights[i] * x ** p, 0);
    expect(e(0)).toBeCloseTo(1, 12);
    expect(e(2)).toBeCloseTo(1, 12);
    expect(e(4)).toBeCloseTo(3, 10);
    expect(e(6)).toBeCloseTo(15, 9);
  });
});

describe('quadratic activation y = z + αz², scalar', () => {
  it("agrees with the κ₁ and κ₂ formulas of docs/learned-rg-maps.md for arbitrary input cumulants", () => {
    const rng = new Rng(3);
    for (let t = 0; t < 20; t++) {
      const k = Array.from({ length: 8 }, () => rng.normal());
      k[1] = Math.abs(k[1]);
      const al = rng.normal();
      const [k1, k2] = quadraticScalarCumulants(k, al);
      const [c1, c2, c3, c4] = k;
      expect(k1).toBeCloseTo(c1 + al * (c2 + c1 * c1), 10);
      expect(k2).toBeCloseTo(c2 + 2 * al * (c3 + 2 * c1 * c2) + al * al * (c4 + 4 * c1 * c3 + 2 * c2 * c2 + 4 * c1 * c1 * c2), 9);
    }
  });
  it('is the one-site case of the quadratic-form propagation (non-zero mean too)', () => {
    const al = 0.37;
    const a = quadraticScalarCumulants(EXPONENTIAL, al);
    const b = quadraticFormCumulants({ c: 0, a: [1], B: [al] }, EXPONENTIAL);
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 8));
  });
});

describe('quadratic forms c + aᵀx + xᵀBx of i.i.d. inputs: exact against 200k-sample Monte Carlo', () => {
  const N = 5;
  const M = 200_000;
  it.each([
    ['uniform', UNIFORM, 'uniform'],
    ['centred exponential', EXP_CENTRED, 'exponential'],
  ] as const)('%s inputs', (_name, kappa, dist) => {
    const rng = new Rng(11);
    const form = randomForm(N, rng.split('form'), 0.25);
    const x = sampleSpins(dist, M * N, rng.split('x'));
    const pred = quadraticFormCumulants(form, kappa);
    expectWithinSampling(pred, kWithSE(evalForm(form, x, N, M)));
    // the quadratic terms matter: dropping B changes κ₄ by far more than the sampling error
    const linear = quadraticFormCumulants({ ...form, B: new Float64Array(N * N) }, kappa);
    expect(Math.abs(linear[3] - pred[3])).toBeGreaterThan(0.05 * Math.abs(pred[3]));
  });
  it('inputs with a non-zero mean (uncentred exponential, κ₁ = 1)', () => {
    const rng = new Rng(12);
    const form = randomForm(N, rng.split('form'), 0.2);
    const x = sampleSpins('exponential', M * N, rng.split('x'));
    for (let i = 0; i < x.length; i++) x[i] += 1;
    expectWithinSampling(quadraticFormCumulants(form, EXPONENTIAL), kWithSE(evalForm(form, x, N, M)));
  });
  it('the site sums by variable elimination equal the brute-force sums', () => {
    const form = randomForm(7, new Rng(13), 0.3);
    const fast = evaluateCompiled(compileQuadraticForm(form, 7), EXPONENTIAL);
    const naive = evaluateCompiled(compileQuadraticForm(form, 7, { naive: true }), EXPONENTIAL);
    fast.forEach((v, i) => expect(Math.abs(v - naive[i])).toBeLessThanOrEqual(1e-10 * (1 + Math.abs(naive[i]))));
  });
  it('an affine form needs only κ₁…κ₄ and gives κₙ = Σ aᵢⁿ κₙ', () => {
    const a = [0.5, -1, 2];
    const F = compileQuadraticForm({ c: 0.1, a, B: new Float64Array(9) }, 3);
    expect(F.maxOrder).toBe(4);
    const k = evaluateCompiled(F, [0, 1, 2, 6]);
    expect(k[0]).toBeCloseTo(0.1, 12);
    expect(k[1]).toBeCloseTo(0.25 + 1 + 4, 12);
    expect(k[2]).toBeCloseTo(2 * (0.125 - 1 + 8), 12);
    expect(k[3]).toBeCloseTo(6 * (0.0625 + 1 + 16), 12);
  });
});

describe('affine layers: joint cumulant tensors contracted with W on every index', () => {
  it('match Monte Carlo joint cumulants of z = Wᵀx + c (200k samples)', () => {
    const din = 4;
    const dout = 3;
    const M = 200_000;
    const rng = new Rng(21);
    const W = rng.split('W').normalArray(din * dout, 0.7);
    const c = [0.5, -0.2, 0.1];
    const t = affineCumulantTensors(iidCumulantTensors(din, EXP_CENTRED), W, dout, c);
    const x = sampleSpins('exponential', M * din, rng.split('x'));
    const z = Array.from({ length: dout }, () => new Float64Array(M));
    for (let r = 0; r < M; r++) for (let j = 0; j < dout; j++) {
      let s = c[j];
      for (let i = 0; i < din; i++) s += x[r * din + i] * W[i * dout + j];
      z[j][r] = s;
    }
    // marginals: the tensors' diagonals are the k-statistics' targets
    for (let j = 0; j < dout; j++) {
      const diag = [t.k1[j], t.k2[j * (dout + 1)], t.k3[j * (dout * dout + dout + 1)], t.k4[j * (dout ** 3 + dout ** 2 + dout + 1)]];
      expectWithinSampling(diag, kWithSE(z[j]));
    }
    // a mixed entry: κ(z₀, z₀, z₁, z₂) = E[z̃₀z̃₀z̃₁z̃₂] − E[z̃₀z̃₀]E[z̃₁z̃₂] − 2E[z̃₀z̃₁]E[z̃₀z̃₂], by batches
    const groups = 25;
    const size = M / groups;
    const est = Array.from({ length: groups }, (_, g) => {
      const mean = [0, 1, 2].map((j) => z[j].subarray(g * size, (g + 1) * size).reduce((a, b) => a + b, 0) / size);
      let e0012 = 0, e00 = 0, e12 = 0, e01 = 0, e02 = 0;
      for (let r = g * size; r < (g + 1) * size; r++) {
        const a = z[0][r] - mean[0], b = z[1][r] - mean[1], d = z[2][r] - mean[2];
        e0012 += a * a * b * d; e00 += a * a; e12 += b * d; e01 += a * b; e02 += a * d;
      }
      return (e0012 - (e00 * e12 + 2 * e01 * e02) / size) / size;
    });
    const m = est.reduce((a, b) => a + b, 0) / groups;
    const se = Math.sqrt(est.reduce((a, b) => a + (b - m) ** 2, 0) / (groups - 1) / groups);
    const exact = t.k4[((0 * dout + 0) * dout + 1) * dout + 2];
    expect(Math.abs(exact - m)).toBeLessThanOrEqual(4.5 * se);
  });
});

describe('Gaussian closure', () => {
  const layers = (rng: Rng, dims: number[], scale: number) =>
    dims.slice(1).map((dout, i) => ({ W: rng.split(`W${i}`).normalArray(dims[i] * dout, scale / Math.sqrt(dims[i])), b: rng.split(`b${i}`).normalArray(dout, 0.1), din: dims[i], dout }));
  const mc = (L: ReturnType<typeof layers>, phi: (v: number) => number, x: Float32Array, M: number) => {
    const out = Array.from({ length: L.at(-1)!.dout }, () => new Float64Array(M));
    for (let r = 0; r < M; r++) {
      let h = Array.from(x.subarray(r * L[0].din, (r + 1) * L[0].din));
      L.forEach((l, li) => {
        const z = Array.from({ length: l.dout }, (_, j) => h.reduce((a, v, i) => a + v * l.W[i * l.dout + j], l.b[j]));
        h = li < L.length - 1 ? z.map(phi) : z;
      });
      h.forEach((v, j) => (out[j][r] = v));
    }
    return out;
  };
  it('is exact for κ₁, κ₂ of an affine chain', () => {
    const rng = new Rng(31);
    const L = layers(rng, [6, 4, 2], 1);
    const g = gaussianClosure(L, (z) => z, 0.2, 1.5);
    const t = affineCumulantTensors(affineCumulantTensors(iidCumulantTensors(6, [0.2, 1.5, 0, 0]), L[0].W, 4, L[0].b), L[1].W, 2, L[1].b);
    for (let j = 0; j < 2; j++) {
      expect(g.mean[j]).toBeCloseTo(t.k1[j], 10);
      expect(g.variance[j]).toBeCloseTo(t.k2[j * 3], 10);
    }
  });
  it('is close to Monte Carlo on a weakly non-linear tanh network (16 → 8 → 2, uniform inputs)', () => {
    const rng = new Rng(32);
    const M = 50_000;
    const L = layers(rng, [16, 8, 2], 0.6);
    const x = sampleSpins('uniform', M * 16, rng.split('x'));
    const g = gaussianClosure(L, (z) => z.map(Math.tanh), 0, 1);
    mc(L, Math.tanh, x, M).forEach((y, j) => {
      const s = kWithSE(y);
      expect(Math.abs(g.mean[j] - s.k[0])).toBeLessThanOrEqual(4.5 * s.se[0] + 0.02 * Math.sqrt(s.k[1]));
      expect(Math.abs(g.variance[j] - s.k[1])).toBeLessThanOrEqual(4.5 * s.se[1] + 0.03 * s.k[1]);
    });
  });
});

describe('percentile bootstrap intervals of k-statistics', () => {
  it('cover the true κ at roughly the stated rate over seeded repetitions', () => {
    const reps = 60;
    const n = 1500;
    let cover2 = 0;
    let cover4 = 0;
    for (let t = 0; t < reps; t++) {
      const rng = new Rng(1000 + t);
      const lap = sampleSpins('laplace', n, rng.split('laplace'));
      const uni = sampleSpins('uniform', n, rng.split('uniform'));
      const r2: number[] = [];
      const r4: number[] = [];
      const scratch = new Float64Array(n);
      for (let b = 0; b < 300; b++) {
        const rows = resampleRows(n, rng.split(`b${b}`));
        r2.push(rowKStatistics(lap, 1, rows, scratch)[1]);
        r4.push(rowKStatistics(uni, 1, rows, scratch)[3]);
      }
      const i2 = percentileInterval(r2, 0.9);
      const i4 = percentileInterval(r4, 0.9);
      if (i2[0] <= 1 && 1 <= i2[1]) cover2++;
      if (i4[0] <= -1.2 && -1.2 <= i4[1]) cover4++;
    }
    // binomial(60, 0.9): sd 0.039; a percentile bootstrap under-covers a little at this n
    expect(cover2 / reps).toBeGreaterThanOrEqual(0.75);
    expect(cover4 / reps).toBeGreaterThanOrEqual(0.75);
    expect(cover2 / reps).toBeLessThanOrEqual(1);
  });
});
