/**
 * experiments/seeds-vectorized.yaml at its `--quick` size through the built binary: 4 seeds × 2 lrs
 * of a 16-8-8 MLP with `sweep.vectorize: true`, on the local executor (worker processes running
 * vectorised groups), against the same sweep with `--set sweep.vectorize=false`: every run's
 * metrics rows and final parameters agree, and the sweep's index and summaries are the same.
 */
import '@tensorflow/tfjs-backend-cpu';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeParams, paramsToArray } from '@goldstone/core';
import { RunStore } from '@goldstone/run-store';
import { bin, experimentFile, readJson } from './experiment-sweep';

function sweep(extra: string[]): { out: string; code: number | null; stderr: string } {
  const out = join(mkdtempSync(join(tmpdir(), 'goldstone-vec-sweep-')), 'sweep');
  const r = spawnSync(process.execPath, [bin, 'sweep', experimentFile('seeds-vectorized.yaml'), '--quick', '--workers', '2', '--out', out, ...extra], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 1_200_000,
  });
  return { out, code: r.status, stderr: r.stderr };
}

async function run(dir: string) {
  const store = await RunStore.create(dir, { resume: true });
  const metrics = (await store.readMetrics()).map(({ time: _t, ...row }) => row);
  const last = await store.loadCheckpoint('last');
  const params = Array.from(paramsToArray(last.params, last.specs));
  disposeParams(last.params);
  const hessian = readJson(join(dir, 'analyses', 'hessian.json')).result;
  return { metrics, params, top: hessian.top ?? hessian.topEigenvalues ?? null };
}

const largest = (a: unknown, b: unknown): number =>
  typeof a === 'number' && typeof b === 'number'
    ? Math.abs(a - b)
    : Array.isArray(a) && Array.isArray(b)
      ? a.reduce((m: number, x, i) => Math.max(m, largest(x, b[i])), a.length === b.length ? 0 : Infinity)
      : a && b && typeof a === 'object' && typeof b === 'object'
        ? Object.keys(a).reduce((m, k) => Math.max(m, largest((a as any)[k], (b as any)[k])), 0)
        : a === b ? 0 : Infinity;

describe('experiments/seeds-vectorized.yaml --quick', () => {
  let vec: ReturnType<typeof sweep>;
  let plain: ReturnType<typeof sweep>;
  beforeAll(() => {
    vec = sweep([]);
    plain = sweep(['--set', 'sweep.vectorize=false']);
  }, 1_200_000);

  it('runs all 8 points, vectorised, with the runs of the plain sweep', async () => {
    expect(vec.code, vec.stderr).toBe(0);
    expect(plain.code, plain.stderr).toBe(0);
    const a = readJson(join(vec.out, 'sweep.json'));
    const b = readJson(join(plain.out, 'sweep.json'));
    expect(a.points).toHaveLength(8);
    expect(a.points.every((p: any) => p.status === 'completed')).toBe(true);
    expect(a.points.map((p: any) => p.id)).toEqual(b.points.map((p: any) => p.id));
    let diff = 0;
    for (const p of a.points) diff = Math.max(diff, largest(await run(join(vec.out, p.dir)), await run(join(plain.out, p.dir))));
    // largest |difference| over every metrics row, final parameter and top Hessian eigenvalue (wasm,
    // backend auto): 2.4e-7 when measured, summaries 1.2e-7: float32 round-off of the batched matMul
    expect(diff).toBeLessThan(1e-4);
    const summaries = largest(readJson(join(vec.out, 'summaries', 'metrics.json')), readJson(join(plain.out, 'summaries', 'metrics.json')));
    expect(summaries).toBeLessThan(1e-4);
  });
});
