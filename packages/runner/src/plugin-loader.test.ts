import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_VERSION, NO_BUILTINS } from '@goldstone/plugin-api';
import { buildRegistry, loadPluginModule } from './plugin-loader';

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
