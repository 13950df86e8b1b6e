import '@tensorflow/tfjs-backend-cpu';
import { testPlugin } from '@goldstone/testkit';
import { clt } from './clt';

testPlugin(clt, { options: { trainSize: 64, testSize: 32, oodSize: 16 }, badOptions: { block: 3 } });
testPlugin(clt, {
  title: 'task clt conforms (gamma spins, blocks of 4, noisy targets)',
  options: { distribution: 'gamma', gammaShape: 0.7, sites: 8, block: 4, noise: 0.1, trainSize: 32, testSize: 16 },
  badOptions: { distribution: 'cauchy' },
});
