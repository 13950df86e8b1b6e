import * as tf from '@tensorflow/tfjs-core';
import type { ActivationName } from '@goldstone/core';
import type { CurvatureProductRequest, ParamSpec } from '@goldstone/plugin-api';
import { tapeChain, tapeCurvatureProducts } from './curvature-tape';

/**
 * Curvature products of an mlp with the quadratic activation z + αz² (α fixed, or learned: the
 * parameter `dense{i}.alpha` per hidden layer, whose second-order terms ∂²/∂z∂α = 2z enter the
 * Hessian block), in one pass on the curvature tape.
 */
export function quadraticAlphaMlpCurvatureProducts(
  config: { activation: ActivationName; bias: boolean; alpha: 'learned' | number },
  dims: readonly number[],
  specs: readonly ParamSpec[],
): (request: CurvatureProductRequest) => tf.Tensor2D | null {
  const chain = { prefix: '', dims, bias: config.bias, activation: config.activation, alpha: config.alpha };
  return tapeCurvatureProducts('mlp', specs, (tape, x) => {
    const batch = x.shape[0];
    if (x.size !== batch * dims[0]) throw new Error(`mlp: input of shape [${x.shape}] does not match ${dims[0]} inputs per example`);
    return tapeChain(tape, chain, tape.constant(tf.reshape(x, [batch, dims[0]])));
  });
}
