import * as tf from '@tensorflow/tfjs-core';
import type { Rng, Split } from '@goldstone/plugin-api';

/**
 * The standard deviation s_f of every feature f over the real values of a split, where a feature
 * is a position of the last input axis (a particle's pT, η, φ pooled over particles for a set
 * [P, F]; each input of a flat [D] vector). `mask` is the task's input mask of the split's inputs
 * (flattened, 1 real, 0 padding), or null when every value is real. A feature with fewer than two
 * real values gets 0.
 */
export function featureScales(split: Split, mask: Float32Array | null): Float32Array {
  const f = split.xShape.length > 0 ? split.xShape[split.xShape.length - 1] : 1;
  const count = new Float64Array(f);
  const sum = new Float64Array(f);
  const sq = new Float64Array(f);
  for (let i = 0; i < split.x.length; i++) {
    if (mask && mask[i] === 0) continue;
    const j = i % f;
    const v = split.x[i];
    count[j] += 1;
    sum[j] += v;
    sq[j] += v * v;
  }
  const scales = new Float32Array(f);
  for (let j = 0; j < f; j++) {
    if (count[j] < 2) continue;
    const mean = sum[j] / count[j];
    scales[j] = Math.sqrt(Math.max(0, (sq[j] - count[j] * mean * mean) / (count[j] - 1)));
  }
  return scales;
}

/**
 * Detector-like resolution smearing: x + σ·s_f·N(0, 1)·mask, an independent Gaussian change of every
 * real value with a standard deviation σ times its feature's spread `scales` (so σ is a relative
 * resolution; σ = 0 returns x unchanged). Padding (mask 0) keeps its exact value. A new tensor.
 */
export function smear(x: tf.Tensor, sigma: number, scales: Float32Array, mask: tf.Tensor | null, rng: Rng): tf.Tensor {
  return tf.tidy(() => {
    const f = scales.length;
    const noise = tf.mul(tf.reshape(tf.tensor(rng.normalArray(x.size, sigma), x.shape, 'float32'), [-1, f]), tf.tensor1d(scales));
    const change = tf.reshape(noise, x.shape);
    return tf.add(x, mask ? tf.mul(change, mask) : change);
  });
}
