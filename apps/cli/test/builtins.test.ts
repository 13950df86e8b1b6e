import { describe, expect, it } from 'vitest';
import { UsageError } from '@goldstone/plugin-api';
import { createExecutor } from '../src/builtins';

describe('createExecutor', () => {
  it('knows local and in-process', async () => {
    expect((await createExecutor('in-process', {})).name).toBe('in-process');
    expect((await createExecutor('local', { workers: 1 })).name).toBe('local');
  });

  it('refuses names that are only properties of Object (constructor, __proto__, toString) as unknown, with a hint for a typo', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      await expect(createExecutor(name, {})).rejects.toThrow(UsageError);
      await expect(createExecutor(name, {})).rejects.toThrow(`--executor ${name}: unknown executor; known: local, in-process, redis`);
    }
    await expect(createExecutor('locl', {})).rejects.toThrow('--executor locl: unknown executor; did you mean "local"?; known: local, in-process, redis');
  });
});
