import '@tensorflow/tfjs-backend-cpu';
import { testPlugin } from '@goldstone/testkit';
import { mlp } from './index';

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
