import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// tfjs-core is CommonJS: whatever loads it, from ESM or CJS, leaves it in Node's module cache.
const loadedTfjs = () => Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('@tensorflow'));

describe('@goldstone/report', () => {
  it('loads no tensor engine: it reads the run-store format only', async () => {
    await import('./index');
    await import('@goldstone/run-store/format');
    expect(loadedTfjs()).toEqual([]);
    // the check can see tfjs when it is loaded
    await import('@tensorflow/tfjs-core');
    expect(loadedTfjs().length).toBeGreaterThan(0);
  });
});
