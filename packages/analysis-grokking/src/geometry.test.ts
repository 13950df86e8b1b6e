import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { effectiveLoss, effectiveLossTensor, idealParallelograms, rqi, standardize, trainParallelograms } from './geometry';
import { allPairs } from './ideal';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Eᵢ = a·i + b, row-major [p, d]. */
const linear = (p: number, a: number[], b: number[]) => Float64Array.from({ length: p * a.length }, (_, k) => a[k % a.length] * Math.floor(k / a.length) + b[k % a.length]);

describe('standardize', () => {
  it('gives mean 0 and unbiased std 1 per dimension', () => {
    const E = [1, 10, 2, 20, 4, 40, 8, 80];
    const s = standardize(E, 4, 2);
    for (const k of [0, 1]) {
      const col = [0, 1, 2, 3].map((i) => s[i * 2 + k]);
      const m = col.reduce((a, v) => a + v, 0) / 4;
      expect(m).toBeCloseTo(0, 12);
      expect(col.reduce((a, v) => a + (v - m) ** 2, 0) / 3).toBeCloseTo(1, 12);
    }
    // both columns are the same shape up to scale, so they standardise alike
    expect(s[0]).toBeCloseTo(s[1], 12);
  });

  it('turns a dimension with no spread into NaN, as torch does (and RQI then counts no parallelogram)', () => {
    const s = standardize([1, 1, 1], 3, 1);
    expect(Number.isNaN(s[0])).toBe(true);
    expect(rqi([1, 1, 1, 1], 4, 1)).toBe(0);
  });
});

describe('ideal parallelograms and RQI', () => {
  it('lists the toy\'s quadruples: 3 on 4 symbols, by hand', () => {
    expect(idealParallelograms(4)).toEqual([
      [0, 2, 1, 1],
      [0, 3, 1, 2],
      [1, 3, 2, 2],
    ]);
    for (const [i, n, j, m] of idealParallelograms(10)) {
      expect(i + n).toBe(j + m);
      expect(i < j && j <= m && m < n).toBe(true);
    }
  });

  it('is 1 for a linear embedding Eᵢ = a·i + b, in d = 1 and d = 2', () => {
    expect(rqi(linear(10, [0.3], [-1]), 10, 1)).toBe(1);
    expect(rqi(linear(10, [0.3, -2], [-1, 5]), 10, 2)).toBe(1);
  });

  it('counts only the parallelograms that avoid a displaced symbol', () => {
    const E = linear(4, [1], [0]);
    E[3] += 5; // symbol 3 is in two of the three quadruples
    expect(rqi(E, 4, 1)).toBeCloseTo(1 / 3, 12);
    const F = linear(10, [1, 0.5], [0, 1]);
    F[7 * 2] += 3;
    F[7 * 2 + 1] -= 3;
    const quads = idealParallelograms(10);
    const without7 = quads.filter((q) => !q.includes(7)).length;
    expect(rqi(F, 10, 2)).toBeCloseTo(without7 / quads.length, 12);
    expect(without7).toBeLessThan(quads.length);
  });

  it('uses the threshold on mean_d of the squared residual', () => {
    const E = linear(4, [1], [0]);
    E[3] += 0.05; // standardised residual² of the two quadruples with 3 is about 0.0016 < 0.01
    expect(rqi(E, 4, 1)).toBe(1);
    expect(rqi(E, 4, 1, 1e-4)).toBeCloseTo(1 / 3, 12);
  });
});

describe('effective loss', () => {
  it('P0(D) pairs train pairs with equal sums', () => {
    expect(trainParallelograms([[0, 3], [1, 2], [0, 1], [4, 4]])).toEqual([[0, 3, 1, 2]]);
    expect(trainParallelograms(allPairs(10))).toHaveLength(70);
  });

  it('is 0 for a linear embedding and positive otherwise', () => {
    const P = trainParallelograms(allPairs(10));
    const E = standardize(linear(10, [0.3, 1], [2, -1]), 10, 2);
    expect(effectiveLoss(E, 10, 2, P)).toBeCloseTo(0, 20);
    const F = Float64Array.from(E);
    F[4] += 0.5;
    expect(effectiveLoss(F, 10, 2, P)).toBeGreaterThan(0);
    expect(effectiveLoss(F, 10, 2, [])).toBe(0);
  });

  it('the tensor version equals the host one on the standardised embedding, and its gradient matches central differences', () => {
    const rng = new Rng(3);
    const n = 10;
    const d = 2;
    const E0 = Float64Array.from(rng.uniformArray(n * d, -0.5, 0.5));
    const P = trainParallelograms(allPairs(10).filter((_, i) => i % 3 !== 0));
    const host = (E: Float64Array) => effectiveLoss(standardize(E, n, d), n, d, P);
    const before = tf.memory().numTensors;
    const idx = [0, 1, 2, 3].map((c) => tf.tensor1d(P.map((q) => q[c]), 'int32')) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const E = tf.tensor2d(Float32Array.from(E0), [n, d]);
    const value = effectiveLossTensor(E, idx);
    expect(value.dataSync()[0]).toBeCloseTo(host(E0), 4);
    const g = tf.grad((e: tf.Tensor) => effectiveLossTensor(e as tf.Tensor2D, idx))(E);
    const grad = g.dataSync();
    const h = 1e-5;
    for (let k = 0; k < n * d; k++) {
      const plus = Float64Array.from(E0);
      const minus = Float64Array.from(E0);
      plus[k] += h;
      minus[k] -= h;
      const fd = (host(plus) - host(minus)) / (2 * h);
      expect(Math.abs(grad[k] - fd)).toBeLessThan(1e-3 * (1 + Math.abs(fd)));
    }
    tf.dispose([value, g, E, ...idx]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
