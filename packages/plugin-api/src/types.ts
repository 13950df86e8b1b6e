import type * as tf from '@tensorflow/tfjs-core';

/**
 * The types that the contract's implementations share: core implements the parameter and data
 * helpers and the random number generator, the trainer calls the hooks, the run store provides the
 * store view. They live here so that a plugin (and each implementation) depends on the contract only.
 */

/** Anything JSON can carry. Analysis results must be of this shape. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Named parameter tensors. Models are pure functions of these. */
export type Params = Record<string, tf.Tensor>;

/** The name and shape of one parameter tensor; a model's specs fix the flattening order. */
export interface ParamSpec {
  name: string;
  shape: number[];
}

/**
 * A data split held on the host (so it owns no tensors): `n` examples, each input of shape `xShape`
 * and each target of shape `yShape`, row-major. Classification targets are one-hot rows
 * (`yShape = [classes]`); binary targets are `[1]` with 0/1 values; regression targets are real.
 */
export interface Split {
  n: number;
  x: Float32Array;
  y: Float32Array;
  xShape: number[];
  yShape: number[];
}

/** The losses core implements (second-order safe). */
export type LossName = 'mse' | 'softmax-cross-entropy' | 'binary-cross-entropy';

/**
 * A seeded, splittable random number generator; core's `Rng` implements it. All randomness a
 * plugin uses comes from the one it is handed.
 */
export interface Rng {
  readonly seed: number;
  /** An independent child generator identified by `label` (independent of what was drawn before). */
  split(label: string): Rng;
  /** A uniform 32-bit unsigned integer. */
  uint32(): number;
  /** A seed for tfjs random ops (a non-negative 31-bit integer). */
  tfSeed(): number;
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** A standard normal. */
  normal(): number;
  /** `n` normals with the given standard deviation and mean, as float32. */
  normalArray(n: number, std?: number, mean?: number): Float32Array;
  /** `n` uniforms in [lo, hi), as float32. */
  uniformArray(n: number, lo?: number, hi?: number): Float32Array;
  /** A uniformly random permutation of 0..n-1. */
  permutation(n: number): Int32Array;
  /** Rademacher signs ±1, as float32. */
  rademacher(n: number): Float32Array;
}

/** How a training run ended. */
export type TrainStatus = 'completed' | 'diverged';

/** One tensor of optimiser state, as host data (for checkpoints). */
export interface OptimizerStateEntry {
  name: string;
  values: Float32Array;
  shape: number[];
}
