import type { ActivationName } from '@goldstone/core';

export const MLP_INITS = ['auto', 'he', 'glorot', 'lecun', 'normal'] as const;
export type MlpInit = (typeof MLP_INITS)[number];

/** Activations for which `init: 'auto'` picks He initialisation (Glorot for the others). */
export const RELU_LIKE: readonly ActivationName[] = ['relu', 'leaky-relu', 'elu', 'gelu', 'softplus'];

/** The standard deviation of a layer's weights under an initialisation scheme. */
export function initStd(scheme: Exclude<MlpInit, 'auto'>, fanIn: number, fanOut: number, initScale: number): number {
  switch (scheme) {
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

