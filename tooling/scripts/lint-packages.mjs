#!/usr/bin/env node
/* eslint-disable no-console -- a command-line script: its output is the point */
// Packaging checks of every workspace package, run by `pnpm lint:packages` (after `pnpm build`: the
// tarballs take dist/ as it is):
//   1. package.json shape (design.md, "Each package the same shape" and "Dependencies"), for packages/*,
//      apps/* and examples/*: key order; license, repository (with this folder as directory), keywords
//      (`goldstone-plugin` for plugins); `sideEffects` stated; every `exports` entry an object with
//      `types`, `import` and `default`, in that order; LICENSE in `files`; tfjs peers `^4.22.0`;
//      workspace dependencies `workspace:^`, external ones `catalog:`; examples/* private.
//   2. For each public package, its `pnpm pack` tarball: LICENSE (identical to the root one) inside, no
//      `workspace:`/`catalog:` range left, then publint (`--strict`: warnings fail) and
//      arethetypeswrong with the esm-only profile (these packages are ESM only; require() of ESM works
//      from Node 20.19, the engines floor, so the CommonJS resolution modes are not checked).
// One line per package; details of what failed below it. Exit status 1 if anything failed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, packPackage, workspacePackages } from './pack-packages.mjs';

const args = process.argv.slice(2);
const onlyManifests = args.includes('--manifests-only');
if (args.some((a) => a !== '--manifests-only')) {
  console.error('usage: node tooling/scripts/lint-packages.mjs [--manifests-only]');
  process.exit(2);
}

/** The key order every package.json follows (keys not listed here may appear anywhere). */
const KEY_ORDER = [
  'name', 'version', 'private', 'description', 'keywords', 'license', 'repository', 'type', 'sideEffects',
  'exports', 'main', 'types', 'bin', 'files', 'engines', 'scripts',
  'dependencies', 'peerDependencies', 'peerDependenciesMeta', 'optionalDependencies', 'devDependencies',
];
const CONDITIONS = ['types', 'import', 'default'];
const TFJS_PEER = '^4.22.0';
const isPlugin = (name) => /^@goldstone\/(models|task-.+|analysis-.+)$/.test(name) || /^goldstone-(task|model|analysis)s?-/.test(name);
const ROOT_LICENSE = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
const bin = (name) => join(ROOT, 'node_modules', '.bin', name);

/** Problems of one package.json: [errors, warnings]. */
function checkManifest({ rel, dir, manifest: m }, workspaceNames) {
  const errors = [];
  const warnings = [];
  const group = rel.split('/')[0];
  if (group === 'examples' && m.private !== true) errors.push('examples/* must be "private": true');

  const keys = Object.keys(m).filter((k) => KEY_ORDER.includes(k));
  const sorted = [...keys].sort((a, b) => KEY_ORDER.indexOf(a) - KEY_ORDER.indexOf(b));
  if (keys.join() !== sorted.join()) errors.push(`key order: ${keys.join(', ')}; expected ${sorted.join(', ')}`);

  for (const field of ['name', 'version', 'description', 'license', 'type', 'engines']) {
    if (m[field] === undefined) errors.push(`no "${field}"`);
  }
  if (m.license !== undefined && m.license !== 'MIT') errors.push(`license is "${m.license}", not "MIT"`);
  if (m.type !== undefined && m.type !== 'module') errors.push(`type is "${m.type}", not "module"`);
  if (!m.engines?.node) errors.push('no engines.node');
  if (typeof m.repository !== 'object' || !m.repository?.url) errors.push('no repository.url');
  else if (m.repository.directory !== rel) errors.push(`repository.directory is "${m.repository.directory}", not "${rel}"`);
  if (!Array.isArray(m.keywords) || m.keywords.length === 0) errors.push('no keywords');
  else {
    if (!m.keywords.includes('goldstone')) errors.push('keywords lack "goldstone"');
    if (isPlugin(m.name) && !m.keywords.includes('goldstone-plugin')) errors.push('a plugin: keywords lack "goldstone-plugin"');
  }
  if (typeof m.sideEffects !== 'boolean' && !Array.isArray(m.sideEffects)) errors.push('sideEffects not stated (true, false or a list of files)');

  if (!m.exports || typeof m.exports !== 'object' || !m.exports['.']) errors.push('no exports["."]');
  else {
    for (const [subpath, target] of Object.entries(m.exports)) {
      if (subpath === './package.json') continue;
      if (typeof target !== 'object' || target === null || Array.isArray(target)) {
        errors.push(`exports["${subpath}"] is not a { types, import, default } object`);
        continue;
      }
      if (Object.keys(target).join() !== CONDITIONS.join()) {
        errors.push(`exports["${subpath}"] conditions are ${Object.keys(target).join(', ')}; expected ${CONDITIONS.join(', ')}`);
      } else if (target.import !== target.default || !/\.d\.ts$/.test(target.types)) {
        errors.push(`exports["${subpath}"]: import and default must be the same file and types a .d.ts`);
      }
    }
    if (m.exports['./package.json'] !== './package.json') warnings.push('exports lacks "./package.json": "./package.json"');
  }
  if (!m.files?.includes('LICENSE')) errors.push('files lacks "LICENSE"');

  for (const [dep, range] of Object.entries(m.peerDependencies ?? {})) {
    if (dep.startsWith('@tensorflow/') && range !== TFJS_PEER) errors.push(`peerDependencies.${dep} is "${range}", not "${TFJS_PEER}"`);
  }
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
    for (const [dep, range] of Object.entries(m[field] ?? {})) {
      if (workspaceNames.has(dep)) {
        if (field !== 'peerDependencies' && range !== 'workspace:^') errors.push(`${field}.${dep} is "${range}", not "workspace:^"`);
      } else if (field !== 'peerDependencies' && range !== 'catalog:') {
        errors.push(`${field}.${dep} is "${range}", not "catalog:" (external versions live in the pnpm catalog)`);
      }
    }
  }
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies']) {
    if (m[field]?.['@tensorflow/tfjs']) errors.push(`${field} has the @tensorflow/tfjs union package (design.md: nothing imports it)`);
  }
  if (!m.private) {
    if (!existsSync(join(dir, 'LICENSE'))) errors.push('no LICENSE file in the package folder');
    else if (readFileSync(join(dir, 'LICENSE'), 'utf8') !== ROOT_LICENSE) errors.push('LICENSE differs from the root LICENSE');
    if (!existsSync(join(dir, 'README.md'))) errors.push('no README.md (files lists it; npm shows it on the package page)');
  }
  return [errors, warnings];
}

/** Run a tool; returns [ok, output]. */
function run(command, argv) {
  try {
    return [true, execFileSync(command, argv, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } })];
  } catch (error) {
    return [false, `${error.stdout ?? ''}${error.stderr ?? ''}` || String(error)];
  }
}

const indent = (text) => text.trimEnd().split('\n').map((line) => `    ${line}`).join('\n');

const all = workspacePackages(['packages', 'apps', 'examples']);
const workspaceNames = new Set(workspacePackages(['packages', 'apps', 'examples', 'tooling']).map((p) => p.manifest.name));
const out = onlyManifests ? undefined : mkdtempSync(join(tmpdir(), 'goldstone-lint-packages-'));
let failed = 0;
let warned = 0;
try {
  for (const pkg of all) {
    const [errors, warnings] = checkManifest(pkg, workspaceNames);
    const tools = [];
    if (!pkg.manifest.private && out) {
      let packed;
      try {
        packed = packPackage(pkg, out);
      } catch (error) {
        errors.push(`pnpm pack failed: ${error.stderr ?? error}`);
      }
      if (packed) {
        errors.push(...packed.problems.map((p) => `tarball: ${p}`));
        const [publintOk, publintOut] = run(bin('publint'), ['run', packed.tarball, '--strict']);
        const suggestions = publintOut.split('\n').filter((l) => /^\s*\d+\./.test(l)).length;
        tools.push(publintOk ? `publint ok${suggestions ? ` (${suggestions} suggestion${suggestions > 1 ? 's' : ''})` : ''}` : 'publint FAILED');
        if (!publintOk || suggestions) (publintOk ? warnings : errors).push(`publint:\n${indent(publintOut)}`);
        const [attwOk, attwOut] = run(bin('attw'), [packed.tarball, '--profile', 'esm-only', '--format', 'table-flipped']);
        tools.push(attwOk ? 'attw ok' : 'attw FAILED');
        if (!attwOk) errors.push(`attw:\n${indent(attwOut)}`);
      }
    }
    const status = errors.length ? 'FAIL' : 'ok  ';
    const what = pkg.manifest.private ? 'private; package.json only' : ['package.json ok', ...tools].join(', ');
    console.log(`${status} ${pkg.manifest.name} (${pkg.rel}): ${errors.length ? `${errors.length} problem${errors.length > 1 ? 's' : ''}` : what}`);
    for (const e of errors) console.log(`  error: ${e}`);
    for (const w of warnings) console.log(`  warning: ${w}`);
    if (errors.length) failed++;
    if (warnings.length) warned++;
  }
} finally {
  if (out) rmSync(out, { recursive: true, force: true });
}
console.log(`lint:packages: ${all.length - failed} of ${all.length} packages ok${warned ? `, ${warned} with warnings` : ''}`);
process.exitCode = failed ? 1 : 0;
