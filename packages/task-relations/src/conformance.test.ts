import '@tensorflow/tfjs-backend-cpu';
import { testPlugin } from '@goldstone/testkit';
import { relations } from './relations';

testPlugin(relations, { options: { nodes: 8 }, badOptions: { relation: 'lattice', nodes: 10 } });
testPlugin(relations, {
  title: 'task relations conforms (stage A addition, index inputs)',
  options: { relation: 'addition', trainNum: 45, encoding: 'index' },
  badOptions: { relation: 'addition', trainNum: 55 },
});
testPlugin(relations, {
  title: 'task relations conforms (the grokking toy: template targets, one orientation)',
  options: { relation: 'addition', trainNum: 45, encoding: 'index', target: 'template', orientations: 'one' },
  badOptions: { relation: 'order', orientations: 'one' },
});
