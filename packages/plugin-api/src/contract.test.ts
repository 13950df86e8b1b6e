import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { messageOf, RunFailedError, UsageError } from './errors';
import { API_VERSION, defineAnalysis, defineModel, defineTask, type ModelInstance, type TaskInstance } from './plugin';
import { silentProgress } from './progress';
import { isPlugin, NO_BUILTINS, pluginsOf, Registry } from './registry';

// The plugin contract as a plugin author meets it: the define* helpers, what the registry accepts
// and refuses, and the errors it raises.

const task = defineTask({
  name: 'toy',
  apiVersion: API_VERSION,
  description: 'a toy task',
  options: z.object({ n: z.number().default(3) }),
  create: () => ({}) as TaskInstance,
});
const model = defineModel({ name: 'toy', apiVersion: API_VERSION, options: z.object({}), create: () => ({}) as ModelInstance });
const analysis = defineAnalysis({
  name: 'noop',
  apiVersion: API_VERSION,
  options: z.object({}),
  run: async (ctx) => ({ result: null, provenance: { analysis: 'noop', seed: ctx.seed, backend: ctx.backend } }),
});
const src = { package: '@example/toys', version: '1.2.3' };

/** The error a function throws (it must throw). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('define* helpers', () => {
  it('fix the kind and keep every field as given', () => {
    expect(task.kind).toBe('task');
    expect(model.kind).toBe('model');
    expect(analysis.kind).toBe('analysis');
    expect(task.options.parse({})).toEqual({ n: 3 });
    expect(task.description).toBe('a toy task');
    expect(task.apiVersion).toBe(API_VERSION);
    // a wrong kind given by the author is overwritten
    const forced = defineModel({ ...model, kind: 'task' as never });
    expect(forced.kind).toBe('model');
    expect(forced.create).toBe(model.create);
    for (const p of [task, model, analysis]) expect(isPlugin(p), p.kind).toBe(true);
  });

  it('API_VERSION is the integer 1', () => {
    expect(API_VERSION).toBe(1);
  });
});

describe('isPlugin', () => {
  it('needs a known kind, a string name, a numeric apiVersion and an options schema', () => {
    expect(isPlugin(analysis)).toBe(true);
    for (const bad of [
      null,
      undefined,
      'noop',
      42,
      { ...analysis, kind: 'reporter' },
      { ...analysis, name: 7 },
      { ...analysis, apiVersion: '1' },
      { ...analysis, options: null },
      { kind: 'analysis', name: 'x', apiVersion: 1 },
    ]) {
      expect(isPlugin(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('Registry', () => {
  it('adds, finds and lists plugins by kind and name, with their source', () => {
    const r = new Registry();
    r.add(task, src);
    r.add(model, src); // the same name under another kind is another plugin
    r.add(analysis, { package: '@example/more', version: '0.1.0' });
    expect(r.has('task', 'toy')).toBe(true);
    expect(r.has('model', 'toy')).toBe(true);
    expect(r.has('analysis', 'toy')).toBe(false);
    expect(r.get('task', 'toy')).toBe(task);
    expect(r.get('model', 'toy')).toBe(model);
    expect(r.source('analysis', 'noop')).toEqual({ package: '@example/more', version: '0.1.0' });
    expect(r.source('analysis', 'nope')).toBeUndefined();
    expect(r.names('task')).toEqual(['toy']);
    expect(r.names('analysis')).toEqual(['noop']);
    expect(r.list()).toEqual([
      { kind: 'task', name: 'toy', package: '@example/toys', version: '1.2.3', description: 'a toy task' },
      { kind: 'model', name: 'toy', package: '@example/toys', version: '1.2.3' },
      { kind: 'analysis', name: 'noop', package: '@example/more', version: '0.1.0' },
    ]);
  });

  it('sorts names and list entries by name within a kind', () => {
    const r = new Registry();
    for (const name of ['zeta', 'alpha', 'mid']) r.add({ ...analysis, name }, src);
    expect(r.names('analysis')).toEqual(['alpha', 'mid', 'zeta']);
    expect(r.list().map((e) => e.name)).toEqual(['alpha', 'mid', 'zeta']);
    expect(new Registry().list()).toEqual([]);
  });

  it('refuses a second plugin of the same kind and name, naming both packages', () => {
    const r = new Registry();
    r.add(analysis, src);
    r.add(analysis, { package: 'elsewhere', version: '9.9.9' }); // the same object again: no-op
    expect(r.source('analysis', 'noop')).toEqual(src);
    const err = thrown(() => r.add({ ...analysis }, { package: 'rival', version: '1.0.0' }));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toBe('duplicate analysis plugin name "noop": provided by @example/toys and by rival');
    expect(r.get('analysis', 'noop')).toBe(analysis);
  });

  it('refuses what is not a plugin, and a plugin written for another API version', () => {
    const r = new Registry();
    const notPlugin = thrown(() => r.add({ name: 'x' } as never, src));
    expect(notPlugin).toBeInstanceOf(UsageError);
    expect((notPlugin as Error).message).toBe('@example/toys exports something that is not a goldstone plugin');
    for (const v of [0, API_VERSION + 1]) {
      const err = thrown(() => r.add({ ...analysis, apiVersion: v }, src));
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toBe(
        `plugin analysis "noop" from @example/toys was written for plugin API ${v}; this goldstone speaks API ${API_VERSION}`,
      );
    }
    expect(r.list()).toEqual([]);
  });

  it('names the known plugins (added and built-in, sorted, once each) for an unknown name', () => {
    const r = new Registry({ task: { clt: '@goldstone/task-clt', toy: '@example/toys' }, model: {}, analysis: {} });
    r.add(task, src);
    const err = thrown(() => r.get('task', 'spin-chain'));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as Error).message).toBe('unknown task plugin "spin-chain": known task plugins: clt, toy; a third-party plugin must be listed under "plugins:"');
    // a near miss: the nearest name first, the list after it
    expect(() => r.get('task', 'cl')).toThrow('unknown task plugin "cl"; did you mean "clt"? (known task plugins: clt, toy;');
    // a built-in that is not installed: the package to install
    expect(() => r.get('task', 'clt')).toThrow('unknown task plugin "clt": install @goldstone/task-clt');
    expect(() => r.get('model', 'mlp')).toThrow('unknown model plugin "mlp": known model plugins: (none);');
    expect(new Registry().builtins).toBe(NO_BUILTINS);
  });
});

describe('pluginsOf', () => {
  it('reads a plugins array (nested too), a default export, a default { plugins } object, or named exports', () => {
    expect(pluginsOf({ plugins: [task, [model, [analysis]]] })).toEqual([task, model, analysis]);
    expect(pluginsOf({ default: { plugins: [task] } })).toEqual([task]);
    expect(pluginsOf({ default: model, other: analysis })).toEqual([model]);
    expect(pluginsOf({ a: task, b: 'x', c: analysis })).toEqual([task, analysis]);
  });

  it('lists each plugin once, and ignores named exports when plugins or default are given', () => {
    expect(pluginsOf({ plugins: [task, task], default: task })).toEqual([task]);
    expect(pluginsOf({ plugins: [task], extra: analysis })).toEqual([task]);
    expect(pluginsOf({ plugins: [], extra: analysis })).toEqual([analysis]);
    expect(pluginsOf({})).toEqual([]);
  });
});

describe('errors', () => {
  it('UsageError: exit code 2, where the mistake is, a plain Error otherwise', () => {
    const e = new UsageError('exp.yaml: train.lr: expected a positive number, found -1', { file: 'exp.yaml', field: 'train.lr' });
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'UsageError', exitCode: 2, file: 'exp.yaml', field: 'train.lr' });
    expect(e.message).toBe('exp.yaml: train.lr: expected a positive number, found -1');
    const bare = new UsageError('no such file');
    expect(bare.file).toBeUndefined();
    expect(bare.field).toBeUndefined();
    expect(String(bare)).toBe('UsageError: no such file');
  });

  it('RunFailedError: exit code 1', () => {
    const e = new RunFailedError('training diverged');
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(UsageError);
    expect(e).toMatchObject({ name: 'RunFailedError', exitCode: 1, message: 'training diverged' });
  });

  it('messageOf: an Error\'s message, anything else as a string', () => {
    expect(messageOf(new TypeError('bad'))).toBe('bad');
    expect(messageOf(new UsageError('usage'))).toBe('usage');
    expect(messageOf('plain')).toBe('plain');
    expect(messageOf(42)).toBe('42');
    expect(messageOf(undefined)).toBe('undefined');
    expect(messageOf({ toString: () => 'custom' })).toBe('custom');
  });
});

describe('silentProgress', () => {
  it('implements every Progress method', () => {
    for (const m of ['start', 'tick', 'stop', 'log'] as const) expect(typeof silentProgress[m], m).toBe('function');
  });
});
