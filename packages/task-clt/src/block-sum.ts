import * as tf from '@tensorflow/tfjs-core';

export interface BlockSumOptions {
  /** Divide each block sum by √b (the CLT coarse-graining map). Default true. */
  normalize?: boolean;
}

function checkBlock(sites: number, block: number): void {
  if (!Number.isInteger(block) || block < 1) throw new RangeError(`block must be a positive integer, got ${block}`);
  if (sites % block !== 0) throw new RangeError(`block (${block}) must divide the number of sites (${sites})`);
}

/**
 * The coarse-graining map on a tensor whose last axis holds `N` sites: sums over blocks of `b`
 * consecutive sites, divided by √b unless `normalize: false`. Shape `[..., N]` → `[..., N/b]`.
 * Returns a new tensor (differentiable, so it can be iterated on a model's outputs).
 */
export function blockSum(x: tf.Tensor, b: number, options: BlockSumOptions = {}): tf.Tensor {
  const sites = x.shape[x.rank - 1];
  if (x.rank < 1 || sites === undefined) throw new RangeError('blockSum needs a tensor with at least one axis');
  checkBlock(sites, b);
  const scale = options.normalize === false ? 1 : 1 / Math.sqrt(b);
  return tf.tidy(() => {
    const lead = x.shape.slice(0, -1);
    const summed = tf.sum(tf.reshape(x, [...lead, sites / b, b]), -1);
    return scale === 1 ? summed : tf.mul(summed, scale);
  });
}

/**
 * Host version of {@link blockSum} on a row-major `[rows, sites]` array, accumulated in float64.
 * Returns `[rows, sites/b]` as float32.
 */
export function blockSumArray(x: Float32Array, sites: number, b: number, options: BlockSumOptions = {}): Float32Array {
  checkBlock(sites, b);
  if (x.length % sites !== 0) throw new RangeError(`array of ${x.length} values is not a whole number of rows of ${sites} sites`);
  const scale = options.normalize === false ? 1 : 1 / Math.sqrt(b);
  const blocks = x.length / b;
  const out = new Float32Array(blocks);
  for (let j = 0; j < blocks; j++) {
    let s = 0;
    for (let i = 0; i < b; i++) s += x[j * b + i];
    out[j] = s * scale;
  }
  return out;
}
