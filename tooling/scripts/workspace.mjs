// The workspace's packages, for the tooling scripts: one walk over packages/*, apps/*, … folders.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Workspace packages under `groups` (default: the publishable ones, packages/* and apps/*), sorted by folder. */
export function workspacePackages(groups = ['packages', 'apps']) {
  const out = [];
  for (const group of groups) {
    const groupDir = join(ROOT, group);
    if (!existsSync(groupDir)) continue;
    for (const name of readdirSync(groupDir).sort()) {
      const dir = join(groupDir, name);
      const file = join(dir, 'package.json');
      if (!statSync(dir).isDirectory() || !existsSync(file)) continue;
      out.push({ dir, rel: `${group}/${name}`, manifest: JSON.parse(readFileSync(file, 'utf8')) });
    }
  }
  return out;
}
