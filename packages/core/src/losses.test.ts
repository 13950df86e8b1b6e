import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOSSES, lossFunction } from './losses';
import type { LossName } from '@goldstone/plugin-api';
import { gradientOf, hvp, hvpFiniteDifference } from './hvp';
import { relErr } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});


const B = 4;
const C = 3;
// Logits as the flat parameter vector w (so ∂²L/∂w² is the loss's own Hessian), at smooth points.
const Z = [0.4, -1.1, 0.7, 2.2, 0.3, -0.5, -0.9, 1.6, 0.05, 0.0, -2.0, 1.2];
const V = [0.3, -0.2, 0.9, -0.4, 0.1, 0.6, -0.8, 0.2, 0.5, -0.3, 0.7, -0.1];
const ONE_HOT = [1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0];
const BIN = [1, 0, 0, 1];
const REAL = [0.5, -0.2, 1.0, 0.3, -1.4, 0.8, 0.0, 0.9, -0.6, 0.2, 0.4, -0.3];

/** The loss, its gradient and Hv in float64, from the closed forms. */
function reference(name: LossName, z: number[], v: number[]): { loss: number; grad: number[]; hv: number[] } {
  if (name === 'mse') {
    const n = z.length;
    return {
      loss: z.reduce((s, zi, i) => s + (zi - REAL[i]) ** 2, 0) / n,
      grad: z.map((zi, i) => (2 * (zi - REAL[i])) / n),
      hv: v.map((vi) => (2 * vi) / n), // H = 2I/n
    };
  }
  if (name === 'binary-cross-entropy') {
    const zz = z.slice(0, B);
    const s = zz.map((x) => 1 / (1 + Math.exp(-x)));
    return {
      loss: zz.reduce((acc, x, i) => acc + Math.log1p(Math.exp(x)) - BIN[i] * x, 0) / B,
      grad: s.map((si, i) => (si - BIN[i]) / B),
      hv: s.map((si, i) => (si * (1 - si) * v[i]) / B), // H = diag(σ(1−σ))/B
    };
  }
  // softmax cross-entropy: per row, H = (diag(p) − ppᵀ)/B
  let loss = 0;
  const grad: number[] = [];
  const hv: number[] = [];
  for (let b = 0; b < B; b++) {
    const row = z.slice(b * C, (b + 1) * C);
    const vr = v.slice(b * C, (b + 1) * C);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
    const p = row.map((x) => Math.exp(x - lse));
    const pv = p.reduce((s, pi, i) => s + pi * vr[i], 0);
    for (let c = 0; c < C; c++) {
      loss -= (ONE_HOT[b * C + c] * (row[c] - lse)) / B;
      grad.push((p[c] - ONE_HOT[b * C + c]) / B);
      hv.push((p[c] * vr[c] - p[c] * pv) / B);
    }
  }
  return { loss, grad, hv };
}

function setup(name: LossName): { f: (w: tf.Tensor1D) => tf.Scalar; z: number[]; v: number[]; dispose: () => void } {
  const L = lossFunction(name);
  if (name === 'binary-cross-entropy') {
    const y = tf.tensor2d(BIN, [B, 1]);
    return { f: (w) => L(tf.reshape(w, [B, 1]), y), z: Z.slice(0, B), v: V.slice(0, B), dispose: () => y.dispose() };
  }
  const y = tf.tensor2d(name === 'mse' ? REAL : ONE_HOT, [B, C]);
  return { f: (w) => L(tf.reshape(w, [B, C]), y), z: Z, v: V, dispose: () => y.dispose() };
}

describe('losses', () => {
  it('lists every loss once and rejects unknown names', () => {
    expect([...LOSSES].sort()).toEqual(['binary-cross-entropy', 'mse', 'softmax-cross-entropy']);
    expect(() => lossFunction('hinge' as LossName)).toThrow(/Unknown loss "hinge"/);
  });

  it.each(LOSSES)('%s: value, gradient and Hv match the analytic float64 ones and central differences', (name) => {
    const { f, z, v, dispose } = setup(name);
    const ref = reference(name, z, v);
    const w = tf.tensor1d(z);
    const vt = tf.tensor1d(v);
    const loss = tf.tidy(() => f(w).dataSync()[0]);
    const g = tf.tidy(() => gradientOf(f, w).dataSync());
    const hv = hvp(f, w, vt);
    const fd = hvpFiniteDifference(f, w, vt, 1e-2);
    // float32 on O(1) numbers with ≤ 12 terms: a few ulp, far below 1e-5 relative.
    expect(Math.abs(loss - ref.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref.loss)));
    expect(relErr(g, ref.grad)).toBeLessThan(1e-5);
    expect(relErr(hv.dataSync(), ref.hv)).toBeLessThan(1e-5);
    expect(relErr(fd.dataSync(), ref.hv)).toBeLessThan(1e-3);
    tf.dispose([w, vt, hv, fd]);
    dispose();
  });

  it('softmax cross-entropy HVP through a product of parameters matches central differences', () => {
    const y = tf.tensor2d(ONE_HOT, [B, C]);
    const w = tf.tensor1d(Z);
    const v = tf.tensor1d(V);
    // Through a product, so that the second-order path goes through the saved tensors.
    const a = tf.tensor1d(Z.map((_, i) => 0.5 + 0.1 * i));
    const ours = (u: tf.Tensor1D) => lossFunction('softmax-cross-entropy')(tf.reshape(tf.mul(u, a), [B, C]), y);
    const hv = hvp(ours, w, v);
    const fd = hvpFiniteDifference(ours, w, v, 1e-2);
    expect(relErr(hv.dataSync(), fd.dataSync())).toBeLessThan(1e-3);
    tf.dispose([y, w, v, a, hv, fd]);
  });

  it('BCE is stable for large logits and accepts [B] or [B, 1]', () => {
    const L = lossFunction('binary-cross-entropy');
    const [big, flat, col] = tf.tidy(() => [
      L(tf.tensor1d([80, -80]), tf.tensor1d([0, 1])).dataSync()[0],
      L(tf.tensor1d([0.3, -0.2]), tf.tensor1d([1, 0])).dataSync()[0],
      L(tf.tensor2d([0.3, -0.2], [2, 1]), tf.tensor2d([1, 0], [2, 1])).dataSync()[0],
    ]);
    expect(big).toBeCloseTo(80, 4);
    expect(flat).toBeCloseTo(col, 7);
    expect(flat).toBeCloseTo((Math.log1p(Math.exp(-0.3)) + Math.log1p(Math.exp(-0.2))) / 2, 6);
  });

  it('softmax cross-entropy is finite for large logits', () => {
    const L = lossFunction('softmax-cross-entropy');
    const value = tf.tidy(() => L(tf.tensor2d([[500, 0, -500]]), tf.tensor2d([[0, 1, 0]])).dataSync()[0]);
    expect(value).toBeCloseTo(500, 3);
  });

  it('rejects mismatched shapes with a clear message', () => {
    tf.tidy(() => {
      expect(() => lossFunction('mse')(tf.zeros([2, 3]), tf.zeros([2, 2]))).toThrow(/differ in size/);
      expect(() => lossFunction('softmax-cross-entropy')(tf.zeros([6]), tf.zeros([6]))).toThrow(/\[B, C\]/);
      expect(() => lossFunction('binary-cross-entropy')(tf.zeros([2, 2]), tf.zeros([2, 2]))).toThrow(/\[B\] or \[B, 1\]/);
    });
  });

  it('leak no tensors across repeated HVPs', () => {
    const cases = LOSSES.map(setup);
    const run = (): void => {
      for (const { f, z, v } of cases) {
        const w = tf.tensor1d(z);
        const vt = tf.tensor1d(v);
        hvp(f, w, vt).dispose();
        tf.dispose([w, vt]);
      }
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) run();
    expect(tf.memory().numTensors).toBe(before);
    for (const c of cases) c.dispose();
  });
});
