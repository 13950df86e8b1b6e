import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, lossFunction, paramsFromArray, disposeParams } from '@goldstone/core';
import { curvatureOperator, lanczos, lanczosDecomposition, powerIteration, tridiagonalEigen, type LinearOperator } from '@goldstone/curvature';
import type { ModelInstance, Params } from '@goldstone/plugin-api';
import { mlp } from '@goldstone/models';
import { torchMissing } from './torch';
import { specsOf, type MlpPeerProblem } from './peer';
import { median } from './stats';

/**
 * The curvature case family: on one Hessian, how many Hessian-vector products (and how much wall
 * time) Lanczos and deflated power iteration need until all top-k eigenvalues are within a relative
 * accuracy of a reference, on goldstone and on the same algorithms in PyTorch (krylov_bench.py).
 */
export interface KrylovProblem {
  name: string;
  /** Widths of the tanh MLP, input first. */
  sizes: number[];
  /** Examples the Hessian is averaged over (one batch: the whole set). */
  examples: number;
  /** Number of top eigenvalues wanted. */
  k: number;
  /** Relative accuracy |θᵢ − λᵢ| ≤ accuracy·|λᵢ| every wanted eigenvalue must reach. */
  accuracy: number;
  /** Products an algorithm may spend before it is stopped as not reaching the accuracy. */
  budget: number;
  /** Timed runs of each algorithm (same start vector each time); the median wall time is reported. */
  reps: number;
}

/** The problem of the Hessian issue (tanh MLP 16-48-48-10, 256 examples); quick: 64 examples, smaller budget. */
export function krylovProblem(quick: boolean): KrylovProblem {
  const examples = quick ? 64 : 256;
  return { name: `krylov-top5-mlp-16-48-48-10-n${examples}`, sizes: [16, 48, 48, 10], examples, k: 5, accuracy: 1e-3, budget: quick ? 600 : 3000, reps: quick ? 1 : 3 };
}

/**
 * Whether the estimates reach the reference: at least as many estimates as reference values, and
 * |estᵢ − refᵢ| ≤ accuracy·|refᵢ| for every i (both in the same order, descending).
 */
export function topKAccurate(estimates: readonly number[], reference: readonly number[], accuracy: number): boolean {
  if (reference.length === 0 || estimates.length < reference.length) return false;
  return reference.every((r, i) => Number.isFinite(estimates[i]) && Math.abs(estimates[i] - r) <= accuracy * Math.abs(r));
}

/** Products and wall time one algorithm needed to reach the accuracy (null when it did not within the budget). */
export interface KrylovRun {
  reached: boolean;
  products: number | null;
  /** Wall time to reach the accuracy (median over the reps). */
  ms: number | null;
  /** Products spent in all (the budget when not reached). */
  products_spent: number;
}

/** Ours over theirs, rounded to 2 decimals; null when either is missing. */
export function krylovRatio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0)) return null;
  return Math.round((a / b) * 100) / 100;
}

/**
 * Keeps the latest estimate of each eigenvalue as an algorithm runs and remembers the first moment
 * (products, ms since `start`) all of them reach the reference.
 */
export class AccuracyClock {
  private readonly estimates: number[] = [];
  private hit: { products: number; ms: number } | null = null;
  constructor(
    private readonly reference: readonly number[],
    private readonly accuracy: number,
    private readonly t0: number,
  ) {}

  /** Record estimate `index`; returns true when all are accurate now (or were before). */
  update(index: number, value: number, products: number, now: number): boolean {
    this.estimates[index] = value;
    return this.check(products, now);
  }

  /** Replace all estimates at once (e.g. the Ritz values of one Lanczos step, descending). */
  set(values: readonly number[], products: number, now: number): boolean {
    this.estimates.length = 0;
    this.estimates.push(...values);
    return this.check(products, now);
  }

  private check(products: number, now: number): boolean {
    if (!this.hit && topKAccurate(this.estimates, this.reference, this.accuracy)) this.hit = { products, ms: now - this.t0 };
    return this.hit !== null;
  }

  result(productsSpent: number): KrylovRun {
    return { reached: this.hit !== null, products: this.hit?.products ?? null, ms: this.hit ? round3(this.hit.ms) : null, products_spent: productsSpent };
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The problem on the current backend: model, point, data and the Hessian operator. */
export interface KrylovSetup {
  model: ModelInstance;
  /** Flat parameters in the order of `model.specs` (each tensor row-major, weights [in, out]). */
  weights: Float32Array;
  xs: Float32Array;
  ys: Float32Array;
  op: LinearOperator;
  /** Mean loss at the point (to check the PyTorch peer computes the same function). */
  loss: number;
  dispose(): void;
}

/**
 * Build the problem from `rng`: a tanh MLP from the `mlp` plugin at a generic point (weights
 * N(0, (1.5/√fan-in)²), biases N(0, 0.3²), so the Hessian is not that of a symmetric init),
 * Gaussian inputs, one-hot random labels, softmax cross-entropy.
 */
export function setupKrylov(p: KrylovProblem, rng: Rng): KrylovSetup {
  const [inputSize, ...rest] = p.sizes;
  const outputSize = rest[rest.length - 1];
  const model = mlp.create(mlp.options.parse({ hidden: rest.slice(0, -1), activation: 'tanh' }), {
    inputShape: [inputSize],
    outputSize,
    outputKind: 'classification',
  });
  const weights = new Float32Array(model.paramCount);
  let o = 0;
  const pointRng = rng.split('point');
  for (const s of model.specs) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const std = s.name.endsWith('.weight') ? 1.5 / Math.sqrt(s.shape[0]) : 0.3;
    weights.set(pointRng.split(s.name).normalArray(size, std), o);
    o += size;
  }
  const dataRng = rng.split('data');
  const xs = dataRng.normalArray(p.examples * inputSize);
  const ys = new Float32Array(p.examples * outputSize);
  for (let i = 0; i < p.examples; i++) ys[i * outputSize + dataRng.int(outputSize)] = 1;
  const params: Params = paramsFromArray(weights, model.specs);
  const x = tf.tensor2d(xs, [p.examples, inputSize]);
  const y = tf.tensor2d(ys, [p.examples, outputSize]);
  const op = curvatureOperator({ model, loss: 'softmax-cross-entropy', params, data: { x, y } });
  const lossT = tf.tidy(() => lossFunction('softmax-cross-entropy')(model.apply(params, x), y));
  const loss = lossT.dataSync()[0];
  lossT.dispose();
  // the operator keeps its own copies of the point and the data
  disposeParams(params);
  tf.dispose([x, y]);
  return { model, weights, xs, ys, op, loss, dispose: () => op.dispose() };
}

/** Reference top-k eigenvalues: Lanczos (full reorthogonalisation) until every Ritz residual is ≤ 1e-7·max|θ|. */
export async function referenceEigenvalues(op: LinearOperator, k: number, rng: Rng): Promise<{ values: number[]; steps: number; converged: boolean }> {
  const r = await lanczos(op, { topK: k, maxSteps: Math.min(op.dim, 300), tol: 1e-7, rng });
  return { values: r.top.map((e) => e.value), steps: r.steps, converged: r.converged };
}

/** Lanczos until the top-k Ritz values reach the reference (or the budget is spent). */
export async function timeLanczos(op: LinearOperator, reference: readonly number[], p: KrylovProblem, rng: Rng): Promise<KrylovRun> {
  const t0 = performance.now();
  const clock = new AccuracyClock(reference, p.accuracy, t0);
  const d = await lanczosDecomposition(op, {
    steps: p.budget,
    rng,
    onStep: (s) => clock.set(tridiagonalEigen(s.alpha, s.beta).values.reverse(), s.products, performance.now()),
  });
  return clock.result(d.products);
}

class Reached extends Error {}

/**
 * Deflated power iteration (core's `powerIteration`, each pair stopped at residual ≤ accuracy·|λ|)
 * until its k estimates (the final values of the found pairs and the current one) reach the
 * reference; it is then stopped, as Lanczos is. Also stopped when the budget is spent.
 */
export async function timePower(op: LinearOperator, reference: readonly number[], p: KrylovProblem, rng: Rng): Promise<KrylovRun> {
  const t0 = performance.now();
  const clock = new AccuracyClock(reference, p.accuracy, t0);
  let spent = 0;
  try {
    const r = await powerIteration(op, {
      k: p.k,
      tol: p.accuracy,
      maxIterations: p.budget,
      rng,
      onIteration: (it) => {
        spent = it.products;
        if (clock.update(it.pair, it.value, it.products, performance.now()) || it.products >= p.budget) throw new Reached();
      },
    });
    spent = r.products;
  } catch (err) {
    if (!(err instanceof Reached)) throw err;
  }
  return clock.result(spent);
}

/** Run `reps` times, one after another (the same start vector: the same products); the median wall time. */
export async function repeated(reps: number, once: () => KrylovRun | Promise<KrylovRun>): Promise<KrylovRun> {
  const runs: KrylovRun[] = [];
  for (let i = 0; i < Math.max(1, reps); i++) runs.push(await once());
  const times = runs.map((r) => r.ms).filter((t): t is number => t !== null);
  return { ...runs[0], ms: times.length === runs.length ? round3(median(times)) : null };
}

/** What one backend measured. */
export interface KrylovBackendRun {
  backend: string;
  lanczos: KrylovRun;
  power: KrylovRun;
  /** Power iteration's products over Lanczos's (the goal: ≥ 3). */
  power_over_lanczos_products: number | null;
}

/** The problem, its reference, and a random vector with its product (for the peer's self-check). */
export interface KrylovReference {
  values: number[];
  steps: number;
  converged: boolean;
  backend: string;
}

/**
 * Run both algorithms on the current backend. The reference is computed here when not given
 * (pass the first backend's to the others: the problem is the same). One untimed product first.
 */
export async function runKrylov(
  p: KrylovProblem,
  seed: number,
  backend: string,
  given?: { reference: KrylovReference; peer: KrylovPeerInput },
): Promise<{ run: KrylovBackendRun; reference: KrylovReference; peer: KrylovPeerInput }> {
  const rng = new Rng(seed).split(p.name);
  const before = tf.memory().numTensors;
  const s = setupKrylov(p, rng);
  try {
    const probe = Float64Array.from(rng.split('probe').normalArray(s.op.dim));
    const probeHv = s.op.apply(probe); // also the warm-up product
    let reference = given?.reference;
    if (!reference) {
      const r = await referenceEigenvalues(s.op, p.k, rng.split('reference'));
      reference = { ...r, backend };
    }
    const peer: KrylovPeerInput = given?.peer ?? {
      problem: p,
      specs: specsOf(s.model.specs),
      x: Array.from(s.xs),
      y: Array.from(s.ys),
      w: Array.from(s.weights),
      loss: s.loss,
      probe: Array.from(probe),
      probe_hv: Array.from(probeHv),
      reference: reference.values,
      seed,
    };
    const lz = await repeated(p.reps, () => timeLanczos(s.op, reference.values, p, rng.split('lanczos')));
    const pw = await repeated(p.reps, () => timePower(s.op, reference.values, p, rng.split('power')));
    return {
      run: { backend, lanczos: lz, power: pw, power_over_lanczos_products: krylovRatio(pw.products, lz.products) },
      reference,
      peer,
    };
  } finally {
    s.dispose();
    if (tf.memory().numTensors !== before) throw new Error(`krylov on ${backend} leaked tensors`);
  }
}

/** What krylov_bench.py reads: the exact problem (parameters in `specs` order) and the reference. */
export interface KrylovPeerInput extends MlpPeerProblem {
  problem: KrylovProblem;
  probe: number[];
  probe_hv: number[];
  reference: number[];
  seed: number;
}

export type TorchKrylovResult =
  | {
      available: true;
      torch: string;
      threads: number;
      /** |loss_torch − loss_ours| and ‖Hv_torch − Hv_ours‖/‖Hv_ours‖ on a random v: the same function and Hessian. */
      check: { loss_abs_diff: number; hvp_rel_diff: number };
      lanczos: KrylovRun;
      power: KrylovRun;
      power_over_lanczos_products: number | null;
    }
  | { available: false; reason: string };

export const KRYLOV_SCRIPT = fileURLToPath(new URL('../krylov_bench.py', import.meta.url));

/** Parse krylov_bench.py's stdout (its last line is one JSON object). */
export function parseKrylovOutput(stdout: string): TorchKrylovResult {
  let raw: { torch: string; threads: number; check: { loss_abs_diff: number; hvp_rel_diff: number }; lanczos: KrylovRun; power: KrylovRun };
  try {
    raw = JSON.parse(stdout.trim().split('\n').pop() ?? '');
  } catch {
    return { available: false, reason: 'krylov_bench.py printed no JSON' };
  }
  return {
    available: true,
    torch: raw.torch,
    threads: raw.threads,
    check: raw.check,
    lanczos: raw.lanczos,
    power: raw.power,
    power_over_lanczos_products: krylovRatio(raw.power.products, raw.lanczos.products),
  };
}

/** Run the PyTorch peer on the problem (when `python -c "import torch"` works). */
export function runTorchKrylov(input: KrylovPeerInput, opts: { python?: string; threads?: number } = {}): TorchKrylovResult {
  const python = opts.python ?? '/usr/bin/python3';
  const missing = torchMissing(python);
  if (missing) return { available: false, reason: missing };
  const dir = mkdtempSync(join(tmpdir(), 'goldstone-krylov-'));
  try {
    const file = join(dir, 'problem.json');
    writeFileSync(file, JSON.stringify(input));
    const run = spawnSync(python, [KRYLOV_SCRIPT, file, '--threads', String(opts.threads ?? 2)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 << 20,
    });
    if (run.error || run.status !== 0) return { available: false, reason: `krylov_bench.py failed (${run.error?.message ?? `exit ${run.status}`})` };
    return parseKrylovOutput(run.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One row per (backend, algorithm): ours against PyTorch's from the same run. */
export interface KrylovRow {
  backend: string;
  algorithm: 'lanczos' | 'power';
  products: number | null;
  ms: number | null;
  pytorch_products: number | null;
  pytorch_ms: number | null;
  /** Our wall time over PyTorch's (> 1: slower). */
  time_ratio_vs_pytorch: number | null;
}

export function krylovTable(runs: readonly KrylovBackendRun[], torch: TorchKrylovResult): KrylovRow[] {
  const rows: KrylovRow[] = [];
  for (const r of runs) {
    for (const algorithm of ['lanczos', 'power'] as const) {
      const ours = r[algorithm];
      const peer = torch.available ? torch[algorithm] : null;
      rows.push({
        backend: r.backend,
        algorithm,
        products: ours.products,
        ms: ours.ms,
        pytorch_products: peer?.products ?? null,
        pytorch_ms: peer?.ms ?? null,
        time_ratio_vs_pytorch: krylovRatio(ours.ms, peer?.ms),
      });
    }
  }
  return rows;
}
