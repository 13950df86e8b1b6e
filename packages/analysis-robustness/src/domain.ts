import * as tf from '@tensorflow/tfjs-core';
import type { Split } from '@goldstone/plugin-api';

/** Per-feature bounds of the input domain (flattened inputs), or none. */
export interface InputDomain {
  kind: 'data' | 'box' | 'none';
  lower: Float32Array | null;
  upper: Float32Array | null;
}

export type DomainOption = 'data' | 'none' | { min: number; max: number };

/**
 * The input domain perturbed inputs are clipped to: `data` = each feature's minimum and maximum over
 * the given splits (the train split and the evaluated examples; inputs outside the data's range are not inputs the task produces), `none` =
 * unbounded, `{min, max}` = the same box for every feature. With `masks` (one per split, the
 * task's `inputMask` of its inputs, flattened), the `data` range of a feature is taken over its real
 * values only (padding does not widen it); a feature that is padding everywhere keeps the range of
 * all its values. Padding is never clipped anyway (see `confine`).
 */
export function inputDomain(option: DomainOption, splits: readonly Split[], masks?: readonly (Float32Array | null)[]): InputDomain {
  const d = splits[0].xShape.reduce((a, b) => a * b, 1);
  if (option === 'none') return { kind: 'none', lower: null, upper: null };
  if (typeof option === 'object') {
    return { kind: 'box', lower: new Float32Array(d).fill(option.min), upper: new Float32Array(d).fill(option.max) };
  }
  const lower = new Float32Array(d).fill(Infinity);
  const upper = new Float32Array(d).fill(-Infinity);
  const anyLower = masks ? new Float32Array(d).fill(Infinity) : lower;
  const anyUpper = masks ? new Float32Array(d).fill(-Infinity) : upper;
  splits.forEach((split, s) => {
    const mask = masks?.[s] ?? null;
    for (let i = 0; i < split.n; i++) {
      for (let j = 0; j < d; j++) {
        const v = split.x[i * d + j];
        if (masks) {
          if (v < anyLower[j]) anyLower[j] = v;
          if (v > anyUpper[j]) anyUpper[j] = v;
          if (mask && mask[i * d + j] === 0) continue;
        }
        if (v < lower[j]) lower[j] = v;
        if (v > upper[j]) upper[j] = v;
      }
    }
  });
  if (masks) {
    for (let j = 0; j < d; j++) {
      if (lower[j] > upper[j]) {
        lower[j] = anyLower[j];
        upper[j] = anyUpper[j];
      }
    }
  }
  return { kind: 'data', lower, upper };
}

/** `x` (shape [B, ...]) clipped feature-wise to the domain (a new tensor). */
export function clipToDomain(x: tf.Tensor, domain: InputDomain): tf.Tensor {
  return tf.tidy(() => {
    if (!domain.lower || !domain.upper) return tf.clone(x);
    const shape = [1, ...x.shape.slice(1)];
    const lo = tf.reshape(tf.tensor1d(domain.lower), shape);
    const hi = tf.reshape(tf.tensor1d(domain.upper), shape);
    return tf.minimum(tf.maximum(x, lo), hi);
  });
}

/**
 * `perturbed` clipped to the domain, with every change on padding undone: clip(x′) where the mask
 * is 1 (real values), x where it is 0 (padding; the mask has x's shape), so padding keeps its exact
 * clean value even where the domain does not contain it. Without a mask, just `clipToDomain(perturbed)`. A new tensor.
 */
export function confine(x: tf.Tensor, perturbed: tf.Tensor, domain: InputDomain, mask?: tf.Tensor | null): tf.Tensor {
  return tf.tidy(() => {
    const clipped = clipToDomain(perturbed, domain);
    return mask ? onRealValues(x, clipped, mask) : clipped;
  });
}

/** x′ where the mask is non-zero (real values), x exactly where it is 0 (padding). A new tensor. */
export function onRealValues(x: tf.Tensor, changed: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.where(tf.greater(mask, 0), changed, x));
}

/** The domain as JSON (bounds summarised). */
export function domainJson(domain: InputDomain): { kind: string; min: number | null; max: number | null } {
  if (!domain.lower || !domain.upper) return { kind: domain.kind, min: null, max: null };
  return { kind: domain.kind, min: Math.min(...domain.lower), max: Math.max(...domain.upper) };
}
