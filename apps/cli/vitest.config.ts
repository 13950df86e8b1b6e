import { defineConfig } from 'vitest/config';
import { preset } from '@goldstone/vitest-config';
// End-to-end tests spawn the built binary; give them room on a 2-core machine.
export default defineConfig(preset({ testTimeout: 300_000, fileParallelism: false }));
