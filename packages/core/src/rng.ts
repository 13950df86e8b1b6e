import { xoroshiro128plus, type RandomGenerator } from 'pure-rand';

/** 32-bit FNV-1a over a string, mixed with a seed: derives child seeds from labels. */
function hashLabel(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32)
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A seeded, splittable random number generator (xoroshiro128+ from pure-rand).
 *
 * `split(label)` derives an independent child stream from this generator's *seed* and the label
 * alone, so the numbers a component draws do not depend on what other components drew before it:
 * `rng.split('init')` gives the same stream whatever happened to `rng.split('data')`.
 * All randomness in goldstone comes from an `Rng` passed in; nothing reads `Math.random`.
 */
export class Rng {
  readonly seed: number;
  private gen: RandomGenerator;
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new TypeError(`Rng seed must be an integer, got ${seed}`);
    this.seed = seed >>> 0;
    this.gen = xoroshiro128plus(this.seed);
  }

  /** An independent child generator identified by `label`. */
  split(label: string): Rng {
    return new Rng(hashLabel(this.seed, label));
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    return this.gen.unsafeNext() >>> 0;
  }

  /** A seed for tfjs random ops (a non-negative 31-bit integer). */
  tfSeed(): number {
    return this.uint32() >>> 1;
  }

  /** Uniform in [0, 1) with 53 bits of precision. */
  uniform(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n > 0)) throw new RangeError(`Rng.int needs n > 0, got ${n}`);
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** `n` standard normals scaled by `std`, as float32. */
  normalArray(n: number, std = 1, mean = 0): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** `n` uniforms in [lo, hi), as float32. */
  uniformArray(n: number, lo = 0, hi = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** Rademacher signs ±1, as float32. */
  rademacher(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uint32() & 1 ? 1 : -1;
    return out;
  }
}
