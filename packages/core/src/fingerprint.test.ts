import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { parameterFingerprint } from './fingerprint';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('parameterFingerprint', () => {
  const specs = [
    { name: 'W', shape: [2] },
    { name: 'b', shape: [1] },
  ];
  const fp = (w: number[], b: number[], s = specs) => {
    const params = { W: tf.tensor1d(w), b: tf.tensor1d(b) };
    try {
      return parameterFingerprint(params, s);
    } finally {
      tf.dispose(Object.values(params));
    }
  };

  it('is the same for the same values and differs for a one-ulp change, another order or another split between tensors', () => {
    const base = fp([1, 2], [3]);
    expect(base).toMatch(/^fnv1a32x2:[0-9a-f]{16}$/);
    expect(fp([1, 2], [3])).toBe(base);
    expect(fp([1, Math.fround(2 + 2 ** -22)], [3])).not.toBe(base);
    expect(fp([1, 2], [3], [specs[1], specs[0]])).not.toBe(base);
    expect(tf.tidy(() => parameterFingerprint({ W: tf.tensor1d([1]), b: tf.tensor1d([2, 3]) }, specs))).not.toBe(base);
    expect(fp([0, 0], [0])).not.toBe(fp([-0, 0], [0])); // bytes, not values: −0 is other parameters' bytes
  });
});
