import * as tf from '@tensorflow/tfjs-core';
import type { InputSymmetry } from '@goldstone/plugin-api';

// Helpers shared by this package's tests.

/** Rotation of 2-D inputs [B, 2] by a random angle per example; generator G·x = (−x₂, x₁). */
export const rotation: InputSymmetry = {
  name: 'rotation',
  sample(x, rng) {
    const B = x.shape[0];
    const c = new Float32Array(B);
    const s = new Float32Array(B);
    for (let i = 0; i < B; i++) {
      const a = 2 * Math.PI * rng.uniform();
      c[i] = Math.cos(a);
      s[i] = Math.sin(a);
    }
    return tf.tidy(() => {
      const [x1, x2] = tf.split(x, 2, 1);
      const ct = tf.tensor2d(c, [B, 1]);
      const st = tf.tensor2d(s, [B, 1]);
      return tf.concat([tf.sub(tf.mul(ct, x1), tf.mul(st, x2)), tf.add(tf.mul(st, x1), tf.mul(ct, x2))], 1);
    });
  },
  generator(x) {
    return tf.tidy(() => {
      const [x1, x2] = tf.split(x, 2, 1);
      return tf.concat([tf.neg(x2), x1], 1);
    });
  },
};
