/**
 * The one tsup preset every goldstone package builds with: ESM, declarations, source maps,
 * dependencies and peer dependencies left external (tfjs is never bundled).
 * @param {import('tsup').Options} [overrides]
 */
export function preset(overrides = {}) {
  return {
    entry: ['src/index.ts'],
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: false,
    treeshake: true,
    ...overrides,
  };
}
