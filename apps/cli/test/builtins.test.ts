import { describe, expect, it } from 'vitest';
import { UsageError } from '@goldstone/plugin-api';
import { createExecutor } from '../src/builtins';

describe('createExecutor', () => {
  it('knows local and in-process', () => {
    expect(createExecutor('in-process', {}).name).toBe('in-process');
    expect(createExecutor('local', { workers: 1 }).name).toBe('local');
  });

  it('refuses names that are only properties of Object (constructor, __proto__, toString) as unknown, with a hint for a typo', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(() => createExecutor(name, {})).toThrow(UsageError);
      expect(() => createExecutor(name, {})).toThrow(`--executor ${name}: unknown executor; known: local, in-process`);
    }
    expect(() => createExecutor('locl', {})).toThrow('--executor locl: unknown executor; did you mean "local"?; known: local, in-process');
  });
});
