import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { denseMatrix, exactSpectrum, symmetricEigen } from './dense-hessian';
import { curvatureOperator, denseOperator, dot } from './linear-operator';
import { disposeParams, Rng } from '@goldstone/core';
import type { ModelInstance } from '@goldstone/plugin-api';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('denseMatrix / symmetricEigen', () => {
  it('recovers a symmetric matrix and its eigenpairs (A v = λ v, Σλ = tr A)', async () => {
    const rng = new Rng(51);
    const n = 30;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    const op = denseOperator(a, n);
    const m = await denseMatrix(op);
    expect(m.products).toBe(n);
    expect(m.asymmetry).toBe(0);
    expect(Array.from(m.values)).toEqual(Array.from(a));
    const eig = await symmetricEigen(m);
    let tr = 0;
    for (let i = 0; i < n; i++) tr += a[i * n + i];
    expect(eig.values.reduce((s, v) => s + v, 0)).toBeCloseTo(tr, 10);
    for (let i = 1; i < n; i++) expect(eig.values[i]).toBeGreaterThanOrEqual(eig.values[i - 1]);
    for (const i of [0, 7, n - 1]) {
      const v = eig.vector(i);
      const av = op.apply(v);
      expect(dot(v, v)).toBeCloseTo(1, 10);
      for (let k = 0; k < n; k++) expect(av[k]).toBeCloseTo(eig.values[i] * v[k], 9);
    }
  });

  it('takes its columns in blocks of blockSize: the same matrix, onColumn for every column in order', async () => {
    const rng = new Rng(53);
    const n = 23;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    const one = await denseMatrix(denseOperator(a, n));
    for (const blockSize of [2, 5, 23, 64]) {
      const op = denseOperator(a, n, { blockSize });
      const blocks: number[] = [];
      const counted = { ...op, dim: op.dim, get products() { return op.products; }, applyBlock: (vs: readonly Float64Array[]) => { blocks.push(vs.length); return op.applyBlock!(vs); } };
      const columns: number[] = [];
      const m = await denseMatrix(counted, (j) => columns.push(j));
      expect(Array.from(m.values)).toEqual(Array.from(one.values));
      expect(columns).toEqual(Array.from({ length: n }, (_, j) => j));
      expect(m.products).toBe(n);
      const k = Math.min(blockSize, n);
      const last = n % k;
      expect(blocks.filter((b) => b > 1)).toEqual([...Array(Math.floor(n / k)).fill(k), ...(last > 1 ? [last] : [])]);
    }
  });

  it('gives the analytic spectrum of linear regression: eigenvalues of 2XᵀX/N', async () => {
    const rng = new Rng(52);
    const N = 200;
    // columns of X scaled so that XᵀX/N ≈ diag(s²)
    const s = [3, 2, 1, 0.5];
    const d = s.length;
    const xs = new Float32Array(N * d);
    for (let k = 0; k < N; k++) for (let j = 0; j < d; j++) xs[k * d + j] = s[j] * rng.normal();
    const model: ModelInstance = {
      specs: [{ name: 'w', shape: [d, 1] }],
      paramCount: d,
      init: () => ({ w: tf.zeros([d, 1]) }),
      apply: (p, x) => tf.matMul(x as tf.Tensor2D, p.w as tf.Tensor2D),
    };
    const params = model.init(rng);
    const x = tf.tensor(xs, [N, d]);
    const y = tf.tensor(rng.normalArray(N), [N, 1]);
    const op = curvatureOperator({ model, loss: 'mse', params, data: { x, y } });
    const { eigen } = await exactSpectrum(op);
    // reference: eigenvalues of 2XᵀX/N computed in float64 on the host
    const G = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      let acc = 0;
      for (let k = 0; k < N; k++) acc += xs[k * d + i] * xs[k * d + j];
      G[i * d + j] = (2 * acc) / N;
    }
    const ref = (await symmetricEigen({ n: d, values: G })).values;
    eigen.values.forEach((v, i) => expect(Math.abs(v - ref[i]) / ref[d - 1]).toBeLessThan(1e-5));
    op.dispose();
    tf.dispose([x, y]);
    disposeParams(params);
  });
});
