import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The `name` and `version` of the package a module belongs to, read from the nearest package.json
 * above the module (`import.meta.url`), so that provenance never carries a version typed by hand.
 * Works from source and from the build alike.
 */
export function packageInfo(moduleUrl: string): { name: string; version: string } {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name && pkg.version) return { name: pkg.name, version: pkg.version };
    } catch {
      // no package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json with a name and version above ${fileURLToPath(moduleUrl)}`);
    dir = parent;
  }
}
