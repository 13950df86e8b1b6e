import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { denseMatrix } from './dense-hessian';
import {
  checkDeterministic,
  curvatureOperator,
  denseOperator,
  paramRanges,
  rayleighQuotient,
  type LinearOperator,
} from './linear-operator';
import { disposeParams, Rng } from '@goldstone/core';
import type { Params, ModelInstance } from '@goldstone/plugin-api';
import { tanhMlp } from '@goldstone/core/test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** y = x·W (no bias), one output: the mean squared error has Hessian 2XᵀX/N exactly. */
function linearModel(d: number): ModelInstance {
  return {
    specs: [{ name: 'w', shape: [d, 1] }],
    paramCount: d,
    init: (rng) => ({ w: tf.tensor(rng.normalArray(d), [d, 1]) }),
    apply: (p, x) => tf.matMul(x as tf.Tensor2D, p.w as tf.Tensor2D),
  };
}


function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scaleV = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scaleV = Math.max(scaleV, Math.abs(b[i]));
  }
  return diff / scaleV;
}

describe('curvatureOperator', () => {
  it('is the analytic Hessian 2XᵀX/N of linear regression', async () => {
    const rng = new Rng(1);
    const N = 40;
    const d = 6;
    const model = linearModel(d);
    const params = model.init(rng);
    const xs = rng.normalArray(N * d);
    const x = tf.tensor(xs, [N, d]);
    const y = tf.tensor(rng.normalArray(N), [N, 1]);
    const op = curvatureOperator({ model, loss: 'mse', params, data: { x, y } });
    const H = await denseMatrix(op);
    const ref = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < N; k++) s += xs[k * d + i] * xs[k * d + j];
      ref[i * d + j] = (2 * s) / N;
    }
    expect(H.products).toBe(d);
    expect(maxRelDiff(H.values, ref)).toBeLessThan(1e-5);
    // the Gauss–Newton matrix of a linear model under MSE is the Hessian
    const ggn = curvatureOperator({ model, loss: 'mse', params, data: { x, y }, kind: 'ggn' });
    expect(maxRelDiff((await denseMatrix(ggn)).values, ref)).toBeLessThan(1e-5);
    // an objective in place of the loss: the loss plus (c/2)‖w‖² has Hessian 2XᵀX/N + c·I
    const c = 0.3;
    const objective = (p: Params, xb: tf.Tensor, yb: tf.Tensor) =>
      tf.tidy(() => tf.add(tf.mean(tf.square(tf.sub(model.apply(p, xb), yb))), tf.mul(tf.sum(tf.square(p.w)), c / 2)) as tf.Scalar);
    const shifted = curvatureOperator({ model, loss: 'mse', params, data: { x, y }, objective });
    expect(maxRelDiff((await denseMatrix(shifted)).values, ref.map((v, k) => v + (k % (d + 1) === 0 ? c : 0)))).toBeLessThan(1e-5);
    expect(() => curvatureOperator({ model, loss: 'mse', params, data: { x, y }, objective, kind: 'ggn' })).toThrow(/hessian only/);
    shifted.dispose();
    op.dispose();
    ggn.dispose();
    tf.dispose([x, y]);
    disposeParams(params);
  });

  it('gives the Gauss–Newton product Jᵀ(2/N)J of a tanh MLP under MSE', async () => {
    const rng = new Rng(2);
    const model = tanhMlp([3, 4, 1]);
    const params = model.init(rng);
    const N = 5;
    const x = tf.tensor(rng.normalArray(N * 3), [N, 3]);
    const y = tf.tensor(rng.normalArray(N), [N, 1]);
    const op = curvatureOperator({ model, loss: 'mse', params, data: { x, y }, kind: 'ggn' });
    const G = (await denseMatrix(op)).values;
    // J row by row: the gradient of each output with respect to the flat parameters
    const n = model.paramCount;
    const J: Float32Array[] = [];
    for (let k = 0; k < N; k++) {
      const row = tf.tidy(() => {
        const names = model.specs.map((s) => s.name);
        const gs = tf.grads((...ts: tf.Tensor[]) => {
          const p: Params = {};
          names.forEach((nm, i) => (p[nm] = ts[i]));
          return tf.sum(tf.slice(tf.reshape(model.apply(p, x), [-1]), [k], [1])) as tf.Scalar;
        })(names.map((nm) => params[nm]));
        return tf.concat(gs.map((g) => tf.reshape(g, [-1])));
      });
      J.push(row.dataSync() as Float32Array);
      row.dispose();
    }
    const ref = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < N; k++) s += J[k][i] * J[k][j];
      ref[i * n + j] = (2 * s) / N;
    }
    expect(maxRelDiff(G, ref)).toBeLessThan(1e-5);
    op.dispose();
    tf.dispose([x, y]);
    disposeParams(params);
  });

  it('restricts to a parameter subset: the sub-block of the full Hessian', async () => {
    const rng = new Rng(3);
    const model = tanhMlp([3, 4, 2]);
    const params = model.init(rng);
    const x = tf.tensor(rng.normalArray(8 * 3), [8, 3]);
    const y = tf.tensor(rng.normalArray(16), [8, 2]);
    const full = curvatureOperator({ model, loss: 'mse', params, data: { x, y } });
    const sub = curvatureOperator({ model, loss: 'mse', params, data: { x, y }, restrictTo: ['w1', 'b0'] });
    const ranges = paramRanges(model.specs, ['w1', 'b0']);
    expect(ranges.map((r) => r.name)).toEqual(['b0', 'w1']);
    const idx = ranges.flatMap((r) => Array.from({ length: r.size }, (_, i) => r.offset + i));
    expect(sub.dim).toBe(idx.length);
    const H = (await denseMatrix(full)).values;
    const S = (await denseMatrix(sub)).values;
    const n = full.dim;
    const ref = new Float64Array(idx.length ** 2);
    idx.forEach((i, a) => idx.forEach((j, b) => (ref[a * idx.length + b] = H[i * n + j])));
    expect(maxRelDiff(S, ref)).toBeLessThan(1e-6);
    full.dispose();
    sub.dispose();
    tf.dispose([x, y]);
    disposeParams(params);
  });

  it('averages fixed batches by size: the same operator as the whole set at once', () => {
    const rng = new Rng(4);
    const model = tanhMlp([2, 5, 1]);
    const params = model.init(rng);
    const xs = rng.normalArray(10 * 2);
    const ys = rng.normalArray(10);
    const x = tf.tensor(xs, [10, 2]);
    const y = tf.tensor(ys, [10, 1]);
    const whole = curvatureOperator({ model, loss: 'mse', params, data: { x, y } });
    const parts = [
      { x: tf.tensor(xs.slice(0, 14), [7, 2]), y: tf.tensor(ys.slice(0, 7), [7, 1]) },
      { x: tf.tensor(xs.slice(14), [3, 2]), y: tf.tensor(ys.slice(7), [3, 1]) },
    ];
    const batched = curvatureOperator({ model, loss: 'mse', params, data: parts });
    const v = Float64Array.from(rng.normalArray(model.paramCount));
    expect(maxRelDiff(batched.apply(v), whole.apply(v))).toBeLessThan(1e-5);
    expect(batched.products).toBe(1);
    whole.dispose();
    batched.dispose();
    tf.dispose([x, y, ...parts.flatMap((p) => [p.x, p.y])]);
    disposeParams(params);
  });

  it('keeps no tensors between products and frees its own on dispose', () => {
    const rng = new Rng(5);
    const model = tanhMlp([3, 6, 2]);
    const params = model.init(rng);
    const x = tf.tensor(rng.normalArray(12), [4, 3]);
    const y = tf.tensor(rng.normalArray(8), [4, 2]);
    const base = tf.memory().numTensors;
    const op = curvatureOperator({ model, loss: 'mse', params, data: { x, y } });
    const v = Float64Array.from(rng.normalArray(model.paramCount));
    op.apply(v);
    const afterOne = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) op.apply(v);
    expect(tf.memory().numTensors).toBe(afterOne);
    op.dispose();
    expect(tf.memory().numTensors).toBe(base);
    expect(() => op.apply(v)).toThrow(/after dispose/);
    tf.dispose([x, y]);
    disposeParams(params);
  });
});

describe('checkDeterministic', () => {
  it('passes a fixed operator and rejects one whose products change', () => {
    const rng = new Rng(6);
    const A = denseOperator([
      [2, 1],
      [1, 3],
    ]);
    expect(checkDeterministic(A, rng).maxAbsDiff).toBe(0);
    const noise = new Rng(7);
    const noisy: LinearOperator = {
      dim: 2,
      products: 0,
      apply: (v) => {
        const out = A.apply(v);
        out[0] += 1e-6 * noise.normal();
        return out;
      },
      dispose: () => {},
    };
    expect(() => checkDeterministic(noisy, rng)).toThrow(/not a fixed matrix/);
  });

  it('rayleighQuotient is vᵀAv/‖v‖²', () => {
    const A = denseOperator([
      [2, 1],
      [1, 3],
    ]);
    expect(rayleighQuotient(A, Float64Array.from([2, 0]))).toBeCloseTo(2, 12);
    expect(rayleighQuotient(A, Float64Array.from([1, 1]))).toBeCloseTo(3.5, 12);
  });
});
