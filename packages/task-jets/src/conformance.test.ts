import '@tensorflow/tfjs-backend-cpu';
import { testPlugin } from '@goldstone/testkit';
import { jets } from './jets';

testPlugin(jets, { options: { trainSize: 64, testSize: 32, oodSize: 16 }, badOptions: { tCut: 6400 } });
testPlugin(jets, {
  title: 'task jets conforms (pixelised, anisotropic, with the z channel)',
  options: { trainSize: 32, testSize: 16, oodSize: 8, epsilon: 0.05, resolutionEta: 0.02, features: ['z', 'deta', 'dphi', 'logz'], constituents: 16 },
  badOptions: { massWindow: [90, 70] },
});
