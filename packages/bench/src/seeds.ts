import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, disposeParams, initBackend, type BackendName } from '@goldstone/core';
import { train, type TrainConfig } from '@goldstone/trainer';
import type { ModelInstance, TaskInstance } from '@goldstone/plugin-api';
import { mlp } from '@goldstone/models';
import { cltData } from './exact-hessian';
import { lastJsonLine, peerScript, runChild, runPeer } from './peer';

/**
 * Issue 16 (c): training 16 seeds of a tiny model (a CLT 16-32-8 tanh MLP, MSE, Adam lr 3e-3,
 * batch 64, a fixed number of steps), seeds per second. goldstone (i) one process, the seeds one
 * after another through `@goldstone/trainer`'s `train`; (ii) vectorised: all seeds as one batched
 * model (`vectorisedSeeds`, vectorised-seeds.ts); (iii) 2 worker processes of 8 seeds each.
 * PyTorch (seeds_bench.py): the same seeds on 2 processes × 8 seeds of one thread each, and in
 * one process.
 */
export interface SeedsProblem {
  name: string;
  sites: number;
  block: number;
  hidden: number[];
  /** Number of seeds trained; seed s draws its initial parameters and its data order from its own stream. */
  seeds: number;
  /** Optimiser steps per seed (whole epochs: steps · batchSize is a multiple of trainSize). */
  steps: number;
  batchSize: number;
  trainSize: number;
  testSize: number;
  lr: number;
  /** Worker processes of (iii) and of PyTorch's pool. */
  workers: number;
  /** Seed of the data set and of every seed's stream. */
  seed: number;
}

export function seedsProblem(quick: boolean, seed = 0): SeedsProblem {
  const seeds = quick ? 4 : 16;
  const steps = quick ? 30 : 300;
  return { name: `seeds-${seeds}x${steps}-clt-mlp-16-32-8`, sites: 16, block: 2, hidden: [32], seeds, steps, batchSize: 64, trainSize: 640, testSize: 256, lr: 3e-3, workers: 2, seed };
}

export const epochsOf = (p: SeedsProblem): number => {
  const e = (p.steps * p.batchSize) / p.trainSize;
  if (!Number.isInteger(e) || p.trainSize % p.batchSize !== 0) throw new RangeError(`${p.name}: ${p.steps} steps of ${p.batchSize} are not whole epochs of ${p.trainSize}`);
  return e;
};

/** The CLT data set every seed trains on: train and test splits of centred exponential spins, targets block sums / √b. */
export function seedsTask(p: SeedsProblem): TaskInstance {
  const rng = new Rng(p.seed).split(`${p.name}:data`);
  const outputs = p.sites / p.block;
  const split = (n: number, label: string) => {
    const { x, y } = cltData(p.sites, p.block, n, rng.split(label));
    return { n, x, y, xShape: [p.sites], yShape: [outputs] };
  };
  return { inputShape: [p.sites], outputSize: outputs, outputKind: 'regression', loss: 'mse', splits: { train: split(p.trainSize, 'train'), test: split(p.testSize, 'test') }, metrics: () => ({}) };
}

export function seedsModel(p: SeedsProblem): ModelInstance {
  return mlp.create(mlp.options.parse({ hidden: p.hidden, activation: 'tanh', init: 'torch' }), { inputShape: [p.sites], outputSize: p.sites / p.block, outputKind: 'regression' });
}

/** Training settings shared by every seed: evaluation and checkpoints only after the last epoch. */
export function seedsConfig(p: SeedsProblem): TrainConfig {
  const epochs = epochsOf(p);
  return { optimizer: { name: 'adam', lr: p.lr }, epochs, batchSize: p.batchSize, evalEvery: epochs, logEvery: p.steps, checkpointEvery: epochs };
}

/** Seed s's stream: `init` draws its parameters, `order` its data order (train()'s rng). */
export const seedStream = (p: SeedsProblem, s: number): Rng => new Rng(p.seed).split(`${p.name}:seed:${s}`);

/** One trained seed. */
export interface SeedResult {
  seed: number;
  train_loss: number;
  test_loss: number;
}

/** A way of training the seeds: the wall time of all of them and what each reached. */
export interface SeedsRun {
  available: true;
  /** Wall time for all `seeds` seeds, ms (in-process work; for processes, spawn to the last exit). */
  ms: number;
  seeds_per_s: number;
  seeds: SeedResult[];
  /** Processes only: the slowest worker's in-process training time, ms (its start-up excluded). */
  train_ms?: number;
  processes?: number;
  /** Vectorised only: the largest |difference| of its final losses from the sequential way's (same seeds). */
  max_loss_diff_vs_sequential?: number;
}

export type SeedsOutcome = SeedsRun | { available: false; reason: string };

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function seedsRun(ms: number, seeds: SeedResult[], extra: Partial<SeedsRun> = {}): SeedsRun {
  return { available: true, ms: round3(ms), seeds_per_s: round3(seeds.length / (ms / 1000)), seeds, ...extra };
}

/** (i): the seeds one after another in this process, each a plain `train()` call. */
export async function trainSeedsSequential(p: SeedsProblem, seeds: readonly number[] = range(p.seeds)): Promise<SeedsRun> {
  const before = tf.memory().numTensors;
  const task = seedsTask(p);
  const model = seedsModel(p);
  const config = seedsConfig(p);
  const out: SeedResult[] = [];
  const t0 = performance.now();
  for (const s of seeds) {
    const rng = seedStream(p, s);
    const r = await train({ model, task, params: model.init(rng.split('init')), config, rng: rng.split('order') });
    disposeParams(r.params);
    if (r.status !== 'completed') throw new Error(`${p.name}: seed ${s} ${r.status}: ${r.message ?? ''}`);
    out.push({ seed: s, train_loss: r.final['train.loss'], test_loss: r.final['test.loss'] });
  }
  const ms = performance.now() - t0;
  if (tf.memory().numTensors !== before) throw new Error(`${p.name}: sequential seeds leaked tensors`);
  return seedsRun(ms, out);
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** The seeds of worker w of `workers`: contiguous slices (8 and 8 for 16 on 2). */
export function workerSeeds(seeds: number, workers: number, w: number): number[] {
  const per = Math.ceil(seeds / workers);
  return range(seeds).slice(w * per, (w + 1) * per);
}

/** What a worker process is given (in the environment variable BENCH_SEEDS_JOB). */
export interface SeedsJob {
  problem: SeedsProblem;
  seeds: number[];
  backend: BackendName;
}

/** The built package: worker processes import it and call `seedsWorkerMain`. */
export const BENCH_DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** A worker process: train its seeds sequentially on its backend; one JSON line on stdout. */
export async function seedsWorkerMain(): Promise<void> {
  const job = JSON.parse(process.env.BENCH_SEEDS_JOB ?? '') as SeedsJob;
  await initBackend(job.backend);
  const r = await trainSeedsSequential(job.problem, job.seeds);
  process.stdout.write(`${JSON.stringify({ backend: tf.getBackend(), train_ms: r.ms, seeds: r.seeds })}\n`);
}

/**
 * (iii): `workers` Node processes at once, each training its slice of the seeds sequentially (the
 * shape of PyTorch's pool). Wall time from spawning to the last exit (process start, module
 * loading and backend set-up included). Needs the built package (`dist/index.js`).
 */
export async function trainSeedsInWorkers(p: SeedsProblem, backend: BackendName, dist = BENCH_DIST): Promise<SeedsOutcome> {
  const script = `(await import(${JSON.stringify(new URL(`file://${dist}`).href)})).seedsWorkerMain()`;
  const t0 = performance.now();
  const runs = await Promise.all(
    range(p.workers).map((w) => {
      const job: SeedsJob = { problem: p, seeds: workerSeeds(p.seeds, p.workers, w), backend };
      return runChild(process.execPath, ['--input-type=module', '-e', script], { ...process.env, BENCH_SEEDS_JOB: JSON.stringify(job) });
    }),
  );
  const wall = performance.now() - t0;
  const seeds: SeedResult[] = [];
  let trainMs = 0;
  for (const r of runs) {
    if (r.status !== 0) return { available: false, reason: `a seeds worker failed (${r.error ?? `exit ${r.status}`})` };
    const out = lastJsonLine<{ train_ms: number; seeds: SeedResult[] }>(r.stdout, 'seeds worker');
    if (!out.ok) return { available: false, reason: out.reason };
    seeds.push(...out.value.seeds);
    trainMs = Math.max(trainMs, out.value.train_ms);
  }
  return seedsRun(wall, seeds, { train_ms: round3(trainMs), processes: p.workers });
}

export type TorchSeedsResult =
  | {
      available: true;
      torch: string;
      /** 2 processes × 8 seeds, one thread each: what one process per core means. */
      pool: SeedsRun & { threads_per_process: number };
      /** All seeds in one process of one thread (no contention, no start-up). */
      single: SeedsRun & { threads: number };
    }
  | { available: false; reason: string };

export const SEEDS_SCRIPT = peerScript('seeds_bench.py');

/** Run seeds_bench.py on the same data set and protocol (its own initial parameters and orders). */
export function runTorchSeeds(p: SeedsProblem, opts: { python?: string } = {}): TorchSeedsResult {
  const task = seedsTask(p);
  const input = {
    problem: { ...p, epochs: epochsOf(p) },
    train: { x: Array.from(task.splits.train.x), y: Array.from(task.splits.train.y) },
    test: { x: Array.from(task.splits.test.x), y: Array.from(task.splits.test.y) },
  };
  const out = runPeer<Omit<Extract<TorchSeedsResult, { available: true }>, 'available'>>(SEEDS_SCRIPT, input, { python: opts.python });
  return out.ok ? { available: true, ...out.value } : { available: false, reason: out.reason };
}

/** The section of the report: the three ways on goldstone's side, PyTorch's two, the ratios. */
export interface SeedsReport {
  problem: SeedsProblem & { epochs: number; params: number; protocol: string };
  backend: string;
  sequential: SeedsOutcome;
  vectorised: SeedsOutcome;
  workers: SeedsOutcome;
  pytorch: TorchSeedsResult;
  /**
   * goldstone / PyTorch wall time for all the seeds (< 1: faster). In-process ways (sequential,
   * vectorised) against the pool's slowest worker's in-process time; the worker processes against
   * the pool's wall time (both with process start-up).
   */
  ratios: { sequential: number | null; vectorised: number | null; workers: number | null };
}
