import * as tf from '@tensorflow/tfjs-core';
import type { Pair } from './pairs';

/**
 * Representation geometry of the addition toy (Liu et al. 2022, toy/train_add.py): standardised
 * embeddings, the representation quality index RQI over the ideal parallelograms, and the
 * effective loss ℓ_eff over the parallelograms a training set implies. Embeddings are row-major
 * [n, d] float arrays.
 */

/**
 * E standardised per dimension as the toy does: mean 0 and standard deviation 1 with torch's
 * unbiased (n − 1) std. A dimension with zero spread becomes NaN (as in torch), and so does every
 * quantity computed from it.
 */
export function standardize(E: ArrayLike<number>, n: number, d: number): Float64Array {
  const out = new Float64Array(n * d);
  for (let k = 0; k < d; k++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += E[i * d + k] / n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (E[i * d + k] - mean) ** 2;
    const std = Math.sqrt(ss / (n - 1));
    for (let i = 0; i < n; i++) out[i * d + k] = (E[i * d + k] - mean) / std;
  }
  return out;
}

/**
 * The toy's ideal parallelograms on p symbols: (i, n, j, m) with i < j ≤ m < n and i + n = j + m
 * (E_i + E_n = E_j + E_m for a linear representation), in the toy's loop order.
 */
export function idealParallelograms(p: number): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) for (let m = j; m < p; m++) for (let n = m + 1; n < p; n++) if (i + n - j - m === 0) out.push([i, n, j, m]);
  return out;
}

/** mean over dimensions of (E_a + E_b − E_c − E_e)² for the quadruple (a, b, c, e). */
export function quadResidual(E: ArrayLike<number>, d: number, q: readonly number[]): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += (E[q[0] * d + k] + E[q[1] * d + k] - E[q[2] * d + k] - E[q[3] * d + k]) ** 2;
  return s / d;
}

/**
 * RQI: the fraction of the ideal parallelograms (i, n, j, m) whose standardised residual
 * mean_d (E_i + E_n − E_j − E_m)² is below `threshold` (toy: 0.01). `E` is the raw embedding.
 */
export function rqi(E: ArrayLike<number>, n: number, d: number, threshold = 0.01, quads = idealParallelograms(n)): number {
  if (quads.length === 0) return NaN;
  const Es = standardize(E, n, d);
  let real = 0;
  for (const q of quads) if (quadResidual(Es, d, q) < threshold) real++;
  return real / quads.length;
}

/**
 * P0(D): the parallelograms the training set implies, every two distinct train pairs (i, j), (m, n)
 * with i + j = m + n, as quadruples [i, j, m, n] (E_i + E_j = E_m + E_n).
 */
export function trainParallelograms(train: readonly Pair[]): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  for (let a = 0; a < train.length; a++) {
    for (let b = a + 1; b < train.length; b++) {
      if (train[a][0] + train[a][1] === train[b][0] + train[b][1]) out.push([train[a][0], train[a][1], train[b][0], train[b][1]]);
    }
  }
  return out;
}

/**
 * ℓ_eff = Σ_P |E_i + E_j − E_m − E_n|² / Σ_k |E_k|² over the quadruples P, of the embedding as
 * given (the analysis passes the standardised one, as the toy's effective theory does). 0 when P
 * is empty.
 */
export function effectiveLoss(E: ArrayLike<number>, n: number, d: number, P: readonly (readonly number[])[]): number {
  let num = 0;
  for (const q of P) num += d * quadResidual(E, d, q);
  let z = 0;
  for (let i = 0; i < n * d; i++) z += E[i] ** 2;
  return num / z;
}

/**
 * ℓ_eff of the standardised embedding as a differentiable function of the raw embedding E [n, d]
 * (tensors in, a scalar out): the objective the effective (repon) dynamics descends. The quadruples
 * are given as four index tensors (int32, one entry per parallelogram).
 */
export function effectiveLossTensor(E: tf.Tensor2D, idx: readonly [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D] | null): tf.Scalar {
  return tf.tidy(() => {
    const n = E.shape[0];
    const mean = tf.mean(E, 0, true);
    const c = tf.sub(E, mean);
    const std = tf.sqrt(tf.div(tf.sum(tf.square(c), 0, true), n - 1));
    const Es = tf.div(c, std);
    if (!idx) return tf.mul(tf.sum(Es), 0) as tf.Scalar;
    const diff = tf.sub(tf.add(tf.gather(Es, idx[0]), tf.gather(Es, idx[1])), tf.add(tf.gather(Es, idx[2]), tf.gather(Es, idx[3])));
    return tf.div(tf.sum(tf.square(diff)), tf.sum(tf.square(Es))) as tf.Scalar;
  });
}
