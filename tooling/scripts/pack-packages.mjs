#!/usr/bin/env node
// Pack every public workspace package (packages/* and apps/* without "private": true) with `pnpm pack`,
// the way `changeset publish` will, and check what the tarballs hold: no `workspace:` or `catalog:`
// specifier left in the packed package.json, and every file it names in `files` that must ship.
// Run `pnpm build` first: the tarballs take dist/ as it is.
//
//   node tooling/scripts/pack-packages.mjs OUT_DIR                  pack into OUT_DIR, one line per package
//   node tooling/scripts/pack-packages.mjs OUT_DIR --closure A B …   then print, one per line, the tarballs
//                                                                   of A, B, … and of every workspace package
//                                                                   they depend on, transitively
// OUT_DIR/index.json lists each package's name, version, tarball, packed dependencies and files.
// Exit status 1 when a packed package.json is wrong, 2 on bad arguments.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, workspacePackages } from './workspace.mjs';

const DEPENDENCY_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies'];

export { ROOT, workspacePackages };

export const publicPackages = () => workspacePackages().filter((p) => !p.manifest.private);

/**
 * `pnpm pack` one package into outDir; returns the tarball, its packed package.json, the files in it,
 * and the problems found in the packed manifest.
 */
export function packPackage(pkg, outDir) {
  const json = execFileSync('pnpm', ['pack', '--pack-destination', outDir, '--json'], {
    cwd: pkg.dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  // pnpm may print lifecycle-script output before the JSON document.
  const info = JSON.parse(json.slice(json.indexOf('{')));
  const tarball = info.filename;
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }));
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
  const problems = [];
  for (const field of DEPENDENCY_FIELDS) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (/^(workspace|catalog):/.test(String(range))) problems.push(`${field}.${dep} is still "${range}"`);
    }
  }
  for (const wanted of ['package.json', 'LICENSE']) {
    if (!files.includes(wanted)) problems.push(`${wanted} is not in the tarball`);
  }
  return { name: manifest.name, version: manifest.version, tarball, manifest, files, problems };
}

/** Names of the workspace packages `roots` need at run time: themselves and their dependencies, transitively. */
export function internalClosure(packed, roots) {
  const byName = new Map(packed.map((p) => [p.name, p]));
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    const pkg = byName.get(name);
    if (!pkg) throw new Error(`${name} is not a public workspace package`);
    seen.add(name);
    for (const field of ['dependencies', 'optionalDependencies']) {
      for (const dep of Object.keys(pkg.manifest[field] ?? {})) if (byName.has(dep)) visit(dep);
    }
  };
  roots.forEach(visit);
  return [...seen];
}

function main(argv) {
  const [outArg, flag, ...roots] = argv;
  if (!outArg || outArg.startsWith('-') || (flag !== undefined && (flag !== '--closure' || roots.length === 0))) {
    console.error('usage: node tooling/scripts/pack-packages.mjs OUT_DIR [--closure PACKAGE…]');
    return 2;
  }
  const outDir = resolve(outArg);
  mkdirSync(outDir, { recursive: true });
  const packed = [];
  let failed = 0;
  for (const pkg of publicPackages()) {
    const result = packPackage(pkg, outDir);
    packed.push(result);
    const deps = Object.entries(result.manifest.dependencies ?? {});
    const shown = [deps.find(([d]) => d.startsWith('@goldstone/')), deps.find(([d]) => !d.startsWith('@goldstone/'))]
      .filter(Boolean)
      .map(([d, range]) => `${d}@${range}`);
    if (result.problems.length > 0) {
      failed++;
      console.error(`pack: FAIL ${result.name}: ${result.problems.join('; ')}`);
    } else {
      const sample = shown.length > 0 ? `; e.g. ${shown.join(', ')}` : '';
      console.error(`pack: ok   ${result.name}@${result.version} (${result.files.length} files${sample})`);
    }
  }
  const index = packed.map(({ name, version, tarball, manifest, files }) => ({
    name,
    version,
    tarball,
    dependencies: manifest.dependencies ?? {},
    peerDependencies: manifest.peerDependencies ?? {},
    files,
  }));
  writeFileSync(join(outDir, 'index.json'), JSON.stringify(index, null, 2) + '\n');
  if (failed > 0) return 1;
  if (flag === '--closure') {
    const byName = new Map(packed.map((p) => [p.name, p]));
    for (const name of internalClosure(packed, roots)) process.stdout.write(`${byName.get(name).tarball}\n`);
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
