import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import type { ParamSpec } from '@goldstone/plugin-api';
import { isBias, normalizeDirection, norm, randomDirections } from './directions';

const specs: ParamSpec[] = [
  { name: 'dense0.weight', shape: [3, 4] },
  { name: 'dense0.bias', shape: [4] },
  { name: 'norm.gain', shape: [4] },
  { name: 'conv.weight', shape: [2, 2, 3, 5] },
];
const size = 12 + 4 + 4 + 60;

/** The elements of unit j of a tensor of `units` output units at `off` of length `count`. */
function unit(a: Float32Array, off: number, count: number, units: number, j: number): number[] {
  return Array.from({ length: count / units }, (_, k) => a[off + j + k * units]);
}

describe('filter normalisation', () => {
  it('rescales each output unit (last axis) to the norm of the matching block of the weights', () => {
    const rng = new Rng(4);
    const w = rng.normalArray(size);
    const d = normalizeDirection(rng.normalArray(size), w, specs, { normalization: 'filter', zeroBiases: false, zeroNorms: false });
    for (let j = 0; j < 4; j++) expect(norm(unit(d, 0, 12, 4, j))).toBeCloseTo(norm(unit(w, 0, 12, 4, j)), 5);
    for (let j = 0; j < 5; j++) expect(norm(unit(d, 20, 60, 5, j))).toBeCloseTo(norm(unit(w, 20, 60, 5, j)), 5);
    // vectors: each element is its own unit
    for (let i = 12; i < 20; i++) expect(Math.abs(d[i])).toBeCloseTo(Math.abs(w[i]), 6);
  });

  it('zeroes biases and norm parameters when asked, and leaves zero weights a zero direction', () => {
    const rng = new Rng(5);
    const w = rng.normalArray(size);
    w.fill(0, 0, 12);
    const d = normalizeDirection(rng.normalArray(size), w, specs, { normalization: 'filter', zeroBiases: true, zeroNorms: true });
    expect(Array.from(d.subarray(0, 20)).every((v) => v === 0)).toBe(true);
    expect(norm(d.subarray(20))).toBeGreaterThan(0);
  });

  it('layer normalisation matches whole tensors; none leaves the draw alone', () => {
    const rng = new Rng(6);
    const w = rng.normalArray(size);
    const raw = rng.normalArray(size);
    const d = normalizeDirection(Float32Array.from(raw), w, specs, { normalization: 'layer', zeroBiases: false, zeroNorms: false });
    expect(norm(d.subarray(0, 12))).toBeCloseTo(norm(w.subarray(0, 12)), 5);
    expect(norm(d.subarray(20))).toBeCloseTo(norm(w.subarray(20)), 5);
    const n = normalizeDirection(Float32Array.from(raw), w, specs, { normalization: 'none', zeroBiases: false, zeroNorms: false });
    expect(Array.from(n)).toEqual(Array.from(raw));
  });

  it('random directions are seeded and do not depend on the weights other than by rescaling', () => {
    const w = new Rng(1).normalArray(size);
    const opts = { normalization: 'none' as const, zeroBiases: false, zeroNorms: false };
    const [a1, a2] = randomDirections(2, w, specs, new Rng(3), opts);
    const [b1] = randomDirections(2, Float32Array.from(w, (v) => 2 * v), specs, new Rng(3), opts);
    expect(Array.from(a1)).toEqual(Array.from(b1));
    expect(Array.from(a1)).not.toEqual(Array.from(a2));
  });

  it('recognises biases by name', () => {
    for (const n of ['bias', 'b', 'b1', 'dense0.bias', 'layer.b2']) expect(isBias(n)).toBe(true);
    for (const n of ['W1', 'dense0.weight', 'norm.gain', 'alpha', 'embedding']) expect(isBias(n)).toBe(false);
  });
});
