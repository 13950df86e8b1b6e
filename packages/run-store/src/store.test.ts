import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { disposeParams, paramsFromArray, paramsToArray } from '@goldstone/core';
import type { ParamSpec, AnalysisResult } from '@goldstone/plugin-api';
import { RunStore } from './store';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function newDir(): Promise<string> {
  return join(await fsp.mkdtemp(join(tmpdir(), 'goldstone-store-')), 'run');
}

/** Every file under `dir`, relative, sorted (hidden temporaries included). */
async function listAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) for (const f of await listAll(join(dir, e.name))) out.push(`${e.name}/${f}`);
    else out.push(e.name);
  }
  return out.sort();
}

const specs: ParamSpec[] = [
  { name: 'w', shape: [2, 2] },
  { name: 'b', shape: [2] },
];

describe('RunStore', () => {
  it('creates the run directory layout and refuses to clobber a run', async () => {
    const dir = await newDir();
    const store = await RunStore.create(dir);
    expect(store.dir).toBe(dir);
    expect(await listAll(dir)).toEqual(['run.json']);
    expect((await fsp.stat(store.path('checkpoints'))).isDirectory()).toBe(true);
    expect((await fsp.stat(store.path('analyses'))).isDirectory()).toBe(true);
    const run = await store.readRun();
    expect(run.status).toBe('created');
    await expect(RunStore.create(dir)).rejects.toThrow(/already holds a run/);
    await expect(RunStore.create(await newDir(), { resume: true })).rejects.toThrow(/not a goldstone run directory/);
    const again = await RunStore.create(dir, { resume: true });
    expect((await again.readRun()).createdAt).toBe(run.createdAt);
    expect(() => store.path('..', 'elsewhere')).toThrow(/outside the run directory/);
  });

  it('merges patches into run.json and refreshes updatedAt', async () => {
    const store = await RunStore.create(await newDir());
    const first = await store.readRun();
    await new Promise((r) => setTimeout(r, 5));
    // not awaited one by one: the store keeps them in order
    const a = store.updateRun({ status: 'running', seed: 3 });
    const b = store.updateRun({ config: { lr: 0.1 } });
    const c = store.updateRun({ status: 'completed', ignored: undefined });
    await Promise.all([a, b, c]);
    const run = await store.readRun();
    expect(run).toMatchObject({ status: 'completed', seed: 3, config: { lr: 0.1 }, createdAt: first.createdAt });
    expect('ignored' in run).toBe(false);
    expect(Date.parse(run.updatedAt as string)).toBeGreaterThan(Date.parse(first.updatedAt as string));
  });

  it('writes JSON and text atomically, leaving no temporary files', async () => {
    const store = await RunStore.create(await newDir());
    await store.writeJson('notes/a.json', { x: [1, 2] });
    await store.writeText('report.html', '<p>hi</p>');
    expect(await store.readJson('notes/a.json')).toEqual({ x: [1, 2] });
    expect(await fsp.readFile(store.path('report.html'), 'utf8')).toBe('<p>hi</p>');
    expect(await listAll(store.dir)).toEqual(['notes/a.json', 'report.html', 'run.json']);
    await expect(store.readJson('missing.json')).rejects.toThrow(/missing.json: cannot read \(ENOENT\)/);
  });

  it('keeps the old content when a write fails', async () => {
    const store = await RunStore.create(await newDir());
    await store.writeJson('x.json', { v: 1 });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(store.writeJson('x.json', circular)).rejects.toThrow(/circular/i);
    vi.spyOn(fsp, 'rename').mockRejectedValueOnce(Object.assign(new Error('simulated ENOSPC'), { code: 'ENOSPC' }));
    await expect(store.writeJson('x.json', { v: 2 })).rejects.toThrow(/ENOSPC/);
    await expect(store.updateRun({ status: 'x' }).then(() => store.writeJson('x.json', { v: 3 }))).resolves.toBeUndefined();
    vi.spyOn(fsp, 'rename').mockRejectedValueOnce(new Error('simulated EIO'));
    await expect(store.updateRun({ status: 'lost' })).rejects.toThrow(/EIO/);
    expect(await store.readJson('x.json')).toEqual({ v: 3 });
    expect((await store.readRun()).status).toBe('x');
    expect(await listAll(store.dir)).toEqual(['run.json', 'x.json']);
  });

  it('appends metrics in order and tolerates a torn last line', async () => {
    const dir = await newDir();
    const store = await RunStore.create(dir);
    expect(await store.readMetrics()).toEqual([]);
    const writes = [];
    for (let i = 1; i <= 20; i++) writes.push(store.appendMetrics({ kind: 'step', step: i, loss: 1 / i }));
    writes.push(store.appendMetrics({ kind: 'epoch', epoch: 1, 'test.loss': Number.NaN }));
    await Promise.all(writes);
    let rows = await store.readMetrics();
    expect(rows.map((r) => r.step ?? r.epoch)).toEqual([...Array.from({ length: 20 }, (_, i) => i + 1), 1]);
    expect(rows[20]['test.loss']).toBeNull();
    // a crash in the middle of an append
    await fsp.appendFile(store.path('metrics.jsonl'), '{"kind":"step","st');
    rows = await store.readMetrics();
    expect(rows).toHaveLength(21);
    // resuming cuts the torn line off so that later rows stay readable
    const resumed = await RunStore.create(dir, { resume: true });
    await resumed.appendMetrics({ kind: 'step', step: 21 });
    rows = await resumed.readMetrics();
    expect(rows).toHaveLength(22);
    expect(rows[21]).toEqual({ kind: 'step', step: 21 });
    // a bad line in the middle is an error, not silently skipped
    await fsp.writeFile(store.path('metrics.jsonl'), '{"a":1}\nnot json\n{"a":2}\n');
    await expect(store.readMetrics()).rejects.toThrow(/metrics.jsonl:2: invalid JSON line/);
  });

  it('saves and loads checkpoints, with last pointing at the last good one', async () => {
    const store = await RunStore.create(await newDir());
    await expect(store.loadCheckpoint()).rejects.toThrow(/no checkpoint saved yet/);
    const values = (k: number) => Float32Array.from({ length: 6 }, (_, i) => k * 10 + i);
    const before = tf.memory().numTensors;
    for (const k of [1, 2]) {
      const p = paramsFromArray(values(k), specs);
      await store.saveCheckpoint(`epoch-${k}`, p, specs, { epoch: k });
      disposeParams(p);
    }
    const diag = paramsFromArray(values(9), specs);
    await store.saveCheckpoint('diagnostic', diag, specs, { epoch: 9 }, { markLast: false });
    disposeParams(diag);
    expect(await store.listCheckpoints()).toEqual(['diagnostic', 'epoch-1', 'epoch-2']);
    expect(await store.lastCheckpointTag()).toBe('epoch-2');
    const last = await store.loadCheckpoint();
    expect(last.meta).toEqual({ epoch: 2 });
    expect(paramsToArray(last.params, specs)).toEqual(values(2));
    disposeParams(last.params);
    const first = await store.loadCheckpoint('epoch-1');
    expect(paramsToArray(first.params, specs)).toEqual(values(1));
    disposeParams(first.params);
    // the runner's way: a checkpoint tagged "last" itself, with optimiser state
    const p = paramsFromArray(values(3), specs);
    const state = [{ name: 'step', values: Float32Array.of(12), shape: [] }];
    await store.saveCheckpoint('last', p, specs, { epoch: 3 }, { optimizerState: state });
    disposeParams(p);
    const l = await store.loadCheckpoint('last');
    expect(l.meta).toEqual({ epoch: 3 });
    expect(l.optimizerState).toEqual(state);
    disposeParams(l.params);
    expect(tf.memory().numTensors).toBe(before);
    await expect(store.saveCheckpoint('../x', {}, specs)).rejects.toThrow(/checkpoint tag/);
    const files = await listAll(store.path('checkpoints'));
    expect(files.filter((f) => f.split('/').some((part) => part.startsWith('.')))).toEqual([]);
  });

  it('writes and reads analyses', async () => {
    const store = await RunStore.create(await newDir());
    const result: AnalysisResult = { result: { eigenvalues: [3, 1] }, provenance: { analysis: 'hessian', seed: 1, backend: 'cpu' } };
    await store.writeAnalysis('hessian', result);
    await store.writeAnalysis('compressibility', { result: 0.5, provenance: { analysis: 'compressibility', seed: 1, backend: 'cpu' } });
    const all = await store.readAnalyses();
    expect(Object.keys(all)).toEqual(['compressibility', 'hessian']);
    expect(all.hessian).toEqual(result);
    expect(JSON.parse(await fsp.readFile(store.path('analyses', 'hessian.json'), 'utf8'))).toEqual(result);
    await expect(store.writeAnalysis('a/b', result)).rejects.toThrow(/analysis name/);
  });
});
