import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatorMatrix } from './generator-matrix';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('generatorMatrix', () => {
  it('recovers the matrix of a rotation generator acting on (Δη, Δφ) of every element', () => {
    // 3 elements × 3 features (z, η, φ): G rotates (η, φ): Gη = −φ, Gφ = η, z untouched
    const gen = (x: tf.Tensor) =>
      tf.tidy(() => {
        const [z, eta, phi] = tf.split(x, 3, 2);
        return tf.concat([tf.zerosLike(z), tf.neg(phi), eta], 2);
      });
    const G = generatorMatrix(gen, [3, 3]);
    const D = 9;
    for (let e = 0; e < 3; e++) {
      expect(G[(e * 3 + 1) * D + e * 3 + 2]).toBe(-1);
      expect(G[(e * 3 + 2) * D + e * 3 + 1]).toBe(1);
    }
    expect(G.reduce((a, v) => a + Math.abs(v), 0)).toBe(6);
  });

  it('refuses a map that is not linear', () => {
    expect(() => generatorMatrix((x) => tf.square(x), [4])).toThrow(/not linear/);
  });

  it('leaks no tensors', () => {
    const before = tf.memory().numTensors;
    generatorMatrix((x) => tf.mul(x, 2), [5]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
