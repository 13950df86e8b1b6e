import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { torchMissing } from './torch';

/**
 * The grokking toy of docs/grokking-toy.md (Liu et al. 2022): a list of (η_r, η_d) cells of the
 * phase map, each trained `steps` full-batch steps, timed through `goldstone sweep --workers 2` and
 * through a PyTorch implementation of the same protocol (grokking_toy_bench.py).
 */
export interface ToyProblem {
  name: string;
  /** (η_r, η_d): the encoder's (embedding) and the decoder's AdamW learning rates. */
  cells: [number, number][];
  steps: number;
  /** Evaluation of train and test loss and accuracy every this many steps (and after the last). */
  evalEvery: number;
  seed: number;
  workers: number;
}

/** The default cell of the toy (η_r 1e-3, η_d 1e-4) first, then a few others of the phase map. */
export const TOY_CELLS: [number, number][] = [
  [1e-3, 1e-4],
  [1e-2, 1e-3],
  [1e-3, 1e-3],
  [1e-4, 1e-3],
];

export function toyProblem(quick: boolean, env: Record<string, string | undefined> = process.env): ToyProblem {
  const steps = env.BENCH_TOY_STEPS ? Number(env.BENCH_TOY_STEPS) : quick ? 300 : 10_000;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`BENCH_TOY_STEPS must be a positive integer, got "${env.BENCH_TOY_STEPS}"`);
  let cells = quick ? TOY_CELLS.slice(0, 2) : TOY_CELLS;
  if (env.BENCH_TOY_CELLS) {
    const parsed: unknown = JSON.parse(env.BENCH_TOY_CELLS);
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((c) => Array.isArray(c) && c.length === 2 && c.every((v) => typeof v === 'number' && v > 0))) {
      throw new Error(`BENCH_TOY_CELLS must be a JSON list of [eta_r, eta_d] pairs of positive numbers, got ${env.BENCH_TOY_CELLS}`);
    }
    cells = parsed as [number, number][];
  }
  return { name: 'grokking-toy-p10-d2-200-200-30-n45', cells, steps, evalEvery: Math.min(100, steps), seed: 58, workers: 2 };
}

/**
 * The experiment file `goldstone sweep` runs: the toy's protocol through @goldstone/task-relations
 * (templates, one orientation) and the embedding-decoder (sum, uniform embeddings, torch init),
 * AdamW with weight decay 0 per group, one full batch of 45 per epoch, the cells as a zip.
 */
export function toyExperiment(p: ToyProblem): Record<string, unknown> {
  return {
    name: 'grokking-toy-bench',
    description: 'The grokking toy (docs/grokking-toy.md), for the bench: wall time of the phase-map cells.',
    seed: p.seed,
    backend: 'wasm',
    task: { name: 'relations', options: { relation: 'addition', nodes: 10, trainNum: 45, encoding: 'index', target: 'template', orientations: 'one' } },
    model: { name: 'embedding-decoder', options: { nodes: 10, dim: 2, combine: 'sum', hidden: [200, 200], activation: 'tanh', embeddingInit: 'uniform', init: 'torch' } },
    train: {
      optimizer: 'adamw',
      lr: p.cells[0][0],
      weightDecay: 0,
      epochs: p.steps,
      batchSize: 45,
      evalEvery: p.evalEvery,
      logEvery: p.evalEvery,
      checkpointEvery: p.steps,
      groups: { encoder: { lr: p.cells[0][0], weightDecay: 0 }, decoder: { lr: p.cells[0][1], weightDecay: 0 } },
    },
    analyses: [],
    sweep: {
      zip: { 'train.groups.encoder.lr': p.cells.map((c) => c[0]), 'train.groups.decoder.lr': p.cells.map((c) => c[1]) },
      seeds: [p.seed],
    },
  };
}

/** One cell's result, ours or PyTorch's. */
export interface ToyCell {
  eta_r: number;
  eta_d: number;
  steps: number;
  /** The whole run (set-up, training, evaluations, writing), ms. */
  wall_ms: number;
  /** The training loop with its evaluations, ms. */
  train_ms: number;
  per_step_ms: number;
  /** Evaluations inside the training loop (PyTorch's side reports it). */
  evaluations?: number;
  train_accuracy: number;
  test_accuracy: number;
  train_loss: number;
  test_loss: number;
}

export type OursToy =
  | { available: true; command: string; workers: number; backend: string; sweep_wall_ms: number; cells: ToyCell[] }
  | { available: false; reason: string };

export const CLI_BIN = fileURLToPath(new URL('../../../apps/cli/dist/bin.js', import.meta.url));

/** Read one run directory of the sweep into a cell (null when it did not complete). */
export function readToyRun(dir: string): ToyCell | null {
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as {
    status: string;
    createdAt: string;
    finishedAt?: string;
    config: { train: { epochs: number; groups: { encoder: { lr: number }; decoder: { lr: number } } } };
    summary?: Record<string, number>;
  };
  if (run.status !== 'completed' || !run.summary || !run.finishedAt) return null;
  const rows = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { kind: string; time?: number; step?: number });
  const last = rows.filter((r) => r.kind === 'epoch').pop();
  if (last?.time === undefined) return null;
  const steps = last.step ?? run.config.train.epochs;
  const s = run.summary;
  return {
    eta_r: run.config.train.groups.encoder.lr,
    eta_d: run.config.train.groups.decoder.lr,
    steps,
    wall_ms: Date.parse(run.finishedAt) - Date.parse(run.createdAt),
    train_ms: last.time * 1000,
    per_step_ms: (last.time * 1000) / steps,
    train_accuracy: s['train.accuracy'],
    test_accuracy: s['test.accuracy'],
    train_loss: s['train.loss'],
    test_loss: s['test.loss'],
  };
}

const cellKey = (c: { eta_r: number; eta_d: number }) => `${c.eta_r}/${c.eta_d}`;

/**
 * Time the cells through the real CLI: write the experiment file into a temporary directory, run
 * `goldstone sweep FILE --workers N --no-report` (wasm), read each run's training time (the last
 * epoch row's `time`) and final metrics. The CLI must be built (`pnpm build`).
 */
export function runOursToy(p: ToyProblem, opts: { cli?: string; log?: (line: string) => void } = {}): OursToy {
  const cli = opts.cli ?? CLI_BIN;
  if (!existsSync(cli)) return { available: false, reason: `the CLI is not built (${cli} is missing); run pnpm build` };
  const dir = mkdtempSync(join(tmpdir(), 'goldstone-toy-'));
  try {
    const file = join(dir, 'toy.json');
    writeFileSync(file, JSON.stringify(toyExperiment(p), null, 2));
    const out = join(dir, 'sweep');
    const args = [cli, 'sweep', file, '--out', out, '--workers', String(p.workers), '--no-report', '--backend', 'wasm'];
    const t0 = performance.now();
    // the sweep's own lines go to our stderr: stdout stays pure JSON
    const run = spawnSync(process.execPath, args, { stdio: ['ignore', 2, 2] });
    const wall = performance.now() - t0;
    if (run.error || run.status !== 0) return { available: false, reason: `goldstone sweep failed (${run.error?.message ?? `exit ${run.status}`})` };
    const cells: ToyCell[] = [];
    for (const name of readdirSync(out, { withFileTypes: true })) {
      if (!name.isDirectory() || !existsSync(join(out, name.name, 'run.json'))) continue;
      const c = readToyRun(join(out, name.name));
      if (c) cells.push(c);
    }
    const order = new Map(p.cells.map((c, i) => [cellKey({ eta_r: c[0], eta_d: c[1] }), i]));
    cells.sort((a, b) => (order.get(cellKey(a)) ?? 0) - (order.get(cellKey(b)) ?? 0));
    opts.log?.(`bench: goldstone sweep --workers ${p.workers}: ${cells.length} cells in ${(wall / 1000).toFixed(1)} s`);
    return { available: true, command: `goldstone sweep <toy.json> --workers ${p.workers} --no-report --backend wasm`, workers: p.workers, backend: 'wasm', sweep_wall_ms: wall, cells };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type TorchToy =
  | {
      available: true;
      torch: string;
      blas: string;
      /** The cells one after another in one process of one thread. */
      single: { threads: number; wall_ms: number; cells: ToyCell[] };
      /** The cells on 2 processes of one thread each: what matches `goldstone sweep --workers 2`. */
      pool: { processes: number; threads_per_process: number; wall_ms: number; cells: ToyCell[] };
    }
  | { available: false; reason: string };

export const TOY_SCRIPT = fileURLToPath(new URL('../grokking_toy_bench.py', import.meta.url));

/** Parse grokking_toy_bench.py's stdout (its last line is one JSON object). */
export function parseToyOutput(stdout: string): TorchToy {
  try {
    const raw = JSON.parse(stdout.trim().split('\n').pop() ?? '') as Extract<TorchToy, { available: true }>;
    if (!raw.single || !raw.pool) return { available: false, reason: 'grokking_toy_bench.py printed no single and pool results' };
    return { available: true, torch: raw.torch, blas: raw.blas, single: raw.single, pool: raw.pool };
  } catch {
    return { available: false, reason: 'grokking_toy_bench.py printed no JSON' };
  }
}

/** Run the PyTorch peer (single, then pool) when `python -c "import torch"` works. */
export function runTorchToy(p: ToyProblem, opts: { python?: string } = {}): TorchToy {
  const python = opts.python ?? '/usr/bin/python3';
  const missing = torchMissing(python);
  if (missing) return { available: false, reason: missing };
  const args = [TOY_SCRIPT, '--cells', JSON.stringify(p.cells), '--steps', String(p.steps), '--seed', String(p.seed), '--eval-every', String(p.evalEvery), '--mode', 'both', '--processes', String(p.workers)];
  const run = spawnSync(python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 << 20 });
  if (run.error || run.status !== 0) return { available: false, reason: `grokking_toy_bench.py failed (${run.error?.message ?? `exit ${run.status}`})` };
  return parseToyOutput(run.stdout);
}

/** One row per cell: ours (in the sweep) against PyTorch's pool (alike: 2 at a time) and single. */
export interface ToyRow {
  eta_r: number;
  eta_d: number;
  per_step_ms: number | null;
  pytorch_pool_per_step_ms: number | null;
  pytorch_single_per_step_ms: number | null;
  /** Ours / PyTorch's pool per step (> 1: slower): both run two cells at a time on the 2 cores. */
  ratio_vs_pytorch: number | null;
  ratio_vs_pytorch_single: number | null;
  train_accuracy: number | null;
  test_accuracy: number | null;
  pytorch_train_accuracy: number | null;
  pytorch_test_accuracy: number | null;
}

export interface ToyReport {
  problem: ToyProblem & { protocol: string; params: number };
  ours: OursToy;
  pytorch: TorchToy;
  table: ToyRow[];
  /** The whole list of cells: our sweep's wall time over PyTorch's pool's (spawning included on both sides). */
  sweep_wall_ratio_vs_pytorch: number | null;
}

const round = (v: number | null | undefined, digits = 3): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toFixed(digits)));

function toyRatio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0)) return null;
  return Math.round((a / b) * 100) / 100;
}

export function toyTable(p: ToyProblem, ours: OursToy, torch: TorchToy): ToyRow[] {
  const find = (cells: ToyCell[] | undefined, eta_r: number, eta_d: number) => cells?.find((c) => c.eta_r === eta_r && c.eta_d === eta_d);
  return p.cells.map(([eta_r, eta_d]) => {
    const o = find(ours.available ? ours.cells : undefined, eta_r, eta_d);
    const pool = find(torch.available ? torch.pool.cells : undefined, eta_r, eta_d);
    const single = find(torch.available ? torch.single.cells : undefined, eta_r, eta_d);
    return {
      eta_r,
      eta_d,
      per_step_ms: round(o?.per_step_ms),
      pytorch_pool_per_step_ms: round(pool?.per_step_ms),
      pytorch_single_per_step_ms: round(single?.per_step_ms),
      ratio_vs_pytorch: toyRatio(o?.per_step_ms, pool?.per_step_ms),
      ratio_vs_pytorch_single: toyRatio(o?.per_step_ms, single?.per_step_ms),
      train_accuracy: round(o?.train_accuracy),
      test_accuracy: round(o?.test_accuracy),
      pytorch_train_accuracy: round(single?.train_accuracy),
      pytorch_test_accuracy: round(single?.test_accuracy),
    };
  });
}

/** The toy's parameter count: 10·2 + (2·200 + 200) + (200·200 + 200) + (200·30 + 30). */
export const TOY_PARAMS = 10 * 2 + (2 * 200 + 200) + (200 * 200 + 200) + (200 * 30 + 30);

/** Run both sides on the problem and put them side by side. */
export function runToy(p: ToyProblem, opts: { python?: string; cli?: string; log?: (line: string) => void } = {}): ToyReport {
  opts.log?.(`bench: grokking toy, ${p.cells.length} cells × ${p.steps} steps: goldstone sweep --workers ${p.workers}`);
  const ours = runOursToy(p, opts);
  if (!ours.available) opts.log?.(`bench: ${ours.reason}`);
  opts.log?.('bench: grokking toy, PyTorch peer (single, then a pool of 2 processes)');
  const pytorch = runTorchToy(p, opts);
  if (!pytorch.available) opts.log?.(`bench: ${pytorch.reason}`);
  return {
    problem: {
      ...p,
      protocol:
        'p = 10, the 55 pairs i ≤ j once each, 45 train; 19 class templates N(0, 1)^30, MSE; embeddings 10×2 U(−½, ½) summed → 200 → 200 → 30 tanh, nn.Linear init; AdamW (wd 0) η_r on the embeddings, η_d on the decoder; full batch',
      params: TOY_PARAMS,
    },
    ours,
    pytorch,
    table: toyTable(p, ours, pytorch),
    sweep_wall_ratio_vs_pytorch: toyRatio(ours.available ? ours.sweep_wall_ms : null, pytorch.available ? pytorch.pool.wall_ms : null),
  };
}
