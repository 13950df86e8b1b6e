// Public surface of @goldstone/models: re-exports only.
import { mlp } from './mlp';
import { gnn } from './gnn';
import { deepSets } from './deep-sets';
import { blockMlp } from './block-mlp';
import { embeddingDecoder } from './embedding-decoder';

export { mlp, mlpOptions, createMlp, mlpParamCount, initStd, DENSE_INITS, MLP_INITS, RELU_LIKE } from './mlp';
export { applyMlpReplicas } from './mlp-replicas';
export type { MlpReplicaLayout } from './mlp-replicas';
export type { MlpOptions, MlpInit, DenseInit } from './mlp';
export { gnn, gnnOptions, createGnn, gnnParamCount } from './gnn';
export type { GnnOptions, GraphModelContext } from './gnn';
export { buildGraph, graphSpecSchema, degrees, blockIds } from './graph';
export type { Graph, GraphSpec } from './graph';
export { propagate, nodeDense, gcnEdges, ginEdges, propagateEdges, gcnLayer, ginLayer, poolNodes, poolBlocks } from './graph-layers';
export type { LayerEdges } from './graph-layers';
export { deepSets, deepSetsOptions, createDeepSets, deepSetsParamCount } from './deep-sets';
export type { DeepSetsOptions } from './deep-sets';
export { setMask, maskedPool, elementDense, equivariantSetLayer, invariantSetLayer } from './set-layers';
export { blockMlp, blockMlpOptions, blockStructureOptions, createBlockMlp, blockLayout, blockMlpParamCount } from './block-mlp';
export type { BlockMlpOptions, BlockLayout } from './block-mlp';
export { embeddingDecoder, embeddingDecoderOptions, createEmbeddingDecoder, embeddingDecoderParamCount } from './embedding-decoder';
export type { EmbeddingDecoderOptions } from './embedding-decoder';
export { FlatLayout, homogeneityDegree, rescalingDirections, linearGroupDirections, hiddenSymmetries } from './param-symmetries';
export type { ChannelLink } from './param-symmetries';

/** Every model plugin of this package (the CLI loads a package's `plugins` export). */
export const plugins = [mlp, gnn, deepSets, blockMlp, embeddingDecoder];
