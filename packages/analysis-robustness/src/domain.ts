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
 * unbounded, `{min, max}` = the same box for every feature.
 */
export function inputDomain(option: DomainOption, splits: readonly Split[]): InputDomain {
  const d = splits[0].xShape.reduce((a, b) => a * b, 1);
  if (option === 'none') return { kind: 'none', lower: null, upper: null };
  if (typeof option === 'object') {
    return { kind: 'box', lower: new Float32Array(d).fill(option.min), upper: new Float32Array(d).fill(option.max) };
  }
  const lower = new Float32Array(d).fill(Infinity);
  const upper = new Float32Array(d).fill(-Infinity);
  for (const split of splits) {
    for (let i = 0; i < split.n; i++) {
      for (let j = 0; j < d; j++) {
        const v = split.x[i * d + j];
        if (v < lower[j]) lower[j] = v;
        if (v > upper[j]) upper[j] = v;
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

/** The domain as JSON (bounds summarised). */
export function domainJson(domain: InputDomain): { kind: string; min: number | null; max: number | null } {
  if (!domain.lower || !domain.upper) return { kind: domain.kind, min: null, max: null };
  return { kind: domain.kind, min: Math.min(...domain.lower), max: Math.max(...domain.upper) };
}
