import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Registry } from '@goldstone/plugin-api';
import { RunStore } from '@goldstone/run-store';
import { initBackend } from '@goldstone/core';
import { parseExperiment, resolveExperiment, runExperiment } from '@goldstone/runner';
import { mlp } from '@goldstone/models';
import { mnist } from '@goldstone/task-mnist';
import { varianceFlatness } from './variance-flatness';

const file = fileURLToPath(new URL('../../../experiments/feng-tu.yaml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'feng-tu-'));

// The pipeline at CI size runs on wasm with core's kernel fixes, as the CLI does (about 10× faster than cpu).
let backend = 'cpu';
beforeAll(async () => {
  backend = await initBackend('wasm');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function registry(): Registry {
  const r = new Registry();
  r.add(mnist, { package: '@goldstone/task-mnist', version: '0.1.0' });
  r.add(mlp, { package: '@goldstone/models', version: '0.1.0' });
  r.add(varianceFlatness, { package: '@goldstone/analysis-variance-flatness', version: '0.1.0' });
  return r;
}

describe('experiments/feng-tu.yaml', () => {
  const raw = parse(readFileSync(file, 'utf8'));

  it('declares the published setting at full size', () => {
    const exp = parseExperiment(raw, { file });
    const resolved = resolveExperiment(exp, registry(), file);
    expect(exp.model.options).toMatchObject({ hidden: [50, 50] });
    expect(exp.train).toMatchObject({ optimizer: 'sgd', lr: 0.1, batchSize: 50 });
    expect(resolved.analyses[0].options).toMatchObject({ windowEpochs: 10, components: 50 });
    expect(raw.sweep.grid['train.batchSize']).toContain(50);
    expect(raw.sweep.grid['train.lr']).toContain(0.1);
    expect(raw.sweep.seeds.length).toBeGreaterThan(1);
  });

  it('runs end to end at --quick size and reports ψ with an interval', async () => {
    const exp = parseExperiment(raw, { file, quick: true });
    const resolved = resolveExperiment({ ...exp, backend: 'wasm' }, registry(), file);
    const store = await RunStore.create(join(dir, 'quick'));
    const before = tf.memory().numTensors;
    const outcome = await runExperiment({ resolved, store, backend });
    expect(tf.memory().numTensors).toBe(before);
    expect(outcome.status).toBe('completed');
    const r = outcome.analyses['variance-flatness'].result as Record<string, any>;
    expect(r.subset).toEqual({ params: ['dense1.weight'], size: 2500 });
    expect(r.window.snapshots).toBeGreaterThan(20);
    expect(r.psi).not.toBeNull();
    expect(r.psi.ci[0]).toBeLessThan(r.psi.value);
    expect(r.psi.ci[1]).toBeGreaterThan(r.psi.value);
    expect(r.drift.driftRank).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(readFileSync(join(dir, 'quick', 'analyses', 'variance-flatness.json'), 'utf8')).result.psi.value).toBe(r.psi.value);
  });
});
