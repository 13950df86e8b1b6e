import * as tf from '@tensorflow/tfjs-core';
import type { CurvatureProductRequest, ParamSpec } from '@goldstone/plugin-api';
import { tapeChain, tapeCurvatureProducts, type TapeChain, type TapeNode } from './curvature-tape';

/**
 * Curvature products of the embedding-decoder in one pass on the curvature tape. Index inputs:
 * the embedding rows are a lookup (its R-op a lookup of the direction, its gradient a
 * scatter-add over the nodes); one-hot inputs: a dense layer without bias on constant inputs.
 * The pair [eᵢ, eⱼ] is two consecutive rows side by side (concat), their sum or their product
 * (whose second-order terms pair the directions of the two embeddings).
 */
export function embeddingDecoderCurvatureProducts(
  c: { nodes: number; dim: number; oneHot: boolean; combine: 'concat' | 'product' | 'sum'; decoder: TapeChain },
  specs: readonly ParamSpec[],
): (request: CurvatureProductRequest) => tf.Tensor2D | null {
  const { nodes: n, dim: d } = c;
  return tapeCurvatureProducts('embedding-decoder', specs, (tape, x) => {
    const B = x.shape[0];
    if (x.size !== B * 2 * (c.oneHot ? n : 1)) throw new Error(`embedding-decoder: input of shape [${x.shape}] does not match ${c.oneHot ? `[2, ${n}]` : '[2]'} per example`);
    const E = tape.param('embedding');
    const e = c.oneHot ? tape.dense(tape.constant(tf.reshape(x, [B * 2, n])), E) : tape.lookup(E, tf.cast(tf.reshape(x, [B * 2]), 'int32') as tf.Tensor1D);
    const pair = tape.mergeRows(e, 2); // [B, 2d] = [eᵢ, eⱼ]
    let h: TapeNode = pair;
    if (c.combine !== 'concat') {
      const [ei, ej] = [tape.sliceColumns(pair, 0, d), tape.sliceColumns(pair, d, d)];
      h = c.combine === 'sum' ? tape.add(ei, ej) : tape.mul(ei, ej);
    }
    return tapeChain(tape, c.decoder, h);
  });
}
