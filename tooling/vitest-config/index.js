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
 * Time-outs for one test and one hook. Generous on purpose: the suite must pass on a busy 2-core
 * machine (turbo runs two packages at a time, other work shares the cores), where a test that takes
 * 4 s alone was measured at over 60 s. A time-out only has to catch a hang.
 */
export const TEST_TIMEOUT_MS = 300_000;

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
      testTimeout: TEST_TIMEOUT_MS,
      hookTimeout: TEST_TIMEOUT_MS,
      pool: 'forks',
      ...test,
    },
  };
}
