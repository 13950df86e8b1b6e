import { sizeOf } from '@goldstone/core';
import type { ParamSpec, Rng } from '@goldstone/plugin-api';

/** How a random direction is rescaled against the weights. */
export type Normalization = 'filter' | 'layer' | 'none';

export interface NormalizeOptions {
  normalization: Normalization;
  /** Zero the direction of biases. */
  zeroBiases: boolean;
  /** Zero the direction of other vector parameters (norm gains and offsets, learnable slopes). */
  zeroNorms: boolean;
}

/** Whether a parameter is a bias by its name: `bias`, `b`, `b1`, `dense0.bias`, `layer.b2`. */
export function isBias(name: string): boolean {
  return /(^|[._])(bias|b\d*)$/i.test(name);
}

/**
 * Rescale `direction` (flat, in `specs` order) against `weights` in place, as Li et al. 2018 do.
 * A tensor of rank ≥ 2 is cut into output units along its last axis (a dense weight [in, out]:
 * one column per output unit; a convolution [h, w, in, out]: one filter per output channel); each
 * unit's block of the direction is rescaled to the norm of the same block of the weights
 * (`filter`), or the whole tensor to the tensor's norm (`layer`). A vector (rank ≤ 1) is a bias or
 * a norm parameter: zeroed when asked (`zeroBiases`, `zeroNorms`), else each element is its own unit
 * (`filter`: |dᵢ| = |wᵢ|). A block of zero weights gets a zero direction. Returns `direction`.
 */
export function normalizeDirection(direction: Float32Array, weights: ArrayLike<number>, specs: readonly ParamSpec[], opts: NormalizeOptions): Float32Array {
  let off = 0;
  for (const s of specs) {
    const size = sizeOf(s.shape);
    const vector = s.shape.length <= 1;
    if (vector && (isBias(s.name) ? opts.zeroBiases : opts.zeroNorms)) {
      direction.fill(0, off, off + size);
    } else if (opts.normalization === 'layer') {
      rescaleStrided(direction, weights, off, size, 1);
    } else if (opts.normalization === 'filter') {
      const units = vector ? size : s.shape[s.shape.length - 1];
      // unit j's elements sit at off + j, off + j + units, … (row-major, last axis fastest)
      for (let j = 0; j < units; j++) rescaleStrided(direction, weights, off + j, size / units, units);
    }
    off += size;
  }
  return direction;
}

/** Rescale the `count` elements of `d` at `start`, `start + stride`, … to the norm of the same elements of `w`. */
function rescaleStrided(d: Float32Array, w: ArrayLike<number>, start: number, count: number, stride: number): void {
  let dn = 0;
  let wn = 0;
  for (let k = 0, i = start; k < count; k++, i += stride) {
    dn += d[i] * d[i];
    wn += w[i] * w[i];
  }
  const factor = dn > 0 ? Math.sqrt(wn / dn) : 0;
  for (let k = 0, i = start; k < count; k++, i += stride) d[i] *= factor;
}

/** `count` random directions of N(0, 1) entries, each rescaled by `normalizeDirection` against `weights`. */
export function randomDirections(count: number, weights: Float32Array, specs: readonly ParamSpec[], rng: Rng, opts: NormalizeOptions): Float32Array[] {
  return Array.from({ length: count }, (_, i) => normalizeDirection(rng.split(`direction:${i}`).normalArray(weights.length), weights, specs, opts));
}

/** Euclidean norm. */
export function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** Dot product (float64 accumulation). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Cosine of the angle between two vectors (0 when either is zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const d = norm(a) * norm(b);
  return d > 0 ? dot(a, b) / d : 0;
}
