import { readFileSync } from 'node:fs';
import { preset } from '@goldstone/tsup-config';

// `goldstone create plugin` writes the testkit's version into new packages' devDependencies; the
// CLI does not depend on the testkit, so its version is read here, at build time.
const testkit = JSON.parse(readFileSync(new URL('../../packages/testkit/package.json', import.meta.url), 'utf8')).version as string;

export default preset({ entry: ['src/index.ts', 'src/bin.ts'], define: { __GOLDSTONE_TESTKIT_VERSION__: JSON.stringify(testkit) } });
