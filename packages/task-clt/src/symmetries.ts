import * as tf from '@tensorflow/tfjs-core';
import type { InputSymmetry, Rng } from '@goldstone/plugin-api';

/**
 * A transformation of inputs under which the *target changes in a known way* (an equivariance),
 * as opposed to an `InputSymmetry`, under which the target is unchanged. `sample` applies one
 * random group element per example to the inputs and the matching action to the targets.
 */
export interface Equivariance {
  name: string;
  /** New tensors `x′ = g·x`, `y′ = g·y` with one independent random element g per example. */
  sample(x: tf.Tensor, y: tf.Tensor, rng: Rng): { x: tf.Tensor; y: tf.Tensor };
}

function rowsOf(x: tf.Tensor, width: number, what: string): number {
  if (x.rank !== 2 || x.shape[1] !== width) {
    throw new RangeError(`${what}: expected a batch of shape [B, ${width}], got [${x.shape}]`);
  }
  return x.shape[0];
}

/** Gather rows of a [B, W] tensor by host indices into its flattened values. */
function gatherFlat(x: tf.Tensor, index: Int32Array): tf.Tensor {
  return tf.tidy(() => {
    const idx = tf.tensor1d(index, 'int32');
    return tf.reshape(tf.gather(tf.reshape(x, [-1]), idx), x.shape);
  });
}

/**
 * Permutations of the sites inside each block (the group S_b × … × S_b). The block-sum target is
 * exactly invariant. One independent random element per example.
 */
export function permuteWithinBlocks(sites: number, block: number): InputSymmetry {
  return {
    name: 'permute-within-blocks',
    sample(x, rng) {
      const rows = rowsOf(x, sites, 'permute-within-blocks');
      const index = new Int32Array(rows * sites);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < sites; j += block) {
          const p = rng.permutation(block);
          for (let i = 0; i < block; i++) index[r * sites + j + i] = r * sites + j + p[i];
        }
      }
      return gatherFlat(x, index);
    },
  };
}

/**
 * Cyclic translation by a whole number of blocks: x′ᵢ = x_{(i + s·b) mod N}. The target is
 * equivariant: y′ⱼ = y_{(j + s) mod N/b}.
 */
export function translateByBlocks(sites: number, block: number): Equivariance {
  const outputs = sites / block;
  return {
    name: 'translate-by-blocks',
    sample(x, y, rng) {
      const rows = rowsOf(x, sites, 'translate-by-blocks');
      rowsOf(y, outputs, 'translate-by-blocks (targets)');
      const xi = new Int32Array(rows * sites);
      const yi = new Int32Array(rows * outputs);
      for (let r = 0; r < rows; r++) {
        const s = rng.int(outputs);
        for (let i = 0; i < sites; i++) xi[r * sites + i] = r * sites + ((i + s * block) % sites);
        for (let j = 0; j < outputs; j++) yi[r * outputs + j] = r * outputs + ((j + s) % outputs);
      }
      return { x: gatherFlat(x, xi), y: gatherFlat(y, yi) };
    },
  };
}

/**
 * Global sign flip x → −x, a symmetry of the data when the spin distribution is symmetric. The
 * target is odd: y → −y.
 */
export function signFlip(sites: number, block: number): Equivariance {
  const outputs = sites / block;
  return {
    name: 'sign-flip',
    sample(x, y, rng) {
      const rows = rowsOf(x, sites, 'sign-flip');
      rowsOf(y, outputs, 'sign-flip (targets)');
      const signs = rng.rademacher(rows);
      return tf.tidy(() => {
        const s = tf.tensor2d(signs, [rows, 1]);
        return { x: tf.mul(x, s), y: tf.mul(y, s) };
      });
    },
  };
}
