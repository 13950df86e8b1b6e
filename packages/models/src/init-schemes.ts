import type { Rng } from '@goldstone/plugin-api';
import type { ActivationName } from '@goldstone/core';

export const MLP_INITS = ['auto', 'he', 'glorot', 'lecun', 'normal'] as const;
export type MlpInit = (typeof MLP_INITS)[number];

/**
 * The schemes of dense layers drawn one layer at a time (`mlp`, the `embedding-decoder`'s
 * decoder): the MLP schemes plus `torch`, PyTorch's `nn.Linear` default (weights and biases
 * U(−1/√fan_in, 1/√fan_in)).
 */
export const DENSE_INITS = [...MLP_INITS, 'torch'] as const;
export type DenseInit = (typeof DENSE_INITS)[number];

/** Activations for which `init: 'auto'` picks He initialisation (Glorot for the others). */
export const RELU_LIKE: readonly ActivationName[] = ['relu', 'leaky-relu', 'elu', 'gelu', 'softplus'];

/** The standard deviation of a layer's weights under an initialisation scheme. */
export function initStd(scheme: Exclude<DenseInit, 'auto'>, fanIn: number, fanOut: number, initScale: number): number {
  switch (scheme) {
    case 'torch':
      return 1 / Math.sqrt(3 * fanIn);
    case 'he':
      return Math.sqrt(2 / fanIn);
    case 'glorot':
      return Math.sqrt(2 / (fanIn + fanOut));
    case 'lecun':
      return Math.sqrt(1 / fanIn);
    case 'normal':
      return initScale;
  }
}


/**
 * One dense layer's initial weights `[fanIn, fanOut]` (stream `rng.split(weightName)`) and biases
 * `[fanOut]`: normal weights of `initStd` and zero biases, or for `torch` weights and biases
 * U(−1/√fan_in, 1/√fan_in) (the biases from `rng.split(biasName)`; `initScale` unused).
 */
export function drawDense(
  scheme: Exclude<DenseInit, 'auto'>,
  rng: Rng,
  names: { weight: string; bias: string },
  fanIn: number,
  fanOut: number,
  initScale: number,
): { weight: Float32Array; bias: Float32Array } {
  if (scheme === 'torch') {
    const bound = 1 / Math.sqrt(fanIn);
    return { weight: rng.split(names.weight).uniformArray(fanIn * fanOut, -bound, bound), bias: rng.split(names.bias).uniformArray(fanOut, -bound, bound) };
  }
  return { weight: rng.split(names.weight).normalArray(fanIn * fanOut, initStd(scheme, fanIn, fanOut, initScale)), bias: new Float32Array(fanOut) };
}
