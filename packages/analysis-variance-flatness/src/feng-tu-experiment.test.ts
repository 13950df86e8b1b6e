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
  // this package's analysis only: the experiment's other analyses (the landscape) are tested in their own packages
  const file0 = parse(readFileSync(file, 'utf8'));
  const own = (list: { name: string }[] | undefined) => list?.filter((a) => a.name === 'variance-flatness');
  const raw = { ...file0, analyses: own(file0.analyses), quick: { ...file0.quick, analyses: own(file0.quick.analyses) } };

  it('declares the published setting at full size, windows by learning time, and a sweep at matched t', () => {
    const exp = parseExperiment(raw, { file });
    const resolved = resolveExperiment(exp, registry(), file);
    expect(exp.task.options).toMatchObject({ trainSize: 9000, testSize: 1000 });
    expect(exp.model.options).toMatchObject({ hidden: [50, 50] });
    expect(exp.train).toMatchObject({ optimizer: 'sgd', lr: 0.1, batchSize: 50 });
    const o = resolved.analyses[0].options as Record<string, any>;
    expect(o).toMatchObject({ lr: 0.1, center: 'mean', fitFrom: 2, fitTo: 50, components: 50 });
    expect(o.bootstrap).toBeGreaterThanOrEqual(1000);
    expect(o.windowEnds.length).toBeGreaterThanOrEqual(3);
    // the convergence scan ends at the end of training: t = α · epochs · steps per epoch
    const steps = (exp.train.epochs as number) * Math.ceil(9000 / 50);
    expect(Math.max(...o.windowEnds)).toBeCloseTo(0.1 * steps, 9);
    const parts = raw.sweep.parts as { name: string; zip: Record<string, unknown[]>; seeds?: number[] }[];
    expect(parts.map((p) => p.name)).toEqual(['alpha-b', 'train-size']);
    expect(raw.sweep.seeds.length).toBeGreaterThanOrEqual(5);
    // alpha-b: every (α, B) row reaches the same learning time α · epochs · ⌈9000/B⌉, the analysis lr follows train.lr
    const ab = parts[0].zip;
    const times = (ab['train.lr'] as number[]).map((lr, i) => lr * (ab['train.epochs'] as number[])[i] * Math.ceil(9000 / (ab['train.batchSize'] as number[])[i]));
    const ends = (ab['analyses[0].options.windowEnds'] as number[][]).map((e) => Math.max(...e));
    times.forEach((t, i) => expect(t).toBeCloseTo(ends[i], 9));
    expect(ab['analyses[0].options.lr']).toEqual(ab['train.lr']);
    expect(ab['train.lr']).toContain(0.1);
    expect(new Set((ab['train.lr'] as number[]).map((lr, i) => lr / (ab['train.batchSize'] as number[])[i])).size).toBeGreaterThan(2);
    // train-size: the same t at α = 0.1, B = 50
    const ts = parts[1].zip;
    (ts['task.options.trainSize'] as number[]).forEach((n, i) =>
      expect(0.1 * (ts['train.epochs'] as number[])[i] * Math.ceil(n / 50)).toBeCloseTo(Math.max(...(ts['analyses[0].options.windowEnds'] as number[][])[i]), 9),
    );
  });

  it('runs end to end at --quick size and reports ψ by three fits, the convergence scan and ψ against the PCs used', async () => {
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
    expect(r.window.placement).toBe('learning-time');
    expect(r.windows.map((w: any) => w.endTime)).toEqual([10, 13, 16]);
    expect(r.setting).toMatchObject({ lr: 0.1, batchSize: 50, trainSize: 1000, endTime: 16 });
    expect(r.psi).not.toBeNull();
    expect(r.fits.ols.value).toBeCloseTo(r.psi.value, 12);
    for (const e of ['ols', 'reverse', 'rma']) expect(r.fits[e].ci[0]).toBeLessThanOrEqual(r.fits[e].ci[1]);
    expect(r.psiByFitTo.map((f: any) => f.to)).toEqual([6, 9, 12]);
    expect(r.convergence.windows).toBe(3);
    expect(outcome.analyses['variance-flatness'].figures!.map((f) => f.name)).toContain('psi-convergence');
    expect(JSON.parse(readFileSync(join(dir, 'quick', 'analyses', 'variance-flatness.json'), 'utf8')).result.psi.value).toBe(r.psi.value);
  });
});
