import * as tf from '@tensorflow/tfjs-core';
import * as trainerModule from '@goldstone/trainer';
import { disposeParams } from '@goldstone/core';
import type { TrainOptions, TrainResult } from '@goldstone/trainer';
import { range, seedStream, seedsConfig, seedsModel, seedsRun, seedsTask, type SeedResult, type SeedsOutcome, type SeedsProblem } from './seeds';

/** `trainReplicas(runs)`: the runs `train()` would be given, trained as one batched model; one result per run. */
export type TrainReplicas = (runs: readonly TrainOptions[]) => Promise<TrainResult[]>;

/**
 * The vectorised trainer when the installed `@goldstone/trainer` exports one (`trainReplicas`),
 * else why not. `trainer` defaults to the package itself (tests pass another module object).
 */
export function findTrainReplicas(trainer: object = trainerModule): { fn: TrainReplicas } | { reason: string } {
  const fn = (trainer as Record<string, unknown>).trainReplicas;
  return typeof fn === 'function' ? { fn: fn as TrainReplicas } : { reason: 'the installed @goldstone/trainer exports no trainReplicas (vectorised training is not available in this build)' };
}

/**
 * (ii) of the seeds case: all the seeds as replicas of one batched model in this process, through
 * `@goldstone/trainer`'s `trainReplicas` (each seed the `train()` options of the sequential way:
 * the same task, its own initial parameters and data order), wall time for all of them. Reported
 * `unavailable`, with the reason, when the trainer has no `trainReplicas` or it refuses the runs
 * (e.g. a model without `applyReplicas`); never an estimate in their place.
 */
export async function vectorisedSeeds(p: SeedsProblem, opts: { trainer?: object } = {}): Promise<SeedsOutcome> {
  const found = findTrainReplicas(opts.trainer);
  if ('reason' in found) return { available: false, reason: found.reason };
  const model = seedsModel(p);
  const before = tf.memory().numTensors;
  const task = seedsTask(p);
  const config = seedsConfig(p);
  const seeds = range(p.seeds);
  const t0 = performance.now();
  const runs: TrainOptions[] = seeds.map((s) => {
    const rng = seedStream(p, s);
    return { model, task, params: model.init(rng.split('init')), config, rng: rng.split('order') };
  });
  let results: TrainResult[];
  try {
    results = await found.fn(runs);
  } catch (err) {
    return { available: false, reason: `trainReplicas failed: ${(err as Error).message}` };
  }
  const ms = performance.now() - t0;
  const out: SeedResult[] = results.map((r, i) => {
    disposeParams(r.params);
    return { seed: seeds[i], train_loss: r.final['train.loss'], test_loss: r.final['test.loss'] };
  });
  const bad = results.findIndex((r) => r.status !== 'completed');
  if (bad >= 0) return { available: false, reason: `trainReplicas: seed ${seeds[bad]} ${results[bad].status}: ${results[bad].message ?? ''}` };
  if (tf.memory().numTensors !== before) throw new Error(`${p.name}: vectorised seeds leaked tensors`);
  return seedsRun(ms, out);
}

/** The largest |difference| of the final losses of two ways of training the same seeds (null when either is missing). */
export function maxLossDiff(a: SeedsOutcome, b: SeedsOutcome): number | null {
  if (!a.available || !b.available) return null;
  const byB = new Map(b.seeds.map((s) => [s.seed, s]));
  let m = 0;
  for (const s of a.seeds) {
    const t = byB.get(s.seed);
    if (!t) return null;
    m = Math.max(m, Math.abs(s.train_loss - t.train_loss), Math.abs(s.test_loss - t.test_loss));
  }
  return m;
}
