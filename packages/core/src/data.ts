import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from './rng';

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
