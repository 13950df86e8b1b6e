import { preset } from '@goldstone/tsup-config';
export default preset({ entry: ['src/index.ts', 'src/format.ts', 'src/test-support.ts'] });
