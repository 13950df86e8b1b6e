import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ACTIVATIONS,
  activation,
  logSoftmax,
  logSumExp,
  sigmoid,
  softmax,
  type ActivationName,
} from './activations';
import { gradientOf, hvp, hvpFiniteDifference } from './hvp';
import { relErr } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Float64 ground truth on the host: value, first and second derivative of each activation.
const SQRT2PI = Math.sqrt(2 * Math.PI);
/** erf to ~1e-15 by its Maclaurin series (|x| ≤ 3) — enough for a float32 comparison. */
function erf64(x: number): number {
  let sum = 0;
  let term = x;
  for (let n = 0; n < 200; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
    if (Math.abs(term) < 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const REF: Record<ActivationName, [(x: number) => number, (x: number) => number, (x: number) => number]> = {
  identity: [(x) => x, () => 1, () => 0],
  relu: [(x) => Math.max(x, 0), (x) => (x > 0 ? 1 : 0), () => 0],
  tanh: [Math.tanh, (x) => 1 - Math.tanh(x) ** 2, (x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2)],
  sigmoid: [sig, (x) => sig(x) * (1 - sig(x)), (x) => sig(x) * (1 - sig(x)) * (1 - 2 * sig(x))],
  softplus: [(x) => Math.log1p(Math.exp(x)), sig, (x) => sig(x) * (1 - sig(x))],
  gelu: [
    (x) => 0.5 * x * (1 + erf64(x / Math.SQRT2)),
    (x) => 0.5 * (1 + erf64(x / Math.SQRT2)) + (x * Math.exp(-x * x / 2)) / SQRT2PI,
    (x) => (Math.exp(-x * x / 2) / SQRT2PI) * (2 - x * x),
  ],
  elu: [(x) => (x > 0 ? x : Math.expm1(x)), (x) => (x > 0 ? 1 : Math.exp(x)), (x) => (x > 0 ? 0 : Math.exp(x))],
  'leaky-relu': [(x) => (x > 0 ? x : 0.01 * x), (x) => (x > 0 ? 1 : 0.01), () => 0],
  quadratic: [(x) => x * x, (x) => 2 * x, () => 2],
};

// Smooth points: away from 0, where relu, leaky-relu and elu have kinks.
const X = [-2.7, -1.3, -0.6, -0.15, 0.2, 0.55, 1.1, 2.4];


// A small dense map so that the Hessian is not diagonal: f(w) = Σ c ⊙ act(A w + b).
const n = 6;
const m = X.length;
const A = Array.from({ length: m * n }, (_, k) => Math.sin(1.7 * k + 0.3) * 0.4);
const W0 = [0.3, -0.5, 0.8, -0.2, 0.6, -0.9];
const V = [0.7, -0.1, 0.4, 0.9, -0.6, 0.2];
const C = [1.0, -0.7, 0.5, 1.3, -1.1, 0.8, 0.6, -0.4];
// Offsets chosen so that z = A w0 + b equals X exactly (in float64): z is at smooth points.
const AW0 = Array.from({ length: m }, (_, i) => A.slice(i * n, (i + 1) * n).reduce((s, a, j) => s + a * W0[j], 0));
const B = X.map((x, i) => x - AW0[i]);

/** Float64 reference: gradient Aᵀ(c ⊙ act'(z)) and Hv = Aᵀ(c ⊙ act''(z) ⊙ A v). */
function reference(name: ActivationName): { value: number; grad: number[]; hv: number[] } {
  const [f, d1, d2] = REF[name];
  const Av = Array.from({ length: m }, (_, i) => A.slice(i * n, (i + 1) * n).reduce((s, a, j) => s + a * V[j], 0));
  const grad = new Array(n).fill(0);
  const hv = new Array(n).fill(0);
  let value = 0;
  for (let i = 0; i < m; i++) {
    value += C[i] * f(X[i]);
    for (let j = 0; j < n; j++) {
      grad[j] += A[i * n + j] * C[i] * d1(X[i]);
      hv[j] += A[i * n + j] * C[i] * d2(X[i]) * Av[i];
    }
  }
  return { value, grad, hv };
}

function objective(name: ActivationName): (w: tf.Tensor1D) => tf.Scalar {
  const act = activation(name);
  return (w) =>
    tf.tidy(() => {
      const z = tf.add(tf.reshape(tf.matMul(tf.tensor2d(A, [m, n]), tf.reshape(w, [n, 1])), [m]), tf.tensor1d(B));
      return tf.sum(tf.mul(tf.tensor1d(C), act(z))) as tf.Scalar;
    });
}

describe('activations', () => {
  it('lists every activation once and rejects unknown names', () => {
    expect(new Set(ACTIVATIONS).size).toBe(9);
    for (const name of ACTIVATIONS) expect(typeof activation(name)).toBe('function');
    expect(() => activation('swish' as ActivationName)).toThrow(/Unknown activation "swish"/);
  });

  it.each(ACTIVATIONS)('%s: values match float64 formulas', (name) => {
    const y = tf.tidy(() => activation(name)(tf.tensor1d(X)).dataSync());
    const expected = X.map(REF[name][0]);
    for (let i = 0; i < X.length; i++) expect(y[i]).toBeCloseTo(expected[i], 5);
  });

  it.each(ACTIVATIONS)('%s: gradient and Hessian-vector product match the analytic float64 ones', (name) => {
    const f = objective(name);
    const ref = reference(name);
    const w = tf.tensor1d(W0);
    const v = tf.tensor1d(V);
    const g = tf.tidy(() => gradientOf(f, w).dataSync());
    const hv = hvp(f, w, v);
    const fd = hvpFiniteDifference(f, w, v, 1e-2);
    // float32 rounding of O(1) quantities through a 8×6 map: ~1e-6 relative; bound at 1e-4.
    expect(relErr(g, ref.grad)).toBeLessThan(1e-4);
    const refNorm = Math.hypot(...ref.hv);
    if (refNorm === 0) {
      expect(Math.hypot(...hv.dataSync())).toBeLessThan(1e-6);
    } else {
      expect(relErr(hv.dataSync(), ref.hv)).toBeLessThan(1e-4);
    }
    // central differences with ε = 1e-2: O(ε²) truncation + O(1e-7/ε) rounding ≈ 1e-4 relative.
    // Absolute error, relative to the gradient's scale (Hv may be 0 for piecewise-linear ones).
    const fdv = fd.dataSync();
    const absErr = Math.hypot(...ref.hv.map((h, i) => fdv[i] - h));
    expect(absErr).toBeLessThan(2e-3 * Math.max(refNorm, Math.hypot(...ref.grad)));
    tf.dispose([w, v, hv, fd]);
  });

  it('stay correct at third order where smooth (derivatives are themselves safe)', () => {
    // d³/dx³ tanh = −2(1 − t²)(1 − 3t²); check by differentiating the HVP once more.
    const x0 = [0.4, -1.1, 0.9];
    const third = tf.tidy(() => {
      const d1 = (x: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sum(activation('tanh')(u)))(x);
      const d2 = (x: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sum(d1(u)))(x);
      const d3 = tf.grad((u: tf.Tensor) => tf.sum(d2(u)));
      return d3(tf.tensor1d(x0)).dataSync();
    });
    const expected = x0.map((x) => {
      const t = Math.tanh(x);
      return -2 * (1 - t * t) * (1 - 3 * t * t);
    });
    for (let i = 0; i < x0.length; i++) expect(third[i]).toBeCloseTo(expected[i], 4);
  });
});

describe('softmax, logSoftmax, logSumExp', () => {
  const z = [
    [0.5, -1.2, 2.0, 0.1],
    [300, 298, 301, 299.5], // large logits: stability of the forward pass
  ];

  it('agree with tfjs in the forward pass, including for large logits', () => {
    const [lse, ls, sm, tlse, tls, tsm] = tf.tidy(() => {
      const x = tf.tensor2d(z);
      return [
        logSumExp(x).dataSync(),
        logSoftmax(x).dataSync(),
        softmax(x).dataSync(),
        tf.logSumExp(x, -1).dataSync(),
        tf.logSoftmax(x).dataSync(),
        tf.softmax(x).dataSync(),
      ];
    });
    expect(Array.from(lse).every(Number.isFinite)).toBe(true);
    for (let i = 0; i < lse.length; i++) expect(lse[i]).toBeCloseTo(tlse[i], 4);
    for (let i = 0; i < ls.length; i++) expect(ls[i]).toBeCloseTo(tls[i], 4);
    for (let i = 0; i < sm.length; i++) expect(sm[i]).toBeCloseTo(tsm[i], 5);
    const keep = tf.tidy(() => logSumExp(tf.tensor2d(z), 1, true).shape);
    expect(keep).toEqual([2, 1]);
  });

  it('logSumExp has Hessian diag(p) − ppᵀ (analytic), along axis 0 too', () => {
    const x0 = [0.3, -0.8, 1.5, 0.0, -0.4];
    const v0 = [1, -2, 0.5, 0.3, -0.7];
    const mx = Math.max(...x0);
    const e = x0.map((x) => Math.exp(x - mx));
    const s = e.reduce((a, b) => a + b, 0);
    const p = e.map((x) => x / s);
    const pv = p.reduce((acc, pi, i) => acc + pi * v0[i], 0);
    const expected = p.map((pi, i) => pi * v0[i] - pi * pv);
    const w = tf.tensor1d(x0);
    const v = tf.tensor1d(v0);
    for (const f of [
      (u: tf.Tensor1D) => logSumExp(u) as tf.Scalar,
      (u: tf.Tensor1D) => tf.sum(logSumExp(tf.reshape(u, [5, 1]), 0)) as tf.Scalar,
      (u: tf.Tensor1D) => tf.neg(tf.sum(tf.slice(logSoftmax(tf.reshape(u, [1, 5])), [0, 0], [1, 1]))) as tf.Scalar,
    ]) {
      const hv = hvp(f, w, v);
      expect(relErr(hv.dataSync(), expected)).toBeLessThan(1e-5);
      hv.dispose();
    }
    tf.dispose([w, v]);
  });

  it('softmax and sigmoid HVPs match central differences', () => {
    const w = tf.tensor1d([0.2, -0.9, 1.4, 0.5]);
    const v = tf.tensor1d([0.3, 0.8, -0.5, 0.1]);
    const c = tf.tensor1d([1.5, -0.5, 0.7, 2.0]);
    for (const f of [
      (u: tf.Tensor1D) => tf.sum(tf.mul(c, softmax(u))) as tf.Scalar,
      (u: tf.Tensor1D) => tf.sum(tf.mul(c, sigmoid(tf.mul(u, u)))) as tf.Scalar,
    ]) {
      const hv = hvp(f, w, v);
      const fd = hvpFiniteDifference(f, w, v, 1e-2);
      expect(relErr(hv.dataSync(), fd.dataSync())).toBeLessThan(1e-3);
      tf.dispose([hv, fd]);
    }
    tf.dispose([w, v, c]);
  });
});

describe('memory', () => {
  it('leaks no tensors across repeated HVPs through every activation', () => {
    const w = tf.tensor1d(W0);
    const v = tf.tensor1d(V);
    const run = (): void => {
      for (const name of ACTIVATIONS) hvp(objective(name), w, v).dispose();
      hvp((u) => logSumExp(u) as tf.Scalar, w, v).dispose();
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, v]);
  });
});
