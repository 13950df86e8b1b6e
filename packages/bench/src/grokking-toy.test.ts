import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddingDecoderOptions, embeddingDecoderParamCount } from '@goldstone/models';
import {
  CLI_BIN,
  TOY_PARAMS,
  TOY_SCRIPT,
  parseToyOutput,
  readToyRun,
  runOursToy,
  runTorchToy,
  toyExperiment,
  toyProblem,
  toyTable,
  type OursToy,
  type ToyCell,
  type TorchToy,
} from './grokking-toy';

const torchAvailable = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

const cell = (eta_r: number, eta_d: number, per_step_ms: number, train_accuracy = 1, test_accuracy = 0.5): ToyCell => ({
  eta_r,
  eta_d,
  steps: 100,
  wall_ms: per_step_ms * 100 + 50,
  train_ms: per_step_ms * 100,
  per_step_ms,
  train_accuracy,
  test_accuracy,
  train_loss: 0.01,
  test_loss: 1,
});

describe('grokking-toy problem', () => {
  it('full: the default cell first, 10,000 steps, 2 workers; quick: 2 cells × 300 steps; overrides from the environment', () => {
    const full = toyProblem(false, {});
    expect(full.cells[0]).toEqual([1e-3, 1e-4]);
    expect(full.cells.length).toBeGreaterThanOrEqual(4);
    expect([full.steps, full.workers, full.evalEvery]).toEqual([10_000, 2, 100]);
    const quick = toyProblem(true, {});
    expect([quick.cells.length, quick.steps]).toEqual([2, 300]);
    const set = toyProblem(true, { BENCH_TOY_STEPS: '40', BENCH_TOY_CELLS: '[[0.01, 0.001]]' });
    expect([set.cells, set.steps, set.evalEvery]).toEqual([[[0.01, 0.001]], 40, 40]);
    expect(() => toyProblem(true, { BENCH_TOY_STEPS: '0' })).toThrow(/BENCH_TOY_STEPS/);
    expect(() => toyProblem(true, { BENCH_TOY_CELLS: '[[0.01]]' })).toThrow(/BENCH_TOY_CELLS/);
  });

  it("the experiment is the toy's protocol: template targets, one orientation, the summed 10×2 → 200 → 200 → 30 model, the cells as a zip", () => {
    const p = toyProblem(false, {});
    const e = toyExperiment(p) as {
      task: { options: Record<string, unknown> };
      model: { options: Record<string, unknown> };
      train: Record<string, unknown>;
      sweep: { zip: Record<string, number[]>; seeds: number[] };
    };
    expect(e.task.options).toMatchObject({ relation: 'addition', nodes: 10, trainNum: 45, target: 'template', orientations: 'one' });
    const m = embeddingDecoderOptions.parse(e.model.options);
    expect(m).toMatchObject({ dim: 2, combine: 'sum', hidden: [200, 200], activation: 'tanh', embeddingInit: 'uniform', init: 'torch' });
    expect(embeddingDecoderParamCount(m, 10, 30)).toBe(TOY_PARAMS);
    expect(e.train).toMatchObject({ optimizer: 'adamw', weightDecay: 0, epochs: 10_000, batchSize: 45 });
    expect(e.sweep.zip['train.groups.encoder.lr']).toEqual(p.cells.map((c) => c[0]));
    expect(e.sweep.zip['train.groups.decoder.lr']).toEqual(p.cells.map((c) => c[1]));
  });
});

describe('reading our runs', () => {
  it('takes the training time from the last epoch row and the metrics from the summary; an unfinished run is null', () => {
    const dir = mkdtempSync(join(tmpdir(), 'toy-run-'));
    try {
      const run = {
        status: 'completed',
        createdAt: '2026-01-01T00:00:00.000Z',
        finishedAt: '2026-01-01T00:00:03.500Z',
        config: { train: { epochs: 200, groups: { encoder: { lr: 0.001 }, decoder: { lr: 0.0001 } } } },
        summary: { 'train.accuracy': 1, 'test.accuracy': 0.3, 'train.loss': 0.02, 'test.loss': 0.9 },
      };
      writeFileSync(join(dir, 'run.json'), JSON.stringify(run));
      const rows = [
        { kind: 'step', step: 100, loss: 1 },
        { kind: 'epoch', epoch: 100, step: 100, time: 1.2 },
        { kind: 'epoch', epoch: 200, step: 200, time: 3 },
        { kind: 'step', step: 200, loss: 0.5 },
      ];
      writeFileSync(join(dir, 'metrics.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      expect(readToyRun(dir)).toEqual({
        eta_r: 0.001,
        eta_d: 0.0001,
        steps: 200,
        wall_ms: 3500,
        train_ms: 3000,
        per_step_ms: 15,
        train_accuracy: 1,
        test_accuracy: 0.3,
        train_loss: 0.02,
        test_loss: 0.9,
      });
      writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...run, status: 'failed' }));
      expect(readToyRun(dir)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the table', () => {
  const p = { ...toyProblem(true, {}), cells: [[1e-3, 1e-4], [1e-2, 1e-3]] as [number, number][] };
  const ours: OursToy = { available: true, command: 'x', workers: 2, backend: 'wasm', sweep_wall_ms: 1000, cells: [cell(1e-2, 1e-3, 6, 1, 0.4), cell(1e-3, 1e-4, 4, 0.2, 0)] };
  const torch: TorchToy = {
    available: true,
    torch: '1.13',
    blas: 'openblas',
    single: { threads: 1, wall_ms: 100, cells: [cell(1e-3, 1e-4, 0.5, 0.25, 0), cell(1e-2, 1e-3, 1, 1, 0.6)] },
    pool: { processes: 2, threads_per_process: 1, wall_ms: 400, cells: [cell(1e-3, 1e-4, 2), cell(1e-2, 1e-3, 3)] },
  };
  it('matches cells by (η_r, η_d), ours over the pool (alike) and over the single process, accuracies side by side', () => {
    expect(toyTable(p, ours, torch)).toEqual([
      { eta_r: 1e-3, eta_d: 1e-4, per_step_ms: 4, pytorch_pool_per_step_ms: 2, pytorch_single_per_step_ms: 0.5, ratio_vs_pytorch: 2, ratio_vs_pytorch_single: 8, train_accuracy: 0.2, test_accuracy: 0, pytorch_train_accuracy: 0.25, pytorch_test_accuracy: 0 },
      { eta_r: 1e-2, eta_d: 1e-3, per_step_ms: 6, pytorch_pool_per_step_ms: 3, pytorch_single_per_step_ms: 1, ratio_vs_pytorch: 2, ratio_vs_pytorch_single: 6, train_accuracy: 1, test_accuracy: 0.4, pytorch_train_accuracy: 1, pytorch_test_accuracy: 0.6 },
    ]);
  });
  it('gives nulls where a side is missing', () => {
    const rows = toyTable(p, ours, { available: false, reason: 'no torch' });
    expect(rows[0]).toMatchObject({ per_step_ms: 4, pytorch_pool_per_step_ms: null, ratio_vs_pytorch: null, pytorch_train_accuracy: null });
    expect(toyTable(p, { available: false, reason: 'no cli' }, torch)[1]).toMatchObject({ per_step_ms: null, ratio_vs_pytorch: null, pytorch_single_per_step_ms: 1 });
  });
});

describe('the peers', () => {
  it('parses the script output, and says so when there is none', () => {
    const single = { threads: 1, wall_ms: 10, cells: [cell(1e-3, 1e-4, 1)] };
    const pool = { processes: 2, threads_per_process: 1, wall_ms: 20, cells: [cell(1e-3, 1e-4, 2)] };
    expect(parseToyOutput('progress\n' + JSON.stringify({ peer: 'pytorch', torch: '1.13', blas: 'openblas', single, pool }))).toEqual({ available: true, torch: '1.13', blas: 'openblas', single, pool });
    expect(parseToyOutput('Traceback ...')).toEqual({ available: false, reason: 'grokking_toy_bench.py printed no JSON' });
    expect(parseToyOutput(JSON.stringify({ torch: '1.13', single }))).toMatchObject({ available: false });
  });

  it('reports PyTorch and the CLI as unavailable with what to do', () => {
    expect(existsSync(TOY_SCRIPT)).toBe(true);
    const p = toyProblem(true, {});
    const t = runTorchToy(p, { python: '/nonexistent/python3' });
    expect(t.available).toBe(false);
    if (!t.available) expect(t.reason).toMatch(/apt-get install -y python3-torch/);
    const o = runOursToy(p, { cli: '/nonexistent/bin.js' });
    expect(o).toEqual({ available: false, reason: 'the CLI is not built (/nonexistent/bin.js is missing); run pnpm build' });
  });

  it.skipIf(!torchAvailable)('the PyTorch peer trains the toy: one cell, single and pool, same results in both', () => {
    const t = runTorchToy({ ...toyProblem(true, {}), cells: [[1e-2, 1e-3]], steps: 30, evalEvery: 10 });
    expect(t.available).toBe(true);
    if (!t.available) return;
    expect(t.pool.processes).toBe(2);
    expect(t.single.threads).toBe(1);
    const [s] = t.single.cells;
    const [q] = t.pool.cells;
    expect(s).toMatchObject({ eta_r: 1e-2, eta_d: 1e-3, steps: 30, evaluations: 3 });
    for (const v of [s.train_accuracy, s.test_accuracy]) expect(v >= 0 && v <= 1).toBe(true);
    expect(s.train_loss).toBeGreaterThan(0);
    // the same seed and protocol in another process: the same numbers
    expect(q.train_loss).toBeCloseTo(s.train_loss, 5);
    expect(q.train_accuracy).toBe(s.train_accuracy);
  }, 180_000);

  it.skipIf(!existsSync(CLI_BIN))('our side runs the cells through goldstone sweep and reads every run back', () => {
    const o = runOursToy({ ...toyProblem(true, {}), cells: [[1e-2, 1e-3], [1e-3, 1e-4]], steps: 20, evalEvery: 10 });
    expect(o.available).toBe(true);
    if (!o.available) return;
    expect(o.cells.map((c) => [c.eta_r, c.eta_d, c.steps])).toEqual([
      [1e-2, 1e-3, 20],
      [1e-3, 1e-4, 20],
    ]);
    for (const c of o.cells) {
      expect(c.train_ms).toBeGreaterThan(0);
      expect(c.train_accuracy >= 0 && c.train_accuracy <= 1).toBe(true);
      expect(Number.isFinite(c.test_loss)).toBe(true);
    }
  }, 300_000);
});
