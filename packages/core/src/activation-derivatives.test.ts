import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATIONS, activation } from './activations';
import { activationDerivatives } from './activation-derivatives';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Smooth points, large ones, and the kinks of relu / leaky-relu / elu exactly at 0.
const Z = [-6, -2.5, -1, -0.3, -1e-3, 0, 1e-3, 0.2, 0.7, 1.5, 3, 7];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('activation derivatives against nested tf.grad of the activations', () => {
  it('has a rule for every activation', () => {
    for (const name of ACTIVATIONS) expect(activationDerivatives(name), name).not.toBeNull();
  });

  for (const name of ACTIVATIONS) {
    it(`${name}: σ′ and σ″ equal first and second autodiff derivatives, kinks included`, () => {
      const before = tf.memory().numTensors;
      const act = activation(name);
      // + 0·t² keeps a path from t to the second derivative where σ is linear (identity)
      const f = (t: tf.Tensor) => tf.add(act(t), tf.mul(0, tf.square(t)));
      const z = tf.tensor1d(Z);
      const d1 = tf.grad((t: tf.Tensor) => tf.sum(f(t)));
      const ref1 = d1(z);
      const ref2 = tf.grad((t: tf.Tensor) => tf.sum(d1(t)))(z);
      const { first, second } = activationDerivatives(name)!(z);
      const got1 = first ? first.dataSync() : new Float32Array(Z.length).fill(1);
      const got2 = second ? tf.tidy(() => tf.mul(second, tf.onesLike(z)).dataSync()) : new Float32Array(Z.length);
      const e1 = maxAbsDiff(got1, ref1.dataSync());
      const e2 = maxAbsDiff(got2, ref2.dataSync());
      expect(e1, `σ′ differs by up to ${e1}`).toBeLessThan(1e-6);
      expect(e2, `σ″ differs by up to ${e2}`).toBeLessThan(1e-6);
      tf.dispose([z, ref1, ref2, ...(first ? [first] : []), ...(second ? [second] : [])]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('skips the products that are identities or zeros', () => {
    const z = tf.tensor1d(Z);
    expect(activationDerivatives('identity')!(z)).toEqual({ first: null, second: null });
    for (const name of ['relu', 'leaky-relu'] as const) {
      const d = activationDerivatives(name)!(z);
      expect(d.second).toBeNull();
      d.first?.dispose();
    }
    z.dispose();
  });
});
