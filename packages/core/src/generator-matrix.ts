import * as tf from '@tensorflow/tfjs-core';
import type { InputSymmetry } from '@goldstone/plugin-api';

/**
 * The D×D matrix of a linear input map on one flattened example (D = the product of
 * `inputShape`), row-major: (Gx)ᵢ = Σⱼ G[i·D + j]·xⱼ. Found by applying `generator` to the D
 * basis vectors at once (one batch), so it costs one call on a D × inputShape batch. Checks that
 * the map is linear (G(x + y) = Gx + Gy on two random inputs) and throws otherwise.
 */
export function generatorMatrix(generator: NonNullable<InputSymmetry['generator']>, inputShape: number[]): Float32Array {
  const D = inputShape.reduce((a, b) => a * b, 1);
  const columns = tf.tidy(() => {
    const basis = tf.reshape(tf.eye(D), [D, ...inputShape]);
    return tf.reshape(generator(basis), [D, D]).dataSync() as Float32Array; // row j = G e_j = column j of G
  });
  const G = new Float32Array(D * D);
  for (let j = 0; j < D; j++) for (let i = 0; i < D; i++) G[i * D + j] = columns[j * D + i];
  // linearity check on two fixed inputs (deterministic: no RNG needed)
  const x = new Float32Array(D).map((_, i) => Math.sin(1.7 * i + 0.3));
  const gx = tf.tidy(() => tf.reshape(generator(tf.tensor(x, [1, ...inputShape])), [D]).dataSync() as Float32Array);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < D; i++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += G[i * D + j] * x[j];
    err = Math.max(err, Math.abs(s - gx[i]));
    scale = Math.max(scale, Math.abs(gx[i]));
  }
  if (err > 1e-4 * Math.max(1, scale)) {
    throw new RangeError(`generatorMatrix: the generator is not linear in the inputs (max deviation ${err.toExponential(2)}), so it has no matrix`);
  }
  return G;
}
