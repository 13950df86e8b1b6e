import * as tf from '@tensorflow/tfjs-core';
import type { InputPerturbation, InputSymmetry } from '@goldstone/plugin-api';
import { fractionOf, isPadding, type Channels } from './features';

function rowsOf(x: tf.Tensor, N: number, c: Channels, what: string): number {
  if (x.rank < 2 || x.shape[x.rank - 1] !== c.width || x.shape[x.rank - 2] !== N) {
    throw new RangeError(`${what}: expected a batch of jets of shape [B, ${N}, ${c.width}], got [${x.shape}]`);
  }
  return x.size / (N * c.width);
}

/**
 * Rotation about the jet axis in the (Δη, Δφ) plane: (Δη, Δφ) → (cos α·Δη − sin α·Δφ,
 * sin α·Δη + cos α·Δφ), one uniform angle α per jet; the z and log z channels are unchanged and
 * padding rows stay zero. An exact symmetry of the generator when `epsilon` = 0 and the
 * resolutions are equal. `generator` is its derivative at α = 0, (Δη, Δφ) → (−Δφ, Δη), zero on
 * every other channel: a fixed linear map, so core's `generatorMatrix` finds its matrix.
 */
export function jetRotation(N: number, c: Channels): InputSymmetry {
  const M = new Float32Array(c.width * c.width); // (Gx)_i = Σ_j M[i][j] x_j
  M[c.deta * c.width + c.dphi] = -1;
  M[c.dphi * c.width + c.deta] = 1;
  return {
    name: 'rotation',
    sample(x, rng) {
      const rows = rowsOf(x, N, c, 'rotation');
      const out = Float32Array.from(x.dataSync() as Float32Array);
      for (let r = 0; r < rows; r++) {
        const a = 2 * Math.PI * rng.uniform();
        const cos = Math.cos(a);
        const sin = Math.sin(a);
        for (let j = 0; j < N; j++) {
          const o = (r * N + j) * c.width;
          const e = out[o + c.deta];
          const p = out[o + c.dphi];
          out[o + c.deta] = cos * e - sin * p;
          out[o + c.dphi] = sin * e + cos * p;
        }
      }
      return tf.tensor(out, x.shape, 'float32');
    },
    generator(x) {
      return tf.tidy(() => {
        const flat = tf.reshape(x, [-1, c.width]);
        return tf.reshape(tf.matMul(flat, tf.tensor2d(M, [c.width, c.width]), false, true), x.shape);
      });
    },
  };
}

/** Permutations of a jet's constituent rows (padding rows included), one uniform permutation per jet. Exact; no generator. */
export function constituentPermutation(N: number, c: Channels): InputSymmetry {
  return {
    name: 'permutation',
    sample(x, rng) {
      const rows = rowsOf(x, N, c, 'permutation');
      const src = x.dataSync() as Float32Array;
      const out = new Float32Array(src.length);
      const w = c.width;
      for (let r = 0; r < rows; r++) {
        const perm = rng.permutation(N);
        for (let j = 0; j < N; j++) out.set(src.subarray((r * N + perm[j]) * w, (r * N + perm[j] + 1) * w), (r * N + j) * w);
      }
      return tf.tensor(out, x.shape, 'float32');
    },
  };
}

/** 1 on every channel of a real constituent, 0 on padding rows (all channels zero); x's shape. */
export function jetInputMask(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const real = tf.cast(tf.greater(tf.sum(tf.abs(x), -1, true), 0), 'float32');
    return tf.mul(real, tf.onesLike(x));
  });
}

/** Largest energy fraction of one soft particle added by `soft-particles` (each is uniform in (0, this]). */
export const SOFT_FRACTION = 0.01;

/** The most soft particles a default sweep of `soft-particles` adds. */
export const SOFT_MAX_STRENGTH = 8;

/**
 * `soft-particles`: adds k soft particles to each jet in its padding rows. `strength` is the
 * expected number k per jet: ⌊strength⌋ particles, one more with probability strength − ⌊strength⌋
 * (so fractional strengths sweep smoothly), never more than the jet's padding rows. Each has an
 * energy fraction uniform in (0, SOFT_FRACTION] and sits at a uniform point of the disc of radius
 * r_max (the jet's largest constituent distance from the axis). The existing constituents'
 * fractions are scaled by (1 − Σ new fractions), so a jet's Σ z is unchanged (log z shifts by
 * log(1 − Σ)). Unfilled padding stays all zero.
 */
export function softParticles(N: number, c: Channels): InputPerturbation {
  return {
    name: 'soft-particles',
    description: 'adds soft particles (energy fraction ≤ 0.01 each) into padding rows at random points within the jet radius; strength = expected number per jet',
    maxStrength: SOFT_MAX_STRENGTH,
    apply(x, strength, rng) {
      if (!(strength >= 0) || !Number.isFinite(strength)) throw new RangeError(`soft-particles: strength must be a finite number ≥ 0, got ${strength}`);
      const rows = rowsOf(x, N, c, 'soft-particles');
      const out = Float32Array.from(x.dataSync() as Float32Array);
      if (strength === 0) return tf.tensor(out, x.shape, 'float32');
      const w = c.width;
      const whole = Math.floor(strength);
      const extra = strength - whole;
      const pads: number[] = [];
      const adds: number[] = [];
      for (let r = 0; r < rows; r++) {
        pads.length = 0;
        let rMax = 0;
        for (let j = 0; j < N; j++) {
          const row = r * N + j;
          if (isPadding(out, row, w)) pads.push(row);
          else rMax = Math.max(rMax, Math.hypot(out[row * w + c.deta], out[row * w + c.dphi]));
        }
        const k = Math.min(pads.length, whole + (extra > 0 && rng.uniform() < extra ? 1 : 0));
        if (k === 0 || pads.length === N) continue;
        adds.length = 0;
        let total = 0;
        for (let i = 0; i < k; i++) {
          const f = SOFT_FRACTION * (1 - rng.uniform());
          adds.push(f);
          total += f;
        }
        const scale = 1 - total;
        for (let j = 0; j < N; j++) {
          const row = r * N + j;
          if (pads.includes(row)) continue;
          if (c.z >= 0) out[row * w + c.z] *= scale;
          if (c.logz >= 0) out[row * w + c.logz] += Math.log(scale);
        }
        for (let i = 0; i < k; i++) {
          const o = pads[i] * w;
          const radius = rMax * Math.sqrt(rng.uniform());
          const angle = 2 * Math.PI * rng.uniform();
          if (c.z >= 0) out[o + c.z] = adds[i];
          if (c.logz >= 0) out[o + c.logz] = Math.log(adds[i]);
          out[o + c.deta] = radius * Math.cos(angle);
          out[o + c.dphi] = radius * Math.sin(angle);
        }
      }
      return tf.tensor(out, x.shape, 'float32');
    },
  };
}

/** Σ z of each jet in a host batch [rows, N, width] (from z or log z), for checks. */
export function fractionSums(x: ArrayLike<number>, rows: number, N: number, c: Channels): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) for (let j = 0; j < N; j++) out[r] += fractionOf(x, r * N + j, c);
  return out;
}

