import { preset } from '@goldstone/tsup-config';
export default preset({ entry: ['src/index.ts'] });
