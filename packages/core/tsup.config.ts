import { preset } from '@goldstone/tsup-config';
// tfjs-core stays external; its ES files (gradients, chained ops), which Node cannot load, are bundled.
export default preset({ entry: ['src/index.ts', 'src/test-support.ts'], noExternal: [/^@tensorflow\/tfjs-core\/dist\//] });
