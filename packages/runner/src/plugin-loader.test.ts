import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_VERSION, defineTask, NO_BUILTINS, Registry, UsageError, z } from '@goldstone/plugin-api';
import { parseAssignments, parseExperiment } from './experiment';
import { registryFor, type PluginEnvironment } from './plugin-environment';
import { buildRegistry, loadPluginModule } from './plugin-loader';
import { resolveExperiment } from './resolve';

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
    const reg = await buildRegistry({ builtins: NO_BUILTINS, plugins: ['./my-plugin'], bases: [dir], relativeTo: dir });
    expect(reg.names('analysis')).toEqual(['outsider']);
    const twinDir = join(dir, 'twin');
    mkdirSync(twinDir);
    writeFileSync(join(twinDir, 'package.json'), JSON.stringify({ name: 'twin', version: '1.0.0', type: 'module', main: 'main.js' }));
    writeFileSync(join(twinDir, 'main.js'), `export default { kind: 'analysis', name: 'outsider', apiVersion: ${API_VERSION}, options: {}, run: async () => ({}) };`);
    await expect(buildRegistry({ builtins: NO_BUILTINS, plugins: ['./my-plugin', './twin'], bases: [dir], relativeTo: dir })).rejects.toThrow(
      /duplicate analysis plugin name "outsider": provided by my-plugin and by twin/,
    );
  });
});

const clt = defineTask({ name: 'clt', apiVersion: API_VERSION, options: z.object({}), create: () => ({}) as never });

describe('hostile plugin names and packages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'goldstone-hostile-'));
  const env: PluginEnvironment = { builtins: { task: { clt: '@goldstone/task-clt' }, model: { mlp: '@goldstone/models' }, analysis: {} }, bases: [dir] };

  it('a plugin named constructor, toString or __proto__ is an unknown plugin (exit 2), not a crash', async () => {
    const clean = Object.getOwnPropertyNames(Object.prototype).sort();
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      for (const [kind, field] of [
        ['task', 'task.name'],
        ['model', 'model.name'],
        ['analysis', 'analyses[0].name'],
      ] as const) {
        const raw = { task: { name: 'clt' }, model: { name: 'mlp' }, analyses: [{ name: 'hessian' }] };
        const exp = parseExperiment(raw, { file: 'exp.yaml', set: parseAssignments([`${field}=${name}`]) });
        const registry = await registryFor(env, exp, dir, 'exp.yaml');
        let err: unknown;
        try {
          resolveExperiment(exp, registry, 'exp.yaml');
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(UsageError);
        expect((err as Error).message).toMatch(new RegExp(`: unknown ${kind} plugin "${name}"`));
      }
    }
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(clean);
  });

  it('a misspelt plugin name is named where it was written, with the nearest known name', async () => {
    const raw = { task: { name: 'clt' }, model: { name: 'mlp' }, quick: { model: { name: 'mpl' } } };
    const fromSet = parseExperiment(raw, { file: 'exp.yaml', set: parseAssignments(['task.name=cltt']) });
    expect(() => resolveExperiment(fromSet, new Registry(env.builtins), 'exp.yaml')).toThrow(
      /^--set task\.name=cltt: task\.name: unknown task plugin "cltt"; did you mean "clt"\? \(known task plugins: clt;/,
    );
    const fromQuick = parseExperiment(raw, { file: 'exp.yaml', quick: true });
    const registry = new Registry(env.builtins);
    registry.add(clt, { package: 'test', version: '0.0.0' });
    expect(() => resolveExperiment(fromQuick, registry, 'exp.yaml')).toThrow(/^exp\.yaml: quick\.model\.name: unknown model plugin "mpl"; did you mean "mlp"\?/);
  });

  it('a broken package.json names its file; a specifier that is neither a path nor a package name is refused', async () => {
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'package.json'), '{"name": "broken",');
    await expect(loadPluginModule('./broken', { bases: [dir], relativeTo: dir, where: 'exp.yaml: plugins[0]' })).rejects.toThrow(
      new RegExp(`^${join(broken, 'package.json')}: cannot read this plugin's package.json: `),
    );
    await expect(loadPluginModule('evil/../../etc', { bases: [dir], relativeTo: dir, where: 'exp.yaml: plugins[0]' })).rejects.toThrow(
      'exp.yaml: plugins[0]: "evil/../../etc" is neither a path (./…, ../…, /…) nor a package name',
    );
  });

  it('a built-in package that fails to load names the field that asked for it', async () => {
    const pkgDir = join(dir, 'node_modules', '@goldstone', 'task-clt');
    mkdirSync(pkgDir, { recursive: true });
    writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name: '@goldstone/task-clt', version: '9.9.9', type: 'module', main: 'main.js' }));
    writeFileSync(join(pkgDir, 'main.js'), 'throw new Error("boom");');
    const exp = parseExperiment({ task: { name: 'clt' }, model: { name: 'mlp' } }, { file: 'exp.yaml' });
    await expect(registryFor(env, exp, dir, 'exp.yaml')).rejects.toThrow(/^exp\.yaml: task\.name: could not load plugin module "@goldstone\/task-clt" \(.*\): boom$/);
  });
});

