import * as tf from '@tensorflow/tfjs-core';
import type { ActivationName } from '@goldstone/core';
import type { CurvatureProductRequest, ParamSpec } from '@goldstone/plugin-api';
import { tapeCurvatureProducts, type TapeNode } from './curvature-tape';
import type { BlockLayout } from './block-layout';

/**
 * Curvature products of a block-mlp in one pass on the curvature tape. Tying and sharing only
 * reshape the inputs (data: no tangent) and the outputs (blocks side by side); the effective
 * weights are parameter-side transforms with their own second-order rules: raw² (`nonnegative`)
 * and the column normalisation u/‖u‖ (`unit-norm`, ‖·‖ counting the b tied sites of layer 0).
 */
export function blockMlpCurvatureProducts(
  o: { activation: ActivationName; bias: boolean; alpha?: 'learned' | number; sign: string; scale: string },
  L: BlockLayout,
  specs: readonly ParamSpec[],
  /** The rows the first layer reads, and the blocks per example (`block-mlp`'s own; throws for inputs that do not fit). */
  firstLayerInputs: (x: tf.Tensor) => { h: tf.Tensor; blocks: number },
): (request: CurvatureProductRequest) => tf.Tensor2D | null {
  const { dims, bias } = { dims: L.dims, bias: o.bias };
  const depth = dims.length - 1;
  return tapeCurvatureProducts('block-mlp', specs, (tape, x) => {
    const { h: h0, blocks } = firstLayerInputs(x);
    let h: TapeNode = tape.constant(h0);
    for (let i = 0; i < depth; i++) {
      let W = tape.param(`dense${i}.weight`);
      if (o.sign === 'nonnegative') W = tape.square(W);
      if (o.scale === 'unit-norm') W = tape.unitNorm(W, i === 0 && L.tied ? L.block : 1);
      const z = tape.dense(h, W, bias ? tape.param(`dense${i}.bias`) : undefined);
      if (i === depth - 1) h = z;
      else h = o.alpha === undefined ? tape.act(z, o.activation) : tape.quadraticAlpha(z, o.alpha === 'learned' ? tape.param(`dense${i}.alpha`) : o.alpha);
    }
    return L.shared ? tape.mergeRows(h, blocks) : h;
  });
}
