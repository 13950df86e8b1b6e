import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { flatLoss, gradientOf, hvp, hvpFiniteDifference } from './hvp';
import type { ModelInstance, ParamSpec } from '@goldstone/plugin-api';
import { countParams, flattenParams } from './params';
import { Rng } from './rng';
import { activation } from './activations';
import { relErr } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});


/** y = x W + b, a linear model written against the plugin contract. */
function linearModel(inputs: number, outputs: number): ModelInstance {
  const specs: ParamSpec[] = [
    { name: 'weight', shape: [inputs, outputs] },
    { name: 'bias', shape: [outputs] },
  ];
  return {
    specs,
    paramCount: countParams(specs),
    init: (rng) => ({
      weight: tf.tensor2d(rng.normalArray(inputs * outputs, 0.5), [inputs, outputs]),
      bias: tf.tensor1d(rng.normalArray(outputs, 0.5)),
    }),
    apply: (p, x) => tf.add(tf.matMul(x, p.weight), p.bias),
  };
}

describe('hvp on a quadratic form', () => {
  // f(w) = ½ wᵀ A w + bᵀw with A symmetric: ∇f = A w + b, H = A exactly.
  const n = 5;
  const rng = new Rng(7);
  const M = Array.from(rng.normalArray(n * n));
  const A = Array.from({ length: n * n }, (_, k) => {
    const i = Math.floor(k / n);
    const j = k % n;
    return M[i * n + j] + M[j * n + i];
  });
  const b = Array.from(rng.normalArray(n));
  const w0 = Array.from(rng.normalArray(n));
  const v0 = Array.from(rng.normalArray(n));
  const matVec = (x: number[]): number[] =>
    Array.from({ length: n }, (_, i) => x.reduce((s, xj, j) => s + A[i * n + j] * xj, 0));
  const At = tf.tensor2d(A, [n, n]);
  const bt = tf.tensor1d(b);
  const f = (w: tf.Tensor1D): tf.Scalar =>
    tf.tidy(() => {
      const Aw = tf.reshape(tf.matMul(At, tf.reshape(w, [n, 1])), [n]);
      return tf.add(tf.mul(0.5, tf.sum(tf.mul(w, Aw))), tf.sum(tf.mul(bt, w))) as tf.Scalar;
    });

  it('gradientOf gives Aw + b, hvp and hvpFiniteDifference give Av', () => {
    const w = tf.tensor1d(w0);
    const v = tf.tensor1d(v0);
    const g = gradientOf(f, w);
    const hv = hvp(f, w, v);
    const fd = hvpFiniteDifference(f, w, v);
    const expectedG = matVec(w0).map((x, i) => x + b[i]);
    const expectedHv = matVec(v0);
    expect(g.shape).toEqual([n]);
    expect(relErr(g.dataSync(), expectedG)).toBeLessThan(1e-6);
    expect(relErr(hv.dataSync(), expectedHv)).toBeLessThan(1e-6);
    // f is quadratic, so central differences have no truncation error; only float32 rounding / ε.
    expect(relErr(fd.dataSync(), expectedHv)).toBeLessThan(1e-3);
    tf.dispose([w, v, g, hv, fd]);
  });

  it('is linear in v', () => {
    const w = tf.tensor1d(w0);
    const [r] = tf.tidy(() => {
      const v1 = tf.tensor1d(v0);
      const v2 = tf.tensor1d(w0.map((x) => x * 0.3 - 1));
      const lhs = hvp(f, w, tf.add(tf.mul(v1, 2), v2) as tf.Tensor1D);
      const rhs = tf.add(tf.mul(hvp(f, w, v1), 2), hvp(f, w, v2));
      return [relErr(lhs.dataSync(), rhs.dataSync())];
    });
    expect(r).toBeLessThan(1e-6);
    w.dispose();
  });

  it('returns zeros where the gradient does not depend on w (linear f)', () => {
    const w = tf.tensor1d(w0);
    const v = tf.tensor1d(v0);
    const hv = hvp((u) => tf.sum(tf.mul(bt, u)) as tf.Scalar, w, v);
    expect(Array.from(hv.dataSync())).toEqual(new Array(n).fill(0));
    tf.dispose([w, v, hv]);
  });

  it('rejects non-vector or mismatched inputs', () => {
    tf.tidy(() => {
      expect(() => hvp(f, tf.zeros([n, 1]) as unknown as tf.Tensor1D, tf.zeros([n]) as tf.Tensor1D)).toThrow(/1-D/);
      expect(() => hvp(f, tf.zeros([n]) as tf.Tensor1D, tf.zeros([n + 1]) as tf.Tensor1D)).toThrow(/5 values/);
      expect(() => hvpFiniteDifference(f, tf.zeros([n]) as tf.Tensor1D, tf.zeros([n]) as tf.Tensor1D, 0)).toThrow(/eps/);
    });
  });

  it('leaks nothing over 100 repeated HVPs', () => {
    const w = tf.tensor1d(w0);
    const v = tf.tensor1d(v0);
    hvp(f, w, v).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) hvp(f, w, v).dispose();
    for (let i = 0; i < 10; i++) hvpFiniteDifference(f, w, v).dispose();
    for (let i = 0; i < 10; i++) gradientOf(f, w).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, v]);
  });
});

describe('flatLoss', () => {
  it('for linear regression with MSE has the analytic Hessian H = 2·blockdiag(XᵀX)/(N·K)', () => {
    // Inputs with a ones column standing in for the bias: with W [d, K] and b [K] the Hessian of
    // mean((XW + b − Y)²) over N·K elements is (2/(N·K)) · (X̃ᵀX̃ ⊗ I_K) in the flattening order.
    const N = 7;
    const d = 3;
    const K = 2;
    const rng = new Rng(11);
    const model = linearModel(d, K);
    const params = model.init(rng.split('init'));
    const X = Array.from(rng.normalArray(N * d));
    const Y = Array.from(rng.normalArray(N * K));
    const x = tf.tensor2d(X, [N, d]);
    const y = tf.tensor2d(Y, [N, K]);
    const w = flattenParams(params, model.specs);
    const v0 = Array.from(rng.normalArray(model.paramCount));
    const v = tf.tensor1d(v0);
    const f = flatLoss(model, 'mse', x, y);
    const hv = hvp(f, w, v);

    // Dense float64 reference. Flat order: weight [d, K] row-major (index i*K + k), then bias [K].
    const P = model.paramCount;
    const xt = (n: number, i: number): number => (i < d ? X[n * d + i] : 1); // X̃ = [X, 1]
    const index = (i: number, k: number): number => (i < d ? i * K + k : d * K + k);
    const expected = new Array(P).fill(0);
    for (let i = 0; i <= d; i++) {
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let j = 0; j <= d; j++) {
          let xtx = 0;
          for (let n = 0; n < N; n++) xtx += xt(n, i) * xt(n, j);
          s += xtx * v0[index(j, k)];
        }
        expected[index(i, k)] = (2 * s) / (N * K);
      }
    }
    expect(relErr(hv.dataSync(), expected)).toBeLessThan(1e-5);
    tf.dispose([x, y, w, v, hv, ...Object.values(params)]);
  });

  it('leaks nothing over 100 HVPs of a tanh model with softmax cross-entropy', () => {
    const rng = new Rng(3);
    const inner = linearModel(4, 3);
    const tanh = activation('tanh');
    const model: ModelInstance = { ...inner, apply: (p, x) => tanh(inner.apply(p, x)) };
    const params = model.init(rng);
    const x = tf.tensor2d(rng.normalArray(8 * 4), [8, 4]);
    const y = tf.tensor2d([0, 1, 2, 0, 1, 2, 0, 1].flatMap((c) => [0, 1, 2].map((k) => (k === c ? 1 : 0))), [8, 3]);
    const w = flattenParams(params, model.specs);
    const v = tf.tensor1d(rng.normalArray(model.paramCount));
    const f = flatLoss(model, 'softmax-cross-entropy', x, y);
    const first = hvp(f, w, v);
    const fd = hvpFiniteDifference(f, w, v, 1e-2);
    expect(relErr(first.dataSync(), fd.dataSync())).toBeLessThan(2e-3);
    tf.dispose([first, fd]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) hvp(f, w, v).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y, w, v, ...Object.values(params)]);
  });
});
