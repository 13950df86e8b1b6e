import * as tf from '@tensorflow/tfjs-core';

/**
 * `f(x)` with a zero gradient: for masks and counts read off the data, so that differentiating
 * through a model with respect to its *inputs* (the generator form of the symmetry penalty) never
 * reaches comparison kernels, which have no gradient in tfjs.
 */
function constantOf(f: (x: tf.Tensor) => tf.Tensor): (x: tf.Tensor) => tf.Tensor {
  const op = tf.customGrad(((x: tf.Tensor) => ({ value: f(x), gradFunc: () => tf.zerosLike(x) })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x: tf.Tensor) => op(x);
}

/**
 * Which elements of padded sets `[B, N, F]` are present, as `[B, N, 1]` of 0/1: `nonzero` (an
 * element is present when any feature is non-zero; padding is all zeros) or `none` (all present).
 */
export function setMask(x: tf.Tensor, mode: 'none' | 'nonzero'): tf.Tensor {
  const [B, N] = x.shape;
  if (mode === 'none') return tf.ones([B, N, 1]);
  return constantOf((t) => tf.cast(tf.notEqual(tf.sum(tf.abs(t), -1, true), 0), 'float32'))(x);
}

/** 1 / max(count, 1) per set, `[B, 1]`, from a `[B, N, 1]` mask (no gradient). */
function inverseCount(mask: tf.Tensor): tf.Tensor {
  return constantOf((m) => tf.div(1, tf.maximum(tf.reshape(tf.sum(m, [1, 2]), [-1, 1]), 1)))(mask);
}

/** Masked sum or mean over the set axis: `[B, N, C]` → `[B, C]` (mean over present elements). */
export function maskedPool(h: tf.Tensor, mask: tf.Tensor, pool: 'sum' | 'mean'): tf.Tensor {
  const s = tf.sum(tf.mul(h, mask), 1);
  return pool === 'sum' ? s : tf.mul(s, inverseCount(mask));
}

/** `[B, N, C]` · `[C, C′]` → `[B, N, C′]` (the same map on every element). */
export function elementDense(h: tf.Tensor, W: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const [B, N, C] = h.shape;
  let z = tf.matMul(tf.reshape(h, [B * N, C]) as tf.Tensor2D, W as tf.Tensor2D) as tf.Tensor;
  if (b) z = tf.add(z, b);
  return tf.reshape(z, [B, N, W.shape[1]!]);
}

/**
 * Permutation-equivariant set layer (Zaheer et al.'s deep sets):
 * h′ᵢ = act(hᵢ·Λ + pool_j(h_j)·Γ + b) · maskᵢ, the pool over present elements only.
 */
export function equivariantSetLayer(
  h: tf.Tensor,
  mask: tf.Tensor,
  lambda: tf.Tensor,
  gamma: tf.Tensor,
  bias: tf.Tensor | undefined,
  pool: 'sum' | 'mean',
  act: (x: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  const pooled = tf.matMul(maskedPool(h, mask, pool) as tf.Tensor2D, gamma as tf.Tensor2D); // [B, C′]
  const z = tf.add(elementDense(h, lambda, bias), tf.expandDims(pooled, 1));
  return tf.mul(act(z), mask);
}

/**
 * Permutation-invariant set layer: pool_i(wᵢ · φ(hᵢ)) over present elements, with optional
 * per-element weights `w` `[B, N, 1]` (energy-flow networks: the pT fractions).
 */
export function invariantSetLayer(phi: tf.Tensor, mask: tf.Tensor, pool: 'sum' | 'mean', weights?: tf.Tensor): tf.Tensor {
  return maskedPool(weights ? tf.mul(phi, weights) : phi, mask, pool);
}
