import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostPackages, ownCopies, packageDirFrom, packageNameOf } from './host-modules';

// The end-to-end check (a plugin folder with real copies of tfjs, loaded by the CLI, sees the host's
// engine) is in apps/cli/test/plugin-host-copies.test.ts: Node's resolve hooks are process-wide.

describe('host modules', () => {
  it('names the package of a bare specifier, and nothing for paths and URLs', () => {
    expect(packageNameOf('@tensorflow/tfjs-core')).toBe('@tensorflow/tfjs-core');
    expect(packageNameOf('@tensorflow/tfjs-core/dist/register_all_gradients.js')).toBe('@tensorflow/tfjs-core');
    expect(packageNameOf('zod/v4')).toBe('zod');
    expect(packageNameOf('./index.js')).toBeUndefined();
    expect(packageNameOf('/abs/file.js')).toBeUndefined();
    expect(packageNameOf('file:///x.js')).toBeUndefined();
    expect(packageNameOf('node:fs')).toBeUndefined();
  });

  it('finds the host copies of the engine and the contract', () => {
    const host = hostPackages();
    for (const name of ['@tensorflow/tfjs-core', '@goldstone/plugin-api', '@goldstone/core']) expect(host.get(name)?.dir, name).toBeTruthy();
  });

  it('sees the copies a plugin folder would load of its own, and none for a plugin without node_modules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-host-copies-'));
    const plugin = join(dir, 'plugin');
    const copy = join(plugin, 'node_modules', '@tensorflow', 'tfjs-core');
    mkdirSync(copy, { recursive: true });
    writeFileSync(join(copy, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-core', version: '4.22.0' }));
    writeFileSync(join(plugin, 'index.js'), 'export const plugins = [];');
    const copies = ownCopies(join(plugin, 'index.js'));
    expect(copies.map((c) => c.name)).toEqual(['@tensorflow/tfjs-core']);
    expect(copies[0].copy).toBe(packageDirFrom('@tensorflow/tfjs-core', plugin));
    expect(copies[0].host).toBe(hostPackages().get('@tensorflow/tfjs-core')?.dir);

    const bare = join(dir, 'bare');
    mkdirSync(bare);
    expect(ownCopies(join(bare, 'index.js'))).toEqual([]);
  });
});
