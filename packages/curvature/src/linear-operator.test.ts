import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { denseMatrix } from './dense-hessian';
import {
  applyBlock,
  blockSizeOf,
  checkDeterministic,
  curvatureBlockSize,
  curvatureOperator,
  MAX_BLOCK_SIZE,
  denseOperator,
  paramRanges,
  rayleighQuotient,
  type LinearOperator,
} from './linear-operator';
import { disposeParams, Rng } from '@goldstone/core';
import type { Params, ModelInstance } from '@goldstone/plugin-api';
import { tanhMlp, worstColumn } from '@goldstone/core/test-support';

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

/**
 * The linear model with block products of its own: for MSE the Hessian (= the Gauss–Newton
 * matrix) is 2XᵀX/(N·c) ⊗ I_c, applied to k directions at once; other losses have no rules (null).
 */
function linearModelWithBlocks(d: number, c: number): ModelInstance & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    specs: [{ name: 'w', shape: [d, c] }],
    paramCount: d * c,
    init: (rng) => ({ w: tf.tensor(rng.normalArray(d * c), [d, c]) }),
    apply: (p, x) => tf.matMul(x as tf.Tensor2D, p.w as tf.Tensor2D),
    curvatureProducts: ({ x, loss, vectors }) => {
      if (loss !== 'mse') return null;
      const k = vectors.shape[0];
      calls.push(k);
      return tf.tidy(() => {
        const g = tf.div(tf.mul(2, tf.matMul(x as tf.Tensor2D, x as tf.Tensor2D, true, false)), x.shape[0] * c);
        const v = tf.reshape(tf.transpose(tf.reshape(vectors, [k, d, c]), [1, 0, 2]), [d, k * c]);
        return tf.reshape(tf.transpose(tf.reshape(tf.matMul(g as tf.Tensor2D, v as tf.Tensor2D), [d, k, c]), [1, 0, 2]), [k, d * c]) as tf.Tensor2D;
      });
    },
  };
}

describe('curvatureOperator block products', () => {
  const d = 6;
  const c = 2;
  function data(rng: Rng, n: number) {
    return { x: tf.tensor(rng.normalArray(n * d), [n, d]), y: tf.tensor(rng.normalArray(n * c), [n, c]) };
  }

  it("uses the model's curvatureProducts, weighted by batch and restricted like apply, equal to double backprop", () => {
    const before = tf.memory().numTensors;
    const rng = new Rng(71);
    const model = linearModelWithBlocks(d, c);
    const params = model.init(rng);
    const batches = [data(rng, 5), data(rng, 9)];
    const plain: ModelInstance = { ...model, curvatureProducts: undefined };
    for (const kind of ['hessian', 'ggn'] as const) {
      for (const restrictTo of [undefined, ['w']]) {
        const op = curvatureOperator({ model, loss: 'mse', params, data: batches, kind, restrictTo });
        const ref = curvatureOperator({ model: plain, loss: 'mse', params, data: batches, kind, restrictTo });
        expect(op.blockSize).toBeGreaterThan(1);
        expect(ref.blockSize).toBe(1);
        const vs = Array.from({ length: 7 }, () => Float64Array.from(rng.normalArray(op.dim)));
        model.calls.length = 0;
        const block = applyBlock(op, vs);
        expect(model.calls).toEqual([7, 7]); // one pass per batch for the whole block
        const single = vs.map((v) => op.apply(v));
        const reference = vs.map((v) => ref.apply(v));
        const refBlock = applyBlock(ref, vs); // the fallback: one double-backprop product after another
        expect(worstColumn(block, reference), 'block against double backprop').toBeLessThan(1e-5);
        expect(worstColumn(single, block), 'apply against applyBlock').toBeLessThan(1e-5);
        expect(worstColumn(refBlock, reference), 'fallback block against apply').toBe(0);
        expect(op.products).toBe(14);
        op.dispose();
        ref.dispose();
      }
    }
    for (const b of batches) tf.dispose([b.x, b.y]);
    disposeParams(params);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('splits a block larger than blockSize into passes of at most blockSize', () => {
    const rng = new Rng(72);
    const model = linearModelWithBlocks(d, c);
    const params = model.init(rng);
    const b = data(rng, 4);
    const op = curvatureOperator({ model, loss: 'mse', params, data: b });
    const k = op.blockSize!;
    model.calls.length = 0;
    const out = op.applyBlock!(Array.from({ length: 2 * k + 1 }, () => Float64Array.from(rng.normalArray(op.dim))));
    expect(out).toHaveLength(2 * k + 1);
    expect(model.calls).toEqual([k, k, 1]);
    op.dispose();
    tf.dispose([b.x, b.y]);
    disposeParams(params);
  });

  it('falls back to double backprop when the model has no rules (null) or an objective is given', () => {
    const rng = new Rng(73);
    const model = linearModelWithBlocks(d, c);
    const params = model.init(rng);
    const b = { x: tf.tensor(rng.normalArray(4 * d), [4, d]), y: tf.tensor([0, 1, 1, 0, 1, 0, 0, 1], [4, c]) };
    const objective = (p: Params, x: tf.Tensor, y: tf.Tensor) => tf.tidy(() => tf.mean(tf.square(tf.sub(model.apply(p, x), y))) as tf.Scalar);
    for (const op of [
      curvatureOperator({ model, loss: 'softmax-cross-entropy', params, data: b }),
      curvatureOperator({ model, loss: 'mse', params, data: b, objective }),
    ]) {
      model.calls.length = 0;
      expect(op.blockSize).toBe(1);
      const vs = [Float64Array.from(rng.normalArray(op.dim)), Float64Array.from(rng.normalArray(op.dim))];
      const block = op.applyBlock!(vs);
      expect(block.map((r) => Array.from(r))).toEqual(vs.map((v) => Array.from(op.apply(v))));
      expect(model.calls).toEqual([]);
      op.dispose();
    }
    tf.dispose([b.x, b.y]);
    disposeParams(params);
  });

  it('sizes blocks from the memory budget: k·batch·width and k·n floats within 16M, at most MAX_BLOCK_SIZE', () => {
    const specs = [{ name: 'a', shape: [64, 192] }, { name: 'b', shape: [192] }];
    expect(curvatureBlockSize(specs, 128)).toBe(MAX_BLOCK_SIZE);
    expect(curvatureBlockSize(specs, 2048)).toBe(Math.floor((16 * 1024 * 1024) / (2048 * 192)));
    expect(curvatureBlockSize([{ name: 'w', shape: [4000, 1000] }], 1)).toBe(4);
    expect(curvatureBlockSize([{ name: 'w', shape: [1e5, 1e3] }], 1)).toBe(1);
    expect(blockSizeOf(denseOperator([[1]], 1, { blockSize: 9 }), 4)).toBe(4);
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
