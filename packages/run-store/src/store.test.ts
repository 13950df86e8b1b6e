import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { disposeParams, paramsFromArray, paramsToArray } from '@goldstone/core';
import { UsageError, type ParamSpec, type AnalysisResult } from '@goldstone/plugin-api';
import { RunStore } from './store';
import { snapshotDir } from './test-support';

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
    expect(await listAll(dir)).toEqual(['.goldstone-run', 'run.json']);
    expect((await fsp.stat(store.path('checkpoints'))).isDirectory()).toBe(true);
    expect((await fsp.stat(store.path('analyses'))).isDirectory()).toBe(true);
    const run = await store.readRun();
    expect(run.status).toBe('created');
    expect(JSON.parse(await fsp.readFile(join(dir, '.goldstone-run'), 'utf8'))).toEqual({ format: 'goldstone-run', formatVersion: 1, createdAt: run.createdAt });
    await expect(RunStore.create(dir)).rejects.toThrow(/already holds a run/);
    await expect(RunStore.create(await newDir(), { resume: true })).rejects.toThrow(/not a goldstone run directory/);
    const again = await RunStore.create(dir, { resume: true });
    expect((await again.readRun()).createdAt).toBe(run.createdAt);
    expect(() => store.path('..', 'elsewhere')).toThrow(/outside the run directory/);
  });

  it('merges patches into run.json and refreshes updatedAt', async () => {
    const store = await RunStore.create(await newDir());
    const first = await store.readRun();
    // wait until the clock has moved past the first timestamp (a state, not a fixed sleep)
    while (Date.now() <= Date.parse(first.updatedAt as string)) await new Promise((r) => setTimeout(r, 1));
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
    expect(await listAll(store.dir)).toEqual(['.goldstone-run', 'notes/a.json', 'report.html', 'run.json']);
    // a top-level name of an analysis' own is recorded in the marker, so that replacing the run removes it too
    expect(JSON.parse(await fsp.readFile(store.path('.goldstone-run'), 'utf8')).entries).toEqual(['notes']);
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
    expect(await listAll(store.dir)).toEqual(['.goldstone-run', 'run.json', 'x.json']);
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
    // training order, from each checkpoint's metadata (epoch 9 after epoch 2)
    expect(await store.listCheckpoints()).toEqual(['epoch-1', 'epoch-2', 'diagnostic']);
    expect(await store.lastCheckpointTag()).toBe('epoch-2');
    const last = await store.loadCheckpoint();
    expect(last.meta).toEqual({ epoch: 2 });
    expect(paramsToArray(last.params, specs)).toEqual(values(2));
    disposeParams(last.params);
    // init first and last at the end; epoch-10 after epoch-9 (by step, or by the tag's number without metadata)
    for (const [tag, meta] of [['epoch-10', { epoch: 10, step: 100 }], ['init', { epoch: 0, step: 0 }], ['last', { step: 200 }], ['epoch-3', { epoch: 3, step: 30 }]] as const) {
      const p = paramsFromArray(values(3), specs);
      await store.saveCheckpoint(tag, p, specs, meta, { markLast: false });
      disposeParams(p);
    }
    await fsp.mkdir(store.path('checkpoints', 'snapshot-7'));
    expect(await store.listCheckpoints()).toEqual(['init', 'epoch-1', 'epoch-2', 'snapshot-7', 'diagnostic', 'epoch-3', 'epoch-10', 'last']);
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

describe('RunStore with a damaged run directory', () => {
  /** A run directory with a run.json, metrics and a checkpoint tagged `last`, as the runner leaves it. */
  async function savedRun(): Promise<RunStore> {
    const store = await RunStore.create(await newDir());
    await store.updateRun({ status: 'interrupted', seed: 3 });
    await store.appendMetrics({ kind: 'epoch', epoch: 1 });
    const p = paramsFromArray(Float32Array.from({ length: 6 }, (_, i) => i), specs);
    await store.saveCheckpoint('last', p, specs, { epoch: 1 }, { optimizerState: [{ name: 'step', values: Float32Array.of(4), shape: [] }] });
    disposeParams(p);
    return store;
  }

  it('refuses a run.json that is not valid JSON, naming it, and never rewrites it', async () => {
    const store = await savedRun();
    const runFile = store.path('run.json');
    const torn = '{"status": "interrupted", "seed": 3, "conf';
    await fsp.writeFile(runFile, torn);
    const before = await snapshotDir(store.dir);
    const err = await store.updateRun({ status: 'completed' }).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain(runFile);
    expect(err.message).toMatch(/not valid JSON/);
    await expect(store.readRun()).rejects.toThrow(UsageError);
    const resumed = await RunStore.create(store.dir, { resume: true }).catch((e) => e);
    expect(resumed).toBeInstanceOf(UsageError);
    expect(resumed.message).toContain(`${runFile}: not valid JSON`);
    expect(await snapshotDir(store.dir)).toEqual(before);
    expect(await fsp.readFile(runFile, 'utf8')).toBe(torn);
  });

  it('refuses a run.json that holds JSON other than an object', async () => {
    const store = await savedRun();
    const runFile = store.path('run.json');
    for (const text of ['[1, 2]\n', 'null\n', '"completed"\n', '42\n', '']) {
      await fsp.writeFile(runFile, text);
      const before = await snapshotDir(store.dir);
      const err = await store.updateRun({ status: 'completed' }).catch((e) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toContain(runFile);
      expect(err.message).toMatch(text === '' ? /not valid JSON/ : /not a JSON object/);
      await expect(RunStore.create(store.dir, { resume: true })).rejects.toThrow(UsageError);
      expect(await snapshotDir(store.dir)).toEqual(before);
    }
  });

  it('opens a run to resume without writing; a torn metrics line is cut at the first append', async () => {
    const store = await savedRun();
    await fsp.rm(store.path('analyses'), { recursive: true });
    await fsp.appendFile(store.path('metrics.jsonl'), '{"kind":"step","st');
    const before = await snapshotDir(store.dir);
    const resumed = await RunStore.create(store.dir, { resume: true });
    expect((await resumed.readRun()).status).toBe('interrupted');
    expect(await resumed.readMetrics()).toHaveLength(1);
    const loaded = await resumed.loadCheckpoint();
    disposeParams(loaded.params);
    expect(await snapshotDir(store.dir)).toEqual(before);
    await resumed.appendMetrics({ kind: 'epoch', epoch: 2 });
    expect(await fsp.readFile(resumed.path('metrics.jsonl'), 'utf8')).toBe('{"kind":"epoch","epoch":1}\n{"kind":"epoch","epoch":2}\n');
  });

  it('says which checkpoint file it cannot read, and why', async () => {
    const store = await savedRun();
    const pointer = store.path('checkpoints', 'last.json');
    const weights = store.path('checkpoints', 'last', 'weights.bin');
    const manifest = store.path('checkpoints', 'last', 'model.json');
    const reason = async () => (await store.loadCheckpoint().catch((e: Error) => e)) as Error;

    await fsp.writeFile(pointer, JSON.stringify({ tag: 'epoch-9' }));
    let err = await reason();
    expect(err.message).toContain(pointer);
    expect(err.message).toContain('"epoch-9"');
    expect(err.message).toContain(store.path('checkpoints', 'epoch-9', 'model.json'));
    expect(err.message).toMatch(/does not exist/);

    for (const text of ['{"tag": "la', '{"tag": 3}', '{"tag": "../run"}']) {
      await fsp.writeFile(pointer, text);
      err = await reason();
      expect(err.message).toContain(pointer);
      await expect(store.lastCheckpointTag()).rejects.toThrow(pointer);
    }
    await fsp.writeFile(pointer, JSON.stringify({ tag: 'last' }));

    const bin = await fsp.readFile(weights);
    await fsp.writeFile(weights, bin.subarray(0, 10));
    err = await reason();
    expect(err.message).toContain(weights);
    expect(err.message).toMatch(/10 bytes, the manifest needs 24/);
    await fsp.rm(weights);
    err = await reason();
    expect(err.message).toContain(`${weights}: cannot read (ENOENT)`);
    await fsp.writeFile(weights, bin);

    const json = await fsp.readFile(manifest, 'utf8');
    await fsp.writeFile(manifest, json.slice(0, 30));
    err = await reason();
    expect(err.message).toContain(manifest);
    expect(err.message).toMatch(/not readable as JSON/);
    await fsp.writeFile(manifest, json);

    // no pointer and no checkpoint at all: nothing saved yet (not an error about a file)
    await fsp.rm(store.path('checkpoints'), { recursive: true });
    expect(await store.lastCheckpointTag()).toBeUndefined();
    await expect(store.loadCheckpoint()).rejects.toThrow(/no checkpoint saved yet/);
  });
});

describe('RunStore after a crash', () => {
  /** A pid no process can have (above Linux's largest pid_max). */
  const deadPid = 4_194_305;

  it('a failed creation leaves nothing behind', async () => {
    const parent = await newDir();
    const dir = join(parent, 'deep', 'run');
    vi.spyOn(fsp, 'rename').mockRejectedValueOnce(Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' }));
    const err = await RunStore.create(dir).catch((e: NodeJS.ErrnoException) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('EROFS');
    await expect(fsp.stat(parent)).rejects.toThrow(/ENOENT/); // not even the parents it created
    // an existing empty directory stays, empty
    await fsp.mkdir(dir, { recursive: true });
    const realRename = fsp.rename.bind(fsp);
    vi.spyOn(fsp, 'rename').mockImplementationOnce(realRename).mockRejectedValueOnce(Object.assign(new Error('EACCES'), { code: 'EACCES' }));
    await expect(RunStore.create(dir)).rejects.toThrow(/EACCES/);
    expect(await fsp.readdir(dir)).toEqual([]);
  });

  it('cleans up temporaries of dead writers, restores a checkpoint moved aside, keeps a live writer\'s', async () => {
    const store = await RunStore.create(await newDir());
    const p = paramsFromArray(Float32Array.from({ length: 6 }, (_, i) => i), specs);
    await store.saveCheckpoint('last', p, specs, { epoch: 1 });
    await store.saveCheckpoint('init', p, specs, { epoch: 0 }, { markLast: false });
    disposeParams(p);
    const ck = store.path('checkpoints');
    await fsp.mkdir(join(ck, `.last.tmp-${deadPid}-abc-1`));
    await fsp.writeFile(join(ck, `.last.tmp-${deadPid}-abc-1`, 'weights.bin'), 'partial');
    await fsp.writeFile(join(ck, `.last.json.tmp-${deadPid}-abc-2`), '{"ta');
    await fsp.writeFile(store.path(`.run.json.tmp-${deadPid}-abc-3`), '{');
    await fsp.writeFile(store.path(`.run.json.tmp-${process.ppid}-abc-4`), '{'); // a live process's
    // a save that died between its two renames: init was moved aside, the new one never arrived
    await fsp.rename(join(ck, 'init'), join(ck, `.init.old-${deadPid}-abc-5`));
    // and one whose new version is in place: the old one is garbage
    await fsp.cp(join(ck, 'last'), join(ck, `.last.old-${deadPid}-abc-6`), { recursive: true });
    const done = await store.cleanupTemporaries();
    expect(done.sort()).toEqual([
      `.run.json.tmp-${deadPid}-abc-3`,
      `checkpoints/.init.old-${deadPid}-abc-5 (restored as init)`,
      `checkpoints/.last.json.tmp-${deadPid}-abc-2`,
      `checkpoints/.last.old-${deadPid}-abc-6`,
      `checkpoints/.last.tmp-${deadPid}-abc-1`,
    ]);
    expect((await fsp.readdir(ck)).sort()).toEqual(['init', 'last', 'last.json']);
    expect(await fsp.readdir(store.dir)).toContain(`.run.json.tmp-${process.ppid}-abc-4`);
    const init = await store.loadCheckpoint('init');
    expect(init.meta).toEqual({ epoch: 0 });
    disposeParams(init.params);
  });

  it('truncates metrics at the first row not to keep, atomically, byte for byte', async () => {
    const store = await RunStore.create(await newDir());
    const file = store.path('metrics.jsonl');
    const kept = '{"kind":"step","step":10,"epoch":0.5,"loss":1}\n{"kind":"epoch","epoch":1,"step":20}\n\n';
    const later = '{"kind":"step","step":30,"epoch":1.5,"loss":0.5}\n{"kind":"epoch","epoch":2,"step":40}\n{"kind":"st';
    await fsp.writeFile(file, kept + later);
    const dropped = await store.truncateMetrics((row) => (row.step as number) <= 20);
    expect(dropped).toBe(2);
    expect(await fsp.readFile(file, 'utf8')).toBe(kept);
    expect(await store.truncateMetrics(() => true)).toBe(0);
    expect(await fsp.readFile(file, 'utf8')).toBe(kept);
    await store.appendMetrics({ kind: 'epoch', epoch: 2 });
    expect((await store.readMetrics()).map((r) => r.epoch)).toEqual([0.5, 1, 2]);
    expect((await fsp.readdir(store.dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(await store.truncateMetrics(() => false)).toBe(3);
    expect(await fsp.readFile(file, 'utf8')).toBe('');
  });
});
