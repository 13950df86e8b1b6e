import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadCheckpoint, saveCheckpoint, type CheckpointManifest } from './checkpoint';
import { writeFileAtomic } from './atomic-write';
import { disposeParams, paramsFromArray, paramsToArray, Rng } from '@goldstone/core';
import type { ParamSpec } from '@goldstone/plugin-api';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  vi.restoreAllMocks();
});

const specs: ParamSpec[] = [
  { name: 'layer0/w', shape: [3, 4] },
  { name: 'layer0/b', shape: [4] },
  { name: 'scale', shape: [] },
];

function makeValues(seed: number): Float32Array {
  return new Rng(seed).normalArray(17);
}

async function tempDir(): Promise<string> {
  return fsp.mkdtemp(join(tmpdir(), 'goldstone-ckpt-'));
}

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips parameters, shapes, order, meta and optimiser state', async () => {
    const root = await tempDir();
    const dir = join(root, 'ckpt');
    const values = makeValues(1);
    const params = paramsFromArray(values, specs);
    const state = [
      { name: 'step', values: Float32Array.of(7), shape: [] },
      { name: 'm/scale', values: Float32Array.of(0.25), shape: [] },
      { name: 'm/layer0/b', values: Float32Array.of(1, 2, 3, 4), shape: [4] },
    ];
    const before = tf.memory().numTensors;
    await saveCheckpoint(dir, params, specs, { epoch: 3, note: 'hi' }, { optimizerState: state });
    expect(tf.memory().numTensors).toBe(before);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.specs).toEqual(specs);
    expect(loaded.meta).toEqual({ epoch: 3, note: 'hi' });
    expect(loaded.params['layer0/w'].shape).toEqual([3, 4]);
    expect(loaded.params.scale.shape).toEqual([]);
    expect(paramsToArray(loaded.params, specs)).toEqual(values);
    expect(loaded.optimizerState).toEqual(state);
    disposeParams(loaded.params);
    disposeParams(params);
    expect(tf.memory().numTensors).toBe(before - 3);
  });

  it('writes the tfjs weights-manifest format', async () => {
    const dir = join(await tempDir(), 'ckpt');
    const values = makeValues(2);
    const params = paramsFromArray(values, specs);
    await saveCheckpoint(dir, params, specs);
    disposeParams(params);
    expect((await fsp.readdir(dir)).sort()).toEqual(['model.json', 'weights.bin']);
    const manifest = JSON.parse(await fsp.readFile(join(dir, 'model.json'), 'utf8')) as CheckpointManifest;
    expect(manifest.format).toBe('goldstone-params');
    expect(manifest.weightsManifest).toEqual([
      { paths: ['weights.bin'], weights: specs.map((s) => ({ name: s.name, shape: s.shape, dtype: 'float32' })) },
    ]);
    // weights.bin is the float32 values, little-endian, in spec order
    const bin = await fsp.readFile(join(dir, 'weights.bin'));
    expect(bin.byteLength).toBe(17 * 4);
    const raw = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
    expect(raw).toEqual(values);
    expect((await loadCheckpoint(dir)).optimizerState).toBeUndefined();
  });

  it('replaces an old checkpoint and leaves no temporary directories', async () => {
    const root = await tempDir();
    const dir = join(root, 'last');
    for (const seed of [1, 2, 3]) {
      const p = paramsFromArray(makeValues(seed), specs);
      await saveCheckpoint(dir, p, specs, { seed });
      disposeParams(p);
    }
    expect(await fsp.readdir(root)).toEqual(['last']);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.meta).toEqual({ seed: 3 });
    expect(paramsToArray(loaded.params, specs)).toEqual(makeValues(3));
    disposeParams(loaded.params);
  });

  it('keeps the old checkpoint when a save fails', async () => {
    const root = await tempDir();
    const dir = join(root, 'last');
    const good = paramsFromArray(makeValues(1), specs);
    await saveCheckpoint(dir, good, specs, { which: 'good' });
    // let the old directory move aside, then fail the move of the new one into place
    const original = fsp.rename.bind(fsp);
    let calls = 0;
    vi.spyOn(fsp, 'rename').mockImplementation(async (a, b) => {
      calls += 1;
      if (calls === 2) throw Object.assign(new Error('simulated EIO'), { code: 'EIO' });
      return original(a, b);
    });
    const other = paramsFromArray(makeValues(2), specs);
    await expect(saveCheckpoint(dir, other, specs, { which: 'bad' })).rejects.toThrow(/simulated EIO/);
    vi.restoreAllMocks();
    expect(await fsp.readdir(root)).toEqual(['last']);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.meta).toEqual({ which: 'good' });
    expect(paramsToArray(loaded.params, specs)).toEqual(makeValues(1));
    disposeParams(loaded.params);
    disposeParams(good);
    disposeParams(other);
  });

  it('recovers the previous checkpoint when a save died between its two renames', async () => {
    const root = await tempDir();
    const dir = join(root, 'last');
    const p = paramsFromArray(makeValues(4), specs);
    await saveCheckpoint(dir, p, specs, { n: 4 });
    disposeParams(p);
    await fsp.rename(dir, join(root, '.last.old-123-abc-1')); // as if killed right after moving it aside
    const loaded = await loadCheckpoint(dir);
    expect(loaded.meta).toEqual({ n: 4 });
    disposeParams(loaded.params);
  });

  it('rejects missing, foreign and truncated checkpoints', async () => {
    const root = await tempDir();
    await expect(loadCheckpoint(join(root, 'nothing'))).rejects.toThrow(/no checkpoint found/);
    const dir = join(root, 'c');
    const p = paramsFromArray(makeValues(5), specs);
    await saveCheckpoint(dir, p, specs);
    disposeParams(p);
    const bin = await fsp.readFile(join(dir, 'weights.bin'));
    await fsp.writeFile(join(dir, 'weights.bin'), bin.subarray(0, 40));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/40 bytes, the manifest needs 68/);
    await fsp.writeFile(join(dir, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [] }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/not a goldstone checkpoint/);
    const q = paramsFromArray(makeValues(5), specs);
    await expect(saveCheckpoint(dir, { scale: q.scale }, specs)).rejects.toThrow(/missing parameter "layer0\/w"/);
    disposeParams(q);
  });
});

describe('writeFileAtomic', () => {
  it('never exposes a partly written file to a concurrent reader', async () => {
    const file = join(await tempDir(), 'big.json');
    const payload = (k: number) => JSON.stringify({ k, data: 'x'.repeat(2_000_000 + k) });
    await writeFileAtomic(file, payload(0));
    let stop = false;
    let reads = 0;
    const reader = (async () => {
      while (!stop) {
        const text = await fsp.readFile(file, 'utf8');
        const parsed = JSON.parse(text); // throws on a torn file
        expect(parsed.data.length).toBe(2_000_000 + parsed.k);
        reads++;
      }
    })();
    for (let k = 1; k <= 8; k++) await writeFileAtomic(file, payload(k));
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(JSON.parse(await fsp.readFile(file, 'utf8')).k).toBe(8);
  });
});
