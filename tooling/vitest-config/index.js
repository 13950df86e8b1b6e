import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Map every workspace package name (and subpath export) to its TypeScript source, so tests run against source. */
function sourceAliases() {
  const aliases = [];
  for (const group of ['packages', 'apps', 'examples']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir)) {
      const pkgFile = join(dir, entry, 'package.json');
      const src = join(dir, entry, 'src', 'index.ts');
      if (!existsSync(pkgFile) || !existsSync(src)) continue;
      const { name, exports } = JSON.parse(readFileSync(pkgFile, 'utf8'));
      const escaped = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      aliases.push({ find: new RegExp(`^${escaped}$`), replacement: src });
      // Subpath exports (`./format` → dist/format.js) resolve to their source file (src/format.ts).
      for (const key of Object.keys(exports ?? {})) {
        const sub = key.match(/^\.\/([\w-]+)$/)?.[1];
        const file = join(dir, entry, 'src', `${sub}.ts`);
        if (sub && existsSync(file)) aliases.push({ find: new RegExp(`^${escaped}/${sub}$`), replacement: file });
      }
    }
  }
  return aliases;
}

/**
 * The shared vitest preset: node environment, tests beside the code, workspace packages
 * resolved to their TypeScript source.
 * @param {import('vitest/config').UserConfig['test']} [test]
 */
export function preset(test = {}) {
  return {
    resolve: { alias: sourceAliases() },
    test: {
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      pool: 'forks',
      ...test,
    },
  };
}
