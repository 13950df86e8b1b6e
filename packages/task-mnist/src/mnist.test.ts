import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { loadDigits, stratifiedOrder, PIXELS, TOTAL_DIGITS } from './digits';
import { classificationMetrics, mnist, mnistOptions } from './mnist';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('loadDigits', () => {
  it('loads the 10,000 real digits with pixel values on the 256 grey levels k/255', () => {
    const { images, labels, classCounts } = loadDigits();
    expect(classCounts.reduce((a, b) => a + b, 0)).toBe(TOTAL_DIGITS);
    expect(labels.length).toBe(TOTAL_DIGITS);
    expect(images.length).toBe(TOTAL_DIGITS * PIXELS);
    // Every class is present in MNIST-like proportions (the MNIST test set has 892–1135 per class).
    for (const c of classCounts) {
      expect(c).toBeGreaterThan(850);
      expect(c).toBeLessThan(1150);
    }
    let min = Infinity;
    let max = -Infinity;
    let offLevel = 0;
    for (let i = 0; i < images.length; i += 7) {
      const v = images[i];
      if (v < min) min = v;
      if (v > max) max = v;
      if (Math.abs(v * 255 - Math.round(v * 255)) > 1e-4) offLevel++;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    expect(offLevel).toBe(0);
  });

  it('digits look like digits: mean ink is off the border and inside the centre', () => {
    const { images } = loadDigits();
    const mean = new Float64Array(PIXELS);
    for (let i = 0; i < TOTAL_DIGITS; i++) for (let p = 0; p < PIXELS; p++) mean[p] += images[i * PIXELS + p] / TOTAL_DIGITS;
    const at = (r: number, c: number) => mean[r * 28 + c];
    expect(at(0, 0)).toBe(0);
    expect(at(14, 14)).toBeGreaterThan(0.2);
    // The average digit covers roughly 10–20 % ink (MNIST: ≈ 0.13 mean pixel value).
    const total = mean.reduce((a, b) => a + b, 0) / PIXELS;
    expect(total).toBeGreaterThan(0.1);
    expect(total).toBeLessThan(0.17);
  });
});

describe('stratifiedOrder', () => {
  it('is a permutation whose prefixes keep the class proportions to within one digit per class', () => {
    const counts = [5, 3, 8];
    const order = stratifiedOrder(counts);
    expect([...order].sort((a, b) => a - b)).toEqual([...Array(16).keys()]);
    const cls = (i: number) => (i < 5 ? 0 : i < 8 ? 1 : 2);
    for (let m = 1; m <= 16; m++) {
      const seen = [0, 0, 0];
      for (let i = 0; i < m; i++) seen[cls(order[i])]++;
      counts.forEach((c, k) => expect(Math.abs(seen[k] - (m * c) / 16)).toBeLessThanOrEqual(1));
    }
  });
});

describe('mnist task', () => {
  it('builds disjoint stratified train and test splits of flattened 784-vectors with one-hot targets', async () => {
    const task = await mnist.create(mnistOptions.parse({ trainSize: 300, testSize: 200 }), { rng: new Rng(1) });
    expect(task.inputShape).toEqual([784]);
    expect(task.outputSize).toBe(10);
    expect(task.loss).toBe('softmax-cross-entropy');
    const { train, test } = task.splits;
    expect(train.n).toBe(300);
    expect(test.n).toBe(200);
    expect(train.x.length).toBe(300 * 784);
    for (const split of [train, test]) {
      const counts = new Array(10).fill(0);
      for (let i = 0; i < split.n; i++) {
        const row = split.y.subarray(i * 10, i * 10 + 10);
        expect(row.reduce((a, b) => a + b, 0)).toBe(1);
        counts[row.indexOf(1)]++;
      }
      for (const c of counts) expect(Math.abs(c - split.n / 10)).toBeLessThan(split.n * 0.03 + 2);
    }
    // No test image is also a train image.
    const key = (x: Float32Array, i: number) => x.subarray(i * 784, (i + 1) * 784).join(',');
    const trainKeys = new Set(Array.from({ length: train.n }, (_, i) => key(train.x, i)));
    for (let i = 0; i < test.n; i++) expect(trainKeys.has(key(test.x, i))).toBe(false);
  });

  it('does not depend on the seed, and smaller train sets are prefixes of larger ones', async () => {
    const a = await mnist.create(mnistOptions.parse({ trainSize: 100, testSize: 50 }), { rng: new Rng(1) });
    const b = await mnist.create(mnistOptions.parse({ trainSize: 200, testSize: 50 }), { rng: new Rng(2) });
    expect(b.splits.train.x.subarray(0, 100 * 784)).toEqual(a.splits.train.x);
    expect(b.splits.test.x).toEqual(a.splits.test.x);
  });

  it('with split: random, draws a different stratified split per seed, still disjoint', async () => {
    const o = mnistOptions.parse({ trainSize: 500, testSize: 500, split: 'random' });
    const a = await mnist.create(o, { rng: new Rng(1) });
    const b = await mnist.create(o, { rng: new Rng(2) });
    expect(a.splits.train.x).not.toEqual(b.splits.train.x);
    const key = (x: Float32Array, i: number) => x.subarray(i * 784, (i + 1) * 784).join(',');
    const trainKeys = new Set(Array.from({ length: 500 }, (_, i) => key(a.splits.train.x, i)));
    let shared = 0;
    for (let i = 0; i < 500; i++) if (trainKeys.has(key(a.splits.test.x, i))) shared++;
    expect(shared).toBeLessThanOrEqual(2); // MNIST has a few byte-identical duplicate images
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 500; i++) counts[a.splits.train.y.subarray(i * 10, i * 10 + 10).indexOf(1)]++;
    for (const c of counts) expect(Math.abs(c - 50)).toBeLessThanOrEqual(8);
  });

  it('rejects splits larger than the 10,000 digits', () => {
    expect(mnistOptions.safeParse({ trainSize: 9000, testSize: 2000 }).success).toBe(false);
    expect(mnistOptions.safeParse({}).success).toBe(true);
  });

  it('metrics count argmax agreement', () => {
    const pred = tf.tensor2d([[2, 1, 0], [0, 3, 1], [0, 0, 1], [5, 0, 0]]);
    const y = tf.tensor2d([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) expect(classificationMetrics(pred, y)).toEqual({ accuracy: 0.5, error: 0.5 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([pred, y]);
  });
});
