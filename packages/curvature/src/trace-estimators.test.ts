import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { tanh, disposeParams, Rng } from '@goldstone/core';
import { denseMatrix } from './dense-hessian';
import { curvatureOperator, denseOperator } from './linear-operator';
import type { ModelInstance } from '@goldstone/plugin-api';
import { hutchinson, hutchPlusPlus } from './trace-estimators';
import { matrixWithSpectrum } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});


/** A one-hidden-layer tanh net with a scalar output. */
function net(d: number, h: number): ModelInstance {
  return {
    specs: [{ name: 'w0', shape: [d, h] }, { name: 'b0', shape: [h] }, { name: 'w1', shape: [h, 1] }],
    paramCount: d * h + h + h,
    init: (rng) => ({
      w0: tf.tensor(rng.normalArray(d * h, 1 / Math.sqrt(d)), [d, h]),
      b0: tf.tensor(rng.normalArray(h, 0.1), [h]),
      w1: tf.tensor(rng.normalArray(h, 1 / Math.sqrt(h)), [h, 1]),
    }),
    apply: (p, x) => tf.tidy(() => tf.matMul(tanh(tf.add(tf.matMul(x as tf.Tensor2D, p.w0 as tf.Tensor2D), p.b0)) as tf.Tensor2D, p.w1 as tf.Tensor2D)),
  };
}

describe('hutchinson', () => {
  it('lands within 3 standard errors of the exact trace of an MLP Hessian', async () => {
    const rng = new Rng(31);
    const model = net(3, 10);
    const params = model.init(rng);
    const x = tf.tensor(rng.normalArray(50 * 3), [50, 3]);
    const y = tf.tensor(rng.normalArray(50), [50, 1]);
    const op = curvatureOperator({ model, loss: 'mse', params, data: { x, y } });
    const H = await denseMatrix(op);
    let exact = 0;
    for (let i = 0; i < H.n; i++) exact += H.values[i * H.n + i];
    const est = await hutchinson(op, { probes: 40, rng });
    expect(est.products).toBe(40);
    expect(est.stderr).toBeGreaterThan(0);
    expect(Math.abs(est.value - exact)).toBeLessThan(3 * est.stderr);
    op.dispose();
    tf.dispose([x, y]);
    disposeParams(params);
  });

  it('is exact for a diagonal matrix (Rademacher probes: zᵀDz = tr D)', async () => {
    const op = denseOperator([
      [3, 0, 0],
      [0, -1, 0],
      [0, 0, 2.5],
    ]);
    const est = await hutchinson(op, { probes: 5, rng: new Rng(32) });
    expect(est.value).toBeCloseTo(4.5, 12);
    expect(est.stderr).toBeCloseTo(0, 12);
  });
});

describe('hutchPlusPlus', () => {
  it('is exact for a matrix of rank below its sketch size', async () => {
    const rng = new Rng(33);
    const n = 40;
    const lambdas = Array.from({ length: n }, (_, i) => (i < 4 ? 10 / (i + 1) : 0));
    const op = denseOperator(matrixWithSpectrum(lambdas, rng), n);
    const est = await hutchPlusPlus(op, { products: 18, rng });
    // 6 sketch products, 4 for tr(QᵀAQ) (the sketch has rank 4), 6 Hutchinson probes
    expect(est.products).toBe(16);
    expect(est.value).toBeCloseTo(10 * (1 + 1 / 2 + 1 / 3 + 1 / 4), 8);
  });

  it('beats Hutchinson at the same number of products when the spectrum decays fast', async () => {
    const rng = new Rng(34);
    const n = 80;
    const lambdas = Array.from({ length: n }, (_, i) => 100 / (i + 1) ** 2);
    const op = denseOperator(matrixWithSpectrum(lambdas, rng), n);
    const exact = lambdas.reduce((s, v) => s + v, 0);
    let errH = 0;
    let errPP = 0;
    let within = 0;
    const reps = 20;
    for (let r = 0; r < reps; r++) {
      const h = await hutchinson(op, { probes: 30, rng });
      const pp = await hutchPlusPlus(op, { products: 30, rng });
      errH += (h.value - exact) ** 2;
      errPP += (pp.value - exact) ** 2;
      if (Math.abs(pp.value - exact) < 3 * pp.stderr) within++;
    }
    expect(errPP).toBeLessThan(errH / 10);
    expect(within).toBeGreaterThanOrEqual(reps - 3);
  });
});

describe('trace estimators in blocks', () => {
  const rng = new Rng(35);
  const n = 30;
  const matrix = matrixWithSpectrum(Array.from({ length: n }, (_, i) => 5 / (i + 1) - 0.3), rng);

  it('give the same numbers as one product at a time, for any block size', async () => {
    for (const blockSize of [2, 7, 64]) {
      const single = denseOperator(matrix, n);
      const block = denseOperator(matrix, n, { blockSize });
      const h1 = await hutchinson(single, { probes: 20, rng: new Rng(36) });
      const hb = await hutchinson(block, { probes: 20, rng: new Rng(36) });
      expect(hb.value).toBe(h1.value);
      expect(hb.stderr).toBe(h1.stderr);
      expect([h1.products, h1.blocks, hb.products, hb.blocks]).toEqual([20, 20, 20, Math.ceil(20 / blockSize)]);
      const p1 = await hutchPlusPlus(single, { products: 21, rng: new Rng(37) });
      const pb = await hutchPlusPlus(block, { products: 21, rng: new Rng(37) });
      expect(pb.value).toBe(p1.value);
      expect(pb.stderr).toBe(p1.stderr);
      // 7 sketch products, 7 for tr(QᵀAQ), 7 probes: three blocked thirds
      expect([p1.products, p1.blocks, pb.products, pb.blocks]).toEqual([21, 21, 21, 3 * Math.ceil(7 / blockSize)]);
    }
  });

  it('take a block size smaller than the operator’s when asked (1: one product at a time)', async () => {
    const op = denseOperator(matrix, n, { blockSize: 8 });
    const est = await hutchinson(op, { probes: 10, rng: new Rng(38), blockSize: 1 });
    expect(est.blocks).toBe(10);
    const ref = await hutchinson(denseOperator(matrix, n), { probes: 10, rng: new Rng(38) });
    expect(est.value).toBe(ref.value);
  });
});
