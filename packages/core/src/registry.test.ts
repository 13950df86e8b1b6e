import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UsageError } from './errors';
import { defineAnalysis, defineModel, API_VERSION } from './plugin';
import { buildRegistry, loadPluginModule, pluginsOf, Registry } from './registry';

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
    const r = new Registry();
    expect(() => r.get('task', 'jets')).toThrow('unknown task plugin "jets": install @goldstone/task-jets');
    expect(() => r.get('analysis', 'nope')).toThrow(UsageError);
    expect(() => r.get('analysis', 'nope')).toThrow(/must be listed under "plugins:"/);
  });

  it('finds plugins in a module: plugins export, default export or named exports', () => {
    expect(pluginsOf({ plugins: [analysis] })).toEqual([analysis]);
    expect(pluginsOf({ default: analysis })).toEqual([analysis]);
    expect(pluginsOf({ a: analysis, b: 3 })).toEqual([analysis]);
    expect(pluginsOf({ a: 1 })).toEqual([]);
  });
});

describe('loadPluginModule', () => {
  const dir = mkdtempSync(join(tmpdir(), 'goldstone-registry-'));
  const pkgDir = join(dir, 'my-plugin');
  mkdirSync(pkgDir);
  writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name: 'my-plugin', version: '3.1.4', type: 'module', exports: { '.': { import: './main.js' } } }));
  writeFileSync(
    join(pkgDir, 'main.js'),
    `export const plugins = [{ kind: 'analysis', name: 'outsider', apiVersion: ${API_VERSION}, options: {}, run: async () => ({}) }];`,
  );

  it('loads a plugin package given by path, with its name and version', async () => {
    const { plugins, source } = await loadPluginModule('./my-plugin', { bases: [dir], relativeTo: dir });
    expect(plugins.map((p) => p.name)).toEqual(['outsider']);
    expect(source).toEqual({ package: 'my-plugin', version: '3.1.4' });
  });

  it('names the file and field when a path or package is missing', async () => {
    await expect(loadPluginModule('./nope', { bases: [dir], relativeTo: dir, where: 'exp.yaml: plugins[1]' })).rejects.toThrow(
      /exp.yaml: plugins\[1\]: plugin path ".\/nope" does not exist/,
    );
    await expect(loadPluginModule('not-installed-pkg', { bases: [dir], relativeTo: dir })).rejects.toThrow(
      'plugin package "not-installed-pkg" is not installed: install not-installed-pkg',
    );
  });

  it('builds a registry from a plugins list, and a duplicate name across modules is an error', async () => {
    const reg = await buildRegistry({ plugins: ['./my-plugin'], bases: [dir], relativeTo: dir });
    expect(reg.names('analysis')).toEqual(['outsider']);
    const twinDir = join(dir, 'twin');
    mkdirSync(twinDir);
    writeFileSync(join(twinDir, 'package.json'), JSON.stringify({ name: 'twin', version: '1.0.0', type: 'module', main: 'main.js' }));
    writeFileSync(join(twinDir, 'main.js'), `export default { kind: 'analysis', name: 'outsider', apiVersion: ${API_VERSION}, options: {}, run: async () => ({}) };`);
    await expect(buildRegistry({ plugins: ['./my-plugin', './twin'], bases: [dir], relativeTo: dir })).rejects.toThrow(
      /duplicate analysis plugin name "outsider": provided by my-plugin and by twin/,
    );
  });
});
