import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UsageError } from './errors';
import { defineAnalysis, defineModel, API_VERSION } from './plugin';
import { pluginsOf, Registry } from './registry';

const analysis = defineAnalysis({
  name: 'noop',
  apiVersion: API_VERSION,
  options: z.object({}),
  async run(ctx) {
    return { result: null, provenance: { analysis: 'noop', seed: ctx.seed, backend: ctx.backend } };
  },
});

const src = { package: 'a', version: '1.0.0' };

describe('Registry', () => {
  it('lists what was added, by kind then name', () => {
    const r = new Registry();
    const model = defineModel({ name: 'm', apiVersion: API_VERSION, options: z.object({}), create: () => ({}) as never });
    r.add(analysis, src);
    r.add(model, { package: 'b', version: '2.0.0' });
    expect(r.list().map((e) => `${e.kind}:${e.name}@${e.version}`)).toEqual(['model:m@2.0.0', 'analysis:noop@1.0.0']);
    expect(r.get('analysis', 'noop')).toBe(analysis);
  });

  it('rejects a duplicate name from another plugin', () => {
    const r = new Registry();
    r.add(analysis, src);
    r.add(analysis, src); // the same object twice is harmless
    const twin = { ...analysis };
    expect(() => r.add(twin, { package: 'c', version: '0.1.0' })).toThrow(/duplicate analysis plugin name "noop": provided by a and by c/);
  });

  it('rejects another plugin API version', () => {
    expect(() => new Registry().add({ ...analysis, apiVersion: 99 }, src)).toThrow(/API 99/);
  });

  it('says which package to install for an unknown built-in name', () => {
    const r = new Registry({ task: { toy: '@example/task-toy' }, model: {}, analysis: {} });
    expect(() => r.get('task', 'toy')).toThrow('unknown task plugin "toy": install @example/task-toy');
    expect(() => r.get('task', 'other')).toThrow('unknown task plugin "other": known task plugins: toy;');
    expect(() => r.get('analysis', 'nope')).toThrow(UsageError);
    expect(() => r.get('analysis', 'nope')).toThrow(/must be listed under "plugins:"/);
  });

  it('finds plugins in a module: plugins export, default export or named exports', () => {
    expect(pluginsOf({ plugins: [analysis] })).toEqual([analysis]);
    expect(pluginsOf({ default: analysis })).toEqual([analysis]);
    expect(pluginsOf({ a: analysis, b: 3 })).toEqual([analysis]);
    expect(pluginsOf({ a: 1 })).toEqual([]);
  });

  it('treats prototype names as unknown plugins, not as map entries', () => {
    const r = new Registry({ task: { clt: '@goldstone/task-clt' }, model: {}, analysis: {} });
    const before = Object.getOwnPropertyNames(Object.prototype).length;
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(r.has('task', name)).toBe(false);
      expect(r.builtinPackage('task', name)).toBeUndefined();
      expect(() => r.get('task', name)).toThrow(new UsageError(`unknown task plugin "${name}": known task plugins: clt; a third-party plugin must be listed under "plugins:"`));
    }
    expect(Object.getOwnPropertyNames(Object.prototype).length).toBe(before);
  });

  it('suggests the nearest known name for a misspelt one', () => {
    const r = new Registry({ task: { clt: '@goldstone/task-clt', ising: '@goldstone/task-ising' }, model: {}, analysis: {} });
    r.add(analysis, src);
    expect(() => r.get('analysis', 'nop')).toThrow('unknown analysis plugin "nop"; did you mean "noop"? (known analysis plugins: noop;');
    expect(() => r.get('analysis', 'hessian')).toThrow('unknown analysis plugin "hessian": known analysis plugins: noop;');
    // A built-in short name that is known but not installed still says what to install.
    expect(() => r.get('task', 'ising')).toThrow('unknown task plugin "ising": install @goldstone/task-ising');
    expect(() => r.get('task', 'isnig')).toThrow('did you mean "ising"?');
  });
});
