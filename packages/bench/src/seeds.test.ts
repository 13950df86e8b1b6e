import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { train, type TrainOptions } from '@goldstone/trainer';
import { BENCH_DIST, SEEDS_SCRIPT, epochsOf, runTorchSeeds, seedsModel, seedsProblem, seedsTask, trainSeedsInWorkers, trainSeedsSequential, workerSeeds, type SeedsProblem } from './seeds';
import { findTrainReplicas, maxLossDiff, vectorisedSeeds } from './vectorised-seeds';

// the worker processes run the built package (`pnpm build`): skipped when it is missing or predates them
const distHasWorkers = existsSync(BENCH_DIST) && readFileSync(BENCH_DIST, 'utf8').includes('seedsWorkerMain');
const torchAvailable = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

describe('the seeds problem', () => {
  it('full: 16 seeds × 300 steps of a CLT 16-32-8 MLP, batch 64, Adam 3e-3, 2 workers; quick: fewer', () => {
    const p = seedsProblem(false);
    expect(p).toMatchObject({ sites: 16, block: 2, hidden: [32], seeds: 16, steps: 300, batchSize: 64, lr: 3e-3, workers: 2 });
    expect(epochsOf(p)).toBe(30);
    expect(seedsModel(p).paramCount).toBe(16 * 32 + 32 + 32 * 8 + 8);
    const q = seedsProblem(true);
    expect(q.seeds * q.steps).toBeLessThan(p.seeds * p.steps);
    expect(() => epochsOf({ ...p, steps: 7 })).toThrow(/whole epochs/);
  });
  it('workers take contiguous slices of the seeds', () => {
    expect(workerSeeds(16, 2, 0)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(workerSeeds(16, 2, 1)).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    expect(workerSeeds(5, 2, 1)).toEqual([3, 4]);
  });
  it('the PyTorch peer is committed where the runner looks for it', () => {
    expect(SEEDS_SCRIPT.endsWith('packages/bench/seeds_bench.py')).toBe(true);
    expect(existsSync(SEEDS_SCRIPT)).toBe(true);
  });
});

describe('training the seeds (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const small: SeedsProblem = { ...seedsProblem(true), name: 'seeds-small', seeds: 3, steps: 20 };

  it('sequential: every seed trains (loss below the untrained one), seeds differ, and a rerun is identical', async () => {
    const before = tf.memory().numTensors;
    const a = await trainSeedsSequential(small);
    const b = await trainSeedsSequential(small, [2]);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.seeds.map((s) => s.seed)).toEqual([0, 1, 2]);
    expect(a.seeds_per_s).toBeCloseTo(3 / (a.ms / 1000), 2);
    // the untrained model's loss on the train split, for scale
    const task = seedsTask(small);
    let y2 = 0;
    for (const v of task.splits.train.y) y2 += v * v;
    for (const s of a.seeds) {
      expect(Number.isFinite(s.train_loss) && Number.isFinite(s.test_loss)).toBe(true);
      expect(s.train_loss).toBeLessThan(y2 / task.splits.train.y.length);
    }
    expect(new Set(a.seeds.map((s) => s.train_loss)).size).toBe(3);
    expect(b.seeds[0]).toEqual(a.seeds[2]);
  });

  it('vectorised: unavailable with the reason when the trainer has no trainReplicas; otherwise the same seeds as sequential', async () => {
    const none = await vectorisedSeeds(small, { trainer: {} });
    expect(none).toEqual({ available: false, reason: expect.stringMatching(/exports no trainReplicas/) });
    // a stand-in trainReplicas that trains each run with train(): the same numbers as the sequential way
    const standIn = { trainReplicas: (runs: readonly TrainOptions[]) => Promise.all(runs.map((r) => train(r))) };
    const seq = await trainSeedsSequential(small);
    const v = await vectorisedSeeds(small, { trainer: standIn });
    expect(v.available).toBe(true);
    expect(maxLossDiff(v, seq)).toBe(0);
    const failing = { trainReplicas: () => Promise.reject(new Error('no applyReplicas')) };
    expect(await vectorisedSeeds(small, { trainer: failing })).toEqual({ available: false, reason: 'trainReplicas failed: no applyReplicas' });
    // the installed trainer: either it has trainReplicas (then it matches to float32 round-off) or the reason says so
    const real = await vectorisedSeeds(small);
    if ('fn' in findTrainReplicas()) {
      expect(real.available).toBe(true);
      expect(maxLossDiff(real, seq)).toBeLessThan(1e-4);
    } else {
      expect(real.available).toBe(false);
    }
  }, 120_000);

  it.skipIf(!distHasWorkers)(
    'worker processes (the built package) train the same seeds to the same numbers as in-process',
    async () => {
      const seq = await trainSeedsSequential(small);
      const w = await trainSeedsInWorkers(small, 'cpu');
      if (!w.available) throw new Error(w.reason);
      expect(w.processes).toBe(2);
      expect(w.seeds.map((s) => s.seed).sort()).toEqual([0, 1, 2]);
      expect(maxLossDiff(w, seq)).toBe(0);
      expect(w.train_ms).toBeLessThan(w.ms);
    },
    180_000,
  );

  it.skipIf(!torchAvailable)(
    'the PyTorch peer trains the same seeds in its pool and in one process to the same losses',
    () => {
      const t = runTorchSeeds(small);
      if (!t.available) throw new Error(t.reason);
      expect(t.pool.seeds.map((s) => s.seed)).toEqual([0, 1, 2]);
      expect(maxLossDiff(t.pool, t.single)).toBeLessThan(1e-6);
      expect(t.pool.train_ms).toBeLessThan(t.pool.ms);
      for (const s of t.single.seeds) expect(Number.isFinite(s.train_loss)).toBe(true);
    },
    180_000,
  );
});
