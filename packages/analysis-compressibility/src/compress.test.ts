import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { descriptionLength, log2Binomial } from './description-length';
import { autoRanks, svdOf, truncateRank } from './low-rank';
import { magnitudePrune, sparsityOf, type Slot } from './pruning';
import { quantizeUniform } from './quantization';

const slot = (name: string, offset: number, size: number): Slot => ({ name, offset, size, shape: [size] });

describe('magnitudePrune', () => {
  it('zeroes the smallest magnitudes, globally or per tensor', () => {
    const v = Float32Array.from([0.1, -5, 0.2, 3, -0.05, 4, 0.3, 9]);
    const slots = [slot('a', 0, 4), slot('b', 4, 4)];
    expect(Array.from(magnitudePrune(v, slots, 0.5, 'global'))).toEqual(Array.from(Float32Array.from([0, -5, 0, 3, 0, 4, 0, 9])));
    expect(Array.from(magnitudePrune(v, slots, 0.25, 'layer'))).toEqual(Array.from(Float32Array.from([0, -5, 0.2, 3, 0, 4, 0.3, 9])));
    expect(sparsityOf(magnitudePrune(v, slots, 1, 'global'), slots)).toBe(1);
    expect(Array.from(magnitudePrune(v, slots, 0, 'global'))).toEqual(Array.from(v));
  });
  it('changes nothing when the pruned weights are already exactly zero', () => {
    const rng = new Rng(3);
    const v = rng.normalArray(100);
    for (let i = 0; i < 100; i += 2) v[i] = 0;
    const slots = [slot('w', 0, 100)];
    for (const s of [0.1, 0.3, 0.5]) expect(Array.from(magnitudePrune(v, slots, s, 'global'))).toEqual(Array.from(v));
    expect(sparsityOf(magnitudePrune(v, slots, 0.6, 'global'), slots)).toBeCloseTo(0.6);
  });
  it('leaves values outside the slots alone', () => {
    const v = Float32Array.from([1, 2, 0.1, 0.2]);
    expect(Array.from(magnitudePrune(v, [slot('w', 0, 2)], 1, 'global'))).toEqual(Array.from(Float32Array.from([0, 0, 0.1, 0.2])));
  });
});

describe('quantizeUniform', () => {
  it('at 32 bits changes no value by more than max|w|·2⁻³¹, and keeps zero and the extremes exact', () => {
    const v = new Rng(1).normalArray(1000);
    v[3] = 0;
    const max = Math.max(...Array.from(v, Math.abs));
    const q = quantizeUniform(v, 32).values;
    for (let i = 0; i < v.length; i++) expect(Math.abs(q[i] - v[i])).toBeLessThanOrEqual(max * 2 ** -31 + Math.abs(v[i]) * 2 ** -24);
    expect(q[3]).toBe(0);
    const iMax = Array.from(v, Math.abs).indexOf(max);
    expect(q[iMax]).toBe(v[iMax]);
  });
  it('at b bits uses at most 2^b − 1 distinct values with error ≤ step/2', () => {
    const v = new Rng(2).normalArray(500);
    for (const bits of [2, 3, 4, 8]) {
      const { values, step } = quantizeUniform(v, bits);
      expect(new Set(values).size).toBeLessThanOrEqual(2 ** bits - 1);
      for (let i = 0; i < v.length; i++) expect(Math.abs(values[i] - v[i])).toBeLessThanOrEqual(step / 2 + 1e-6);
    }
    expect(Array.from(quantizeUniform(Float32Array.from([-1, 0.4, 0.6, 1]), 2).values)).toEqual([-1, 0, 1, 1]);
  });
});

describe('truncateRank', () => {
  it('returns a rank-r matrix unchanged at rank r, and the Eckart–Young error below it', () => {
    const rng = new Rng(4);
    const rows = 7;
    const cols = 5;
    const a = rng.normalArray(rows * 2);
    const b = rng.normalArray(2 * cols);
    const m = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m[i * cols + j] = a[i * 2] * b[j] + a[i * 2 + 1] * b[cols + j];
    const svd = svdOf(m, rows, cols);
    expect(svd.s[2]).toBeLessThan(1e-5 * svd.s[0]);
    const t2 = truncateRank(svd, rows, cols, 2);
    for (let i = 0; i < m.length; i++) expect(t2[i]).toBeCloseTo(m[i], 5);
    const t1 = truncateRank(svd, rows, cols, 1);
    let err = 0;
    for (let i = 0; i < m.length; i++) err += (t1[i] - m[i]) ** 2;
    expect(Math.sqrt(err)).toBeCloseTo(svd.s[1], 4);
  });
  it('sweeps 1, 2, 4, … and full rank', () => {
    expect(autoRanks(8)).toEqual([1, 2, 4, 8]);
    expect(autoRanks(6)).toEqual([1, 2, 4, 6]);
    expect(autoRanks(1)).toEqual([1]);
  });
});

describe('description length', () => {
  it('log₂ C(n, k) matches the exact binomial', () => {
    const binom = (n: number, k: number) => {
      let r = 1;
      for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
      return r;
    };
    for (const [n, k] of [[10, 3], [20, 10], [30, 0], [30, 30], [50, 7]]) expect(log2Binomial(n, k)).toBeCloseTo(Math.log2(binom(n, k)), 9);
  });
  it('counts positions, values and a step per quantised tensor', () => {
    const dl = descriptionLength([
      { name: 'w', size: 10, nonzero: 3, bits: 4 },
      { name: 'b', size: 2, nonzero: 2, bits: 32 },
    ]);
    expect(dl.bits).toBeCloseTo(log2Binomial(10, 3) + 12 + 32 + 64, 9);
  });
});
