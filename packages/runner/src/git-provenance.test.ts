import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { API_VERSION, defineTask, Registry } from '@goldstone/plugin-api';
import { RunStore } from '@goldstone/run-store';
import { toyMlp } from '@goldstone/testkit';
import { parseExperiment } from './experiment';
import { gitProvenance } from './git-provenance';
import { resolveExperiment } from './resolve';
import { runExperiment } from './run-experiment';

const hasGit = (() => {
  try {
    execFileSync('git', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' }).trim();
}

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'goldstone-git-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const line = defineTask({
  name: 'line',
  apiVersion: API_VERSION,
  options: z.object({}),
  create: () => {
    const x = Float32Array.from({ length: 16 }, (_, i) => i / 8 - 1);
    const split = { n: 16, x, y: x.map((v) => 2 * v), xShape: [1], yShape: [1] };
    return { inputShape: [1], outputSize: 1, outputKind: 'regression' as const, loss: 'mse' as const, splits: { train: split, test: split }, metrics: () => ({}) };
  },
});
const registry = new Registry();
registry.add(line, { package: 'test', version: '0.0.0' });
registry.add(toyMlp, { package: 'test', version: '0.0.0' });

async function runIn(gitDir: string, name: string): Promise<Record<string, unknown>> {
  const exp = parseExperiment({ task: { name: 'line' }, model: { name: 'toy-mlp', options: { hidden: 2 } }, train: { epochs: 1, batchSize: 8 } });
  const store = await RunStore.create(join(root, 'runs', name));
  const outcome = await runExperiment({ resolved: resolveExperiment(exp, registry), store, backend: 'cpu', skipAnalyses: true, gitDir });
  expect(outcome.status).toBe('completed');
  return JSON.parse(await readFile(store.path('run.json'), 'utf8'));
}

describe('git provenance in run.json', () => {
  it.skipIf(!hasGit)('records HEAD and the dirty flag of the work tree holding the experiment', async () => {
    const repo = join(root, 'repo');
    execFileSync('git', ['init', '-q', repo]);
    // a repository without a commit has no HEAD: nothing to record
    expect(gitProvenance(repo)).toBeUndefined();
    await writeFile(join(repo, 'exp.yaml'), 'name: x\n');
    git(repo, 'add', 'exp.yaml');
    git(repo, 'commit', '-q', '-m', 'first');
    const head = git(repo, 'rev-parse', 'HEAD');
    expect(gitProvenance(join(repo, 'exp.yaml'))).toEqual({ commit: head, dirty: false });

    const clean = await runIn(repo, 'clean');
    expect(clean.git).toEqual({ commit: head, dirty: false });

    await writeFile(join(repo, 'untracked.txt'), 'x\n');
    const dirty = await runIn(join(repo, 'exp.yaml'), 'dirty');
    expect(dirty.git).toEqual({ commit: head, dirty: true });
  });

  it('leaves the field out outside a work tree, for a missing path, and never throws', async () => {
    const plain = await mkdtemp(join(tmpdir(), 'goldstone-nogit-'));
    try {
      // skip when the temporary directory itself lies inside some work tree
      if (hasGit && gitProvenance(plain) !== undefined) return;
      expect(gitProvenance(plain)).toBeUndefined();
      expect(gitProvenance(join(plain, 'no-such-file.yaml'))).toBeUndefined();
      const run = await runIn(plain, 'outside');
      expect(run).not.toHaveProperty('git');
    } finally {
      await rm(plain, { recursive: true, force: true });
    }
  });

  it('leaves the field out when git cannot be run', async () => {
    const path = process.env.PATH;
    process.env.PATH = join(root, 'empty-path');
    try {
      expect(gitProvenance(process.cwd())).toBeUndefined();
    } finally {
      process.env.PATH = path;
    }
  });
});
