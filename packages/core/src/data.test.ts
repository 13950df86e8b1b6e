import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchIndices, sampleIndices, sampleSplit, splitTensors, subsetSplit, trainTestSplit } from './data';
import type { Split } from '@goldstone/plugin-api';
import { Rng } from './rng';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** 5 examples, x of shape [2, 3] holding 100·i + j, y of shape [2] holding (i, −i). */
function makeSplit(n = 5): Split {
  const x = new Float32Array(n * 6);
  const y = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 6; j++) x[i * 6 + j] = 100 * i + j;
    y[i * 2] = i;
    y[i * 2 + 1] = -i;
  }
  return { n, x, y, xShape: [2, 3], yShape: [2] };
}

describe('splitTensors', () => {
  it('shapes a whole split as [n, ...xShape]', () => {
    const s = makeSplit();
    const { x, y } = splitTensors(s);
    expect(x.shape).toEqual([5, 2, 3]);
    expect(y.shape).toEqual([5, 2]);
    expect(Array.from(x.dataSync())).toEqual(Array.from(s.x));
    x.dispose();
    y.dispose();
  });

  it('gathers rows in the order given', () => {
    const s = makeSplit();
    const before = tf.memory().numTensors;
    const { x, y } = splitTensors(s, [3, 0, 3]);
    expect(x.shape).toEqual([3, 2, 3]);
    const xa = x.arraySync() as number[][][];
    expect(xa[0][1][2]).toBe(305);
    expect(xa[1][0][0]).toBe(0);
    expect(Array.from(y.dataSync())).toEqual([3, -3, 0, -0, 3, -3]);
    x.dispose();
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects out-of-range indices', () => {
    expect(() => splitTensors(makeSplit(), [5])).toThrow(/outside/);
    expect(() => splitTensors(makeSplit(), [-1])).toThrow(/outside/);
  });
});

describe('batchIndices', () => {
  it('covers every example exactly once per epoch', () => {
    const batches = batchIndices(23, 5, new Rng(1));
    expect(batches.map((b) => b.length)).toEqual([5, 5, 5, 5, 3]);
    const all = batches.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  it('drops a short last batch when asked', () => {
    expect(batchIndices(23, 5, new Rng(1), { dropLast: true }).map((b) => b.length)).toEqual([5, 5, 5, 5]);
    expect(batchIndices(20, 5, new Rng(1), { dropLast: true })).toHaveLength(4);
  });

  it('keeps the order without shuffle and leaves the rng untouched', () => {
    const rng = new Rng(7);
    const batches = batchIndices(7, 3, rng, { shuffle: false });
    expect(batches.map((b) => Array.from(b))).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(rng.uint32()).toBe(new Rng(7).uint32());
  });

  it('takes its order from the rng alone', () => {
    const a = batchIndices(50, 8, new Rng(3)).map((b) => Array.from(b));
    const b = batchIndices(50, 8, new Rng(3)).map((b) => Array.from(b));
    const c = batchIndices(50, 8, new Rng(4)).map((b) => Array.from(b));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.flat()).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('rejects bad sizes', () => {
    expect(() => batchIndices(10, 0, new Rng(1))).toThrow(/batchSize/);
    expect(() => batchIndices(-1, 2, new Rng(1))).toThrow(/n must/);
    expect(batchIndices(0, 4, new Rng(1))).toEqual([]);
  });
});

describe('subsetSplit / trainTestSplit', () => {
  it('subsets rows', () => {
    const s = subsetSplit(makeSplit(), [4, 1]);
    expect(s.n).toBe(2);
    expect(Array.from(s.x.subarray(0, 6))).toEqual([400, 401, 402, 403, 404, 405]);
    expect(Array.from(s.y)).toEqual([4, -4, 1, -1]);
    expect(s.xShape).toEqual([2, 3]);
  });

  it('partitions the examples, keeping x and y paired', () => {
    const base = makeSplit(10);
    const { train, test } = trainTestSplit(base.x, base.y, { xShape: [2, 3], yShape: [2] }, { testFraction: 0.3, rng: new Rng(9) });
    expect(test.n).toBe(3);
    expect(train.n).toBe(7);
    const ids: number[] = [];
    for (const s of [train, test]) {
      for (let i = 0; i < s.n; i++) {
        const id = s.y[i * 2];
        ids.push(id);
        expect(s.x[i * 6 + 4]).toBe(100 * id + 4);
        expect(s.y[i * 2 + 1]).toBe(-id);
      }
    }
    expect(ids.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const again = trainTestSplit(base.x, base.y, { xShape: [2, 3], yShape: [2] }, { testFraction: 0.3, rng: new Rng(9) });
    expect(Array.from(again.test.y)).toEqual(Array.from(test.y));
  });

  it('rejects inconsistent arrays', () => {
    expect(() =>
      trainTestSplit(new Float32Array(12), new Float32Array(3), { xShape: [6], yShape: [2] }, { testFraction: 0.5, rng: new Rng(1) }),
    ).toThrow(/whole number/);
  });
});

describe('sampleIndices / sampleSplit', () => {
  it('takes every example, in order, when there are at most max, and leaves the rng untouched', () => {
    const rng = new Rng(5);
    expect(sampleIndices(4, 4, rng)).toEqual({ indices: [0, 1, 2, 3], subset: 'all' });
    expect(sampleIndices(0, 3, rng)).toEqual({ indices: [], subset: 'all' });
    expect(rng.uint32()).toBe(new Rng(5).uint32());
    const s = makeSplit();
    expect(sampleSplit(s, 5, rng)).toBe(s);
  });

  it('draws one permutation and keeps its first max entries, sorted', () => {
    const rng = new Rng(11);
    const { indices, subset } = sampleIndices(50, 7, rng);
    expect(subset).toBe('random');
    // the draws every analysis made before this helper existed, written out
    const reference = new Rng(11);
    expect(indices).toEqual(Array.from(reference.permutation(50).subarray(0, 7)).sort((a, b) => a - b));
    expect(rng.uint32()).toBe(reference.uint32());
    expect(new Set(indices).size).toBe(7);
    expect(indices.every((k, i) => k >= 0 && k < 50 && (i === 0 || k > indices[i - 1]))).toBe(true);
    expect(sampleIndices(50, 7, new Rng(12)).indices).not.toEqual(indices);
  });

  it('subsets a larger split to those rows', () => {
    const s = makeSplit(10);
    const sub = sampleSplit(s, 3, new Rng(2));
    const { indices } = sampleIndices(10, 3, new Rng(2));
    expect(sub.n).toBe(3);
    expect(Array.from(sub.y)).toEqual(indices.flatMap((i) => [i, -i]));
    expect(Array.from(sub.x)).toEqual(Array.from(subsetSplit(s, indices).x));
  });

  it('rejects a bad n or max', () => {
    expect(() => sampleIndices(-1, 2, new Rng(1))).toThrow(/n must/);
    expect(() => sampleIndices(2.5, 2, new Rng(1))).toThrow(/n must/);
    expect(() => sampleIndices(5, Number.NaN, new Rng(1))).toThrow(/max must/);
  });
});
