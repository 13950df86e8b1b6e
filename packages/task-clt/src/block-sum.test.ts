import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { blockSum, blockSumArray } from './block-sum';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function naive(x: Float32Array, sites: number, b: number, scale: number): number[] {
  const rows = x.length / sites;
  const out: number[] = [];
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < sites / b; j++) {
      let s = 0;
      for (let i = 0; i < b; i++) s += x[r * sites + j * b + i];
      out.push(s * scale);
    }
  return out;
}

describe('blockSum', () => {
  it.each([
    [12, 1],
    [12, 2],
    [12, 3],
    [12, 4],
    [12, 12],
  ])('N = %i, b = %i: tensor and host versions equal the explicit sum / √b', (sites, b) => {
    const x = new Rng(sites * 100 + b).normalArray(5 * sites);
    const want = naive(x, sites, b, 1 / Math.sqrt(b));
    const host = blockSumArray(x, sites, b);
    const t = tf.tensor2d(x, [5, sites]);
    const dev = blockSum(t, b);
    expect(dev.shape).toEqual([5, sites / b]);
    const got = dev.dataSync();
    for (let i = 0; i < want.length; i++) {
      expect(host[i]).toBeCloseTo(want[i], 5);
      expect(got[i]).toBeCloseTo(want[i], 5);
    }
    tf.dispose([t, dev]);
  });

  it('sums without normalisation when asked, on any leading shape', () => {
    const t = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 4]);
    const s = blockSum(t, 2, { normalize: false });
    expect(s.shape).toEqual([2, 1, 2]);
    expect(Array.from(s.dataSync())).toEqual([3, 7, 11, 15]);
    expect(Array.from(blockSumArray(new Float32Array([1, 2, 3, 4]), 4, 2, { normalize: false }))).toEqual([3, 7]);
    tf.dispose([t, s]);
  });

  it('rejects a block that does not divide the sites', () => {
    const t = tf.zeros([2, 6]);
    expect(() => blockSum(t, 4)).toThrow(/block \(4\) must divide the number of sites \(6\)/);
    expect(() => blockSumArray(new Float32Array(6), 6, 0)).toThrow(/positive integer/);
    t.dispose();
  });

  it('leaks no tensors', () => {
    const t = tf.ones([3, 8]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) blockSum(t, 4).dispose();
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  });
});
