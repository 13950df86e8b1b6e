import '@tensorflow/tfjs-backend-cpu';
import { testPlugin } from '@goldstone/testkit';
import { mnist } from './mnist';

// The default split is the same for every seed (real data, fixed split); the conformance suite asks
// that another seed give other training data, which the seeded split does.
testPlugin(mnist, { options: { trainSize: 64, testSize: 32, split: 'random' }, badOptions: { trainSize: 10000 } });
