import * as tf from '@tensorflow/tfjs-core';
import type { Rng, Split } from '@goldstone/plugin-api';
import { sizeOf } from './params';

function checkIndices(n: number, indices: ArrayLike<number>, where: string): void {
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    if (!Number.isInteger(k) || k < 0 || k >= n) {
      throw new RangeError(`${where}: index ${k} at position ${i} is outside 0..${n - 1}`);
    }
  }
}

/** Gather rows `indices` of a row-major host array with rows of `size` values. */
function gatherRows(src: Float32Array, size: number, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * size);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    out.set(src.subarray(k * size, (k + 1) * size), i * size);
  }
  return out;
}

/**
 * A split (or the rows `indices` of it, in that order) as tensors: `x` shaped `[n, ...xShape]`,
 * `y` shaped `[n, ...yShape]`. The caller owns both tensors.
 */
export function splitTensors(split: Split, indices?: ArrayLike<number>): { x: tf.Tensor; y: tf.Tensor } {
  const xs = sizeOf(split.xShape);
  const ys = sizeOf(split.yShape);
  if (indices === undefined) {
    return {
      x: tf.tensor(split.x, [split.n, ...split.xShape], 'float32'),
      y: tf.tensor(split.y, [split.n, ...split.yShape], 'float32'),
    };
  }
  checkIndices(split.n, indices, 'splitTensors');
  const m = indices.length;
  return {
    x: tf.tensor(gatherRows(split.x, xs, indices), [m, ...split.xShape], 'float32'),
    y: tf.tensor(gatherRows(split.y, ys, indices), [m, ...split.yShape], 'float32'),
  };
}

export interface BatchOptions {
  /** Visit the examples in a random order drawn from the rng (default true). */
  shuffle?: boolean;
  /** Drop a last batch smaller than `batchSize` (default false). */
  dropLast?: boolean;
}

/**
 * The mini-batches of one epoch over `n` examples, as arrays of example indices. With `shuffle`
 * the order is a permutation drawn from `rng` (the only source of data order); without it the
 * batches are 0..n-1 in order and `rng` is not touched.
 */
export function batchIndices(n: number, batchSize: number, rng: Rng, options: BatchOptions = {}): Int32Array[] {
  const { shuffle = true, dropLast = false } = options;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`batchIndices: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchIndices: batchSize must be a positive integer, got ${batchSize}`);
  }
  let order: Int32Array;
  if (shuffle) order = rng.permutation(n);
  else {
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  }
  const batches: Int32Array[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(start + batchSize, n);
    if (dropLast && end - start < batchSize) break;
    batches.push(order.slice(start, end));
  }
  return batches;
}

/** The rows `indices` of a split (in that order), as a new host split. */
export function subsetSplit(split: Split, indices: ArrayLike<number>): Split {
  checkIndices(split.n, indices, 'subsetSplit');
  return {
    n: indices.length,
    x: gatherRows(split.x, sizeOf(split.xShape), indices),
    y: gatherRows(split.y, sizeOf(split.yShape), indices),
    xShape: [...split.xShape],
    yShape: [...split.yShape],
  };
}

/**
 * The examples an estimate is computed on: all `n` (in order) when `n <= max`, else a seeded random
 * subset of `max` of them, in increasing index order. `rng` draws one permutation of `n`, and only
 * in the second case, so that a seed picks the same subset everywhere.
 */
export function sampleIndices(n: number, max: number, rng: Rng): { indices: number[]; subset: 'all' | 'random' } {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`sampleIndices: n must be a non-negative integer, got ${n}`);
  if (!(max >= 0)) throw new RangeError(`sampleIndices: max must be a non-negative number, got ${max}`);
  if (n <= max) return { indices: Array.from({ length: n }, (_, i) => i), subset: 'all' };
  return { indices: Array.from(rng.permutation(n).subarray(0, max)).sort((a, b) => a - b), subset: 'random' };
}

/**
 * The split itself when it has at most `max` examples, else the seeded random subset of
 * `sampleIndices` (in index order) as a new host split.
 */
export function sampleSplit(split: Split, max: number, rng: Rng): Split {
  if (split.n <= max) return split;
  return subsetSplit(split, sampleIndices(split.n, max, rng).indices);
}

/**
 * Shuffle `n` examples (host arrays, row-major, shapes per example) with `rng` and cut them into a
 * train and a test split; the test split gets `round(n * testFraction)` examples.
 */
export function trainTestSplit(
  x: Float32Array,
  y: Float32Array,
  shapes: { xShape: number[]; yShape: number[] },
  options: { testFraction: number; rng: Rng },
): { train: Split; test: Split } {
  const { testFraction, rng } = options;
  if (!(testFraction >= 0 && testFraction <= 1)) {
    throw new RangeError(`trainTestSplit: testFraction must be in [0, 1], got ${testFraction}`);
  }
  const xs = sizeOf(shapes.xShape);
  const ys = sizeOf(shapes.yShape);
  const n = x.length / xs;
  if (!Number.isInteger(n) || y.length !== n * ys) {
    throw new Error(
      `trainTestSplit: x has ${x.length} values and y ${y.length}, not a whole number of rows of [${shapes.xShape}] and [${shapes.yShape}]`,
    );
  }
  const all: Split = { n, x, y, xShape: shapes.xShape, yShape: shapes.yShape };
  const order = rng.permutation(n);
  const nTest = Math.round(n * testFraction);
  return { test: subsetSplit(all, order.subarray(0, nTest)), train: subsetSplit(all, order.subarray(nTest)) };
}
