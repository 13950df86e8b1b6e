import { defineConfig } from 'vitest/config';

// Written as an outside plugin author would: @goldstone/core and @goldstone/testkit are used as
// installed (their built dist), not through the monorepo's source aliases.
export default defineConfig({
  test: { environment: 'node', include: ['src/**/*.test.ts'], testTimeout: 60_000 },
});
