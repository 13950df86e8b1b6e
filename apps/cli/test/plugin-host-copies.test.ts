/**
 * A plugin loaded by path from a folder with its own node_modules (real copies of tfjs-core, the
 * cpu backend, @goldstone/core and @goldstone/plugin-api, each marked) uses the host's copies:
 * one engine, no "kernel … already registered", for ESM and CommonJS plugins alike. Its model's
 * tensors are trained by the host.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const cliDir = resolve(here, '..');
const repo = resolve(cliDir, '..', '..');
const bin = join(cliDir, 'dist', 'bin.js');

function installed(name: string, from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) throw new Error(`${name} is not installed below ${from}`);
  }
}

/** A copy of a package (package.json and the given files), marked so that code can tell it apart. */
function copyPackage(from: string, to: string, files: string[], marker: { file: string; line: string }): void {
  mkdirSync(to, { recursive: true });
  cpSync(join(from, 'package.json'), join(to, 'package.json'));
  for (const f of files) cpSync(join(from, f), join(to, f), { recursive: true });
  appendFileSync(join(to, marker.file), `\n${marker.line}\n`);
}

const ESM_PLUGIN = `import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as core from '@goldstone/core';
import { API_VERSION, defineAnalysis, defineModel, z } from '@goldstone/plugin-api';

/** Which of the folder's own copies this module got (true: its own, false: the host's). */
export const ownCopies = () => ({ tf: '__ownCopy' in tf, core: '__ownCopy' in core });

export const probe = defineAnalysis({
  name: 'own-copies', apiVersion: API_VERSION, options: z.strictObject({}),
  async run(ctx) {
    const w = core.flattenParams(ctx.params, ctx.model.specs);
    const n = tf.norm(w);
    const norm = (await n.data())[0];
    tf.dispose([w, n]);
    return { result: { ...ownCopies(), backend: tf.getBackend(), norm }, provenance: { analysis: 'own-copies', seed: ctx.seed, backend: ctx.backend } };
  },
});

/** y = x·W + b with tensors made by this folder's tfjs import. */
export const linear = defineModel({
  name: 'own-linear', apiVersion: API_VERSION, options: z.strictObject({}),
  create(o, ctx) {
    const n = ctx.inputShape.reduce((a, b) => a * b, 1);
    const k = ctx.outputSize;
    return {
      specs: [{ name: 'W', shape: [n, k] }, { name: 'b', shape: [k] }],
      paramCount: n * k + k,
      init: (rng) => ({ W: tf.tensor(rng.normalArray(n * k, 1 / Math.sqrt(n)), [n, k]), b: tf.zeros([k]) }),
      apply: (p, x) => tf.tidy(() => tf.add(tf.matMul(tf.reshape(x, [-1, n]), p.W), p.b)),
    };
  },
});

export const plugins = [probe, linear];
`;

const CJS_PLUGIN = `const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const core = require('@goldstone/core/package.json');
const { API_VERSION, z } = require('@goldstone/plugin-api');
exports.plugins = [{
  kind: 'analysis', name: 'own-copies-cjs', apiVersion: API_VERSION, options: z.strictObject({}),
  async run(ctx) {
    return { result: { tf: '__ownCopy' in tf, coreVersion: core.version }, provenance: { analysis: 'own-copies-cjs', seed: ctx.seed, backend: ctx.backend } };
  },
}];
`;

describe('a plugin folder with its own tfjs and goldstone copies', () => {
  const root = mkdtempSync(join(tmpdir(), 'goldstone-host-copies-'));
  const esm = join(root, 'esm-plugin');
  const cjs = join(root, 'cjs-plugin');

  beforeAll(() => {
    expect(existsSync(bin), 'build the CLI first (pnpm build)').toBe(true);
    const tfjs = installed('@tensorflow/tfjs-core', cliDir);
    const cpu = installed('@tensorflow/tfjs-backend-cpu', cliDir);
    const nm = join(esm, 'node_modules');
    copyPackage(tfjs, join(nm, '@tensorflow', 'tfjs-core'), ['dist/tf-core.node.js'], { file: 'dist/tf-core.node.js', line: 'exports.__ownCopy = true;' });
    copyPackage(cpu, join(nm, '@tensorflow', 'tfjs-backend-cpu'), ['dist/tf-backend-cpu.node.js'], { file: 'dist/tf-backend-cpu.node.js', line: '' });
    copyPackage(join(repo, 'packages', 'core'), join(nm, '@goldstone', 'core'), ['dist'], { file: 'dist/index.js', line: 'export const __ownCopy = true;' });
    copyPackage(join(repo, 'packages', 'plugin-api'), join(nm, '@goldstone', 'plugin-api'), ['dist'], { file: 'dist/index.js', line: '' });
    for (const [name, from] of [['long', tfjs], ['seedrandom', tfjs], ['node-fetch', tfjs], ['zod', join(repo, 'packages', 'core')], ['pure-rand', join(repo, 'packages', 'core')]]) {
      symlinkSync(installed(name, from), join(nm, name), 'dir');
    }
    writeFileSync(join(esm, 'package.json'), JSON.stringify({ name: 'esm-plugin', version: '1.0.0', type: 'module', exports: { '.': './index.js' } }));
    writeFileSync(join(esm, 'index.js'), ESM_PLUGIN);
    mkdirSync(cjs);
    symlinkSync(nm, join(cjs, 'node_modules'), 'dir');
    writeFileSync(join(cjs, 'package.json'), JSON.stringify({ name: 'cjs-plugin', version: '1.0.0', main: 'index.cjs' }));
    writeFileSync(join(cjs, 'index.cjs'), CJS_PLUGIN);
    writeFileSync(
      join(root, 'exp.yaml'),
      [
        'plugins: [./esm-plugin, ./cjs-plugin]',
        'backend: cpu',
        'task: { name: clt, options: { sites: 8, block: 2, trainSize: 128, testSize: 64 } }',
        'model: { name: own-linear }',
        'train: { epochs: 2 }',
        'analyses: [{ name: own-copies }, { name: own-copies-cjs }]',
        '',
      ].join('\n'),
    );
  });

  it('without goldstone\'s loader, the folder\'s copies are what it imports (the fixture is real)', () => {
    const script = `await import(${JSON.stringify(pathToFileURL(join(repo, 'packages', 'core', 'dist', 'index.js')).href)});
const m = await import(${JSON.stringify(pathToFileURL(join(esm, 'index.js')).href)});
process.stdout.write(JSON.stringify(m.ownCopies()));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ tf: true, core: true });
  });

  it('goldstone run loads it with the host\'s engine and contract: one engine, no duplicate kernels', () => {
    const r = spawnSync(process.execPath, [bin, 'run', join(root, 'exp.yaml'), '--out', join(root, 'run')], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/already registered|already been set/);
    const result = (id: string) => JSON.parse(readFileSync(join(root, 'run', 'analyses', `${id}.json`), 'utf8')).result;
    expect(result('own-copies')).toMatchObject({ tf: false, core: false, backend: 'cpu' });
    expect(Number.isFinite(result('own-copies').norm)).toBe(true);
    expect(result('own-copies-cjs')).toMatchObject({ tf: false });
    // The model's parameters were made by the plugin's import of tfjs and trained by the host.
    const run = JSON.parse(readFileSync(join(root, 'run', 'run.json'), 'utf8'));
    expect(run.status).toBe('completed');
    expect(run.config.model.name).toBe('own-linear');
    const metrics = readFileSync(join(root, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(Number.isFinite(metrics.filter((m) => m['test.loss'] !== undefined).pop()['test.loss'])).toBe(true);
  });
});
