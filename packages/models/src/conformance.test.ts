import '@tensorflow/tfjs-backend-cpu';
import { testPlugin } from '@goldstone/testkit';
import { blockMlp } from './block-mlp';
import { deepSets } from './deep-sets';
import { embeddingDecoder } from './embedding-decoder';
import { gnn } from './gnn';
import { mlp } from './mlp';

// The conformance suite every model plugin passes (schema, determinism per seed, shapes, leaks,
// gradient and HVP against finite differences), for a regression, a classification and a binary
// setting with different activations.
testPlugin(mlp, {
  title: 'mlp (tanh, regression) conforms',
  options: { hidden: [6, 5], activation: 'tanh' },
  badOptions: { hidden: 'wide' },
});
testPlugin(mlp, {
  title: 'mlp (relu, classification, 2-D inputs) conforms',
  options: { hidden: [7], activation: 'relu' },
  modelContext: { inputShape: [2, 3], outputSize: 4, outputKind: 'classification' },
});
testPlugin(mlp, {
  title: 'mlp (sigmoid, binary, no bias) conforms',
  options: { hidden: [5], activation: 'sigmoid', bias: false },
  modelContext: { inputShape: [3], outputSize: 1, outputKind: 'binary' },
});

testPlugin(gnn, {
  title: 'gnn (GIN, tanh, block readout on a 1-D lattice) conforms',
  options: { layer: 'gin', hidden: [4, 3], activation: 'tanh', readout: 'block', block: 2 },
  badOptions: { layer: 'gat' },
  modelContext: { inputShape: [6], outputSize: 3, outputKind: 'regression' },
});
testPlugin(gnn, {
  title: 'gnn (GCN, relu, graph readout on a 2-D lattice, classification) conforms',
  options: { hidden: [4], graph: { kind: 'lattice-2d', size: 3 }, head: [3] },
  modelContext: { inputShape: [9, 2], outputSize: 3, outputKind: 'classification' },
});
testPlugin(deepSets, {
  title: 'deep-sets (equivariant + energy-flow, tanh, binary) conforms',
  options: { equivariant: [3], phi: [4], rho: [3], activation: 'tanh', weightChannel: 0 },
  badOptions: { pool: 'max' },
  modelContext: { inputShape: [4, 3], outputSize: 1, outputKind: 'binary' },
});
testPlugin(blockMlp, {
  title: 'block-mlp (tied + shared, unit-norm, tanh) conforms',
  options: { hidden: [3], activation: 'tanh', block: 2, tied: true, shared: true, scale: 'unit-norm' },
  badOptions: { sign: 'positive' },
  modelContext: { inputShape: [6], outputSize: 3, outputKind: 'regression' },
});
testPlugin(embeddingDecoder, {
  title: 'embedding-decoder (one-hot pairs, tanh, binary) conforms',
  options: { dim: 3, hidden: [4], activation: 'tanh' },
  badOptions: { combine: 'difference' },
  modelContext: { inputShape: [2, 5], outputSize: 1, outputKind: 'binary' },
});
testPlugin(embeddingDecoder, {
  title: 'embedding-decoder (the grokking toy: sum, uniform embeddings, torch init) conforms',
  options: { dim: 2, hidden: [6], activation: 'tanh', combine: 'sum', embeddingInit: 'uniform', init: 'torch' },
  badOptions: { embeddingInit: 'zeros' },
  modelContext: { inputShape: [2, 5], outputSize: 3, outputKind: 'regression' },
});
testPlugin(gnn, {
  title: 'gnn (GCN, tanh, block-local messages + skip, block readout) conforms',
  options: { hidden: [3, 2], activation: 'tanh', readout: 'block', block: 2, messages: 'block', skip: true },
  modelContext: { inputShape: [6], outputSize: 3, outputKind: 'regression' },
});
testPlugin(mlp, {
  title: 'mlp (quadratic z + αz², learned α, regression) conforms',
  options: { hidden: [4, 3], activation: 'quadratic', alpha: 'learned' },
  modelContext: { inputShape: [3], outputSize: 2, outputKind: 'regression' },
});
testPlugin(blockMlp, {
  title: 'block-mlp (shared, quadratic with learned α) conforms',
  options: { hidden: [3], activation: 'quadratic', alpha: 'learned', block: 2, shared: true },
  modelContext: { inputShape: [6], outputSize: 3, outputKind: 'regression' },
});
