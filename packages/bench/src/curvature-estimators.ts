import * as tf from '@tensorflow/tfjs-core';
import { Rng, disposeParams, flattenParams, lossFunction } from '@goldstone/core';
import { curvatureOperator, estimator, spectralSum, type LinearOperator } from '@goldstone/curvature';
import { CASES, buildCase, type BenchCase } from './cases';
import { median } from './stats';
import { peerScript, runPeer, specsOf, type MlpPeerProblem } from './peer';

/**
 * Issue 16 (b): stochastic Lanczos quadrature (10 probes × 80 steps) and Hutchinson's trace
 * (100 Rademacher probes) on the Hessian of the 51k model (the `hvp-mlp-64-192-192-10` case: ReLU
 * MLP 64-192-192-10, softmax cross-entropy, batch 128), through goldstone's estimator registry
 * (`slq`, `hutchinson`: what the hessian analysis runs), against the same algorithms as PyHessian
 * runs them (its `trace` and `density` loops: one HVP at a time in Python, pyhessian_bench.py).
 */
export interface EstimatorProblem {
  name: string;
  /** The bench case whose model, point and batch define the Hessian. */
  case: BenchCase;
  slq: { probes: number; steps: number };
  hutchinson: { probes: number };
  /** Timed runs of each estimator (the same random stream each time); the median is reported. */
  reps: number;
}

export function estimatorProblem(quick: boolean): EstimatorProblem {
  const c = CASES.find((k) => k.name === 'hvp-mlp-64-192-192-10')!;
  const slq = quick ? { probes: 2, steps: 20 } : { probes: 10, steps: 80 };
  const hutchinson = { probes: quick ? 10 : 100 };
  return { name: `slq-${slq.probes}x${slq.steps}-hutchinson-${hutchinson.probes}-mlp-${c.sizes.join('-')}-b${c.batch}`, case: c, slq, hutchinson, reps: quick ? 1 : 3 };
}

/** One estimator's timing and what it estimated. */
export interface EstimatorRun {
  /** Wall time of the estimator's `run` (products and host work), median over the reps, ms. */
  ms: number;
  products: number;
  ms_per_product: number;
  /** The trace: Hutchinson's estimate, or n · mean Σ τᵢθᵢ of SLQ's quadratures. */
  trace: number;
  trace_stderr: number;
  /** SLQ: the largest Ritz value over the probes. */
  top_node?: number;
}

export interface EstimatorBackendRun {
  backend: string;
  params: number;
  slq: EstimatorRun;
  hutchinson: EstimatorRun;
}

/** What pyhessian_bench.py reads: the exact problem, in goldstone's parameter layout. */
export interface EstimatorPeerInput extends MlpPeerProblem {
  problem: { sizes: number[]; batch: number; slq: EstimatorProblem['slq']; hutchinson: EstimatorProblem['hutchinson']; reps: number };
  probe: number[];
  probe_hv: number[];
  seed: number;
}

/** The Hessian operator of a case at its seeded point, and what the peer needs to rebuild it. */
export function setupEstimators(p: EstimatorProblem, rng: Rng): { op: LinearOperator; peer: Omit<EstimatorPeerInput, 'probe' | 'probe_hv' | 'seed'> } {
  const { model, params, x, y } = buildCase(p.case, rng);
  try {
    const w = flattenParams(params, model.specs);
    const weights = Array.from(w.dataSync());
    w.dispose();
    const lossT = tf.tidy(() => lossFunction('softmax-cross-entropy')(model.apply(params, x), y));
    const loss = lossT.dataSync()[0];
    lossT.dispose();
    const op = curvatureOperator({ model, loss: 'softmax-cross-entropy', params, data: { x, y } });
    return {
      op,
      peer: {
        problem: { sizes: p.case.sizes, batch: p.case.batch, slq: p.slq, hutchinson: p.hutchinson, reps: p.reps },
        specs: specsOf(model.specs),
        x: Array.from(x.dataSync()),
        y: Array.from(y.dataSync()),
        w: weights,
        loss,
      },
    };
  } finally {
    disposeParams(params);
    tf.dispose([x, y]);
  }
}

async function timed<T>(reps: number, once: () => Promise<T>): Promise<{ ms: number; last: T }> {
  const times: number[] = [];
  let last: T | undefined;
  for (let r = 0; r < Math.max(1, reps); r++) {
    const t0 = performance.now();
    last = await once();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), last: last! };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** SLQ then Hutchinson, each through the estimator registry on the operator, `reps` times from the same stream. */
export async function timeEstimators(op: LinearOperator, p: EstimatorProblem, rng: Rng): Promise<{ slq: EstimatorRun; hutchinson: EstimatorRun }> {
  const slqE = estimator('density', 'slq');
  const before = op.products;
  const slq = await timed(p.reps, async () => slqE.run(op, { density: p.slq }, rng.split('slq')));
  const slqProducts = (op.products - before) / Math.max(1, p.reps);
  const quadratures = slq.last.density!.quadratures;
  const slqTrace = spectralSum(quadratures, op.dim, (t) => t);
  const hutchE = estimator('trace', 'hutchinson');
  const mid = op.products;
  const hutch = await timed(p.reps, async () => hutchE.run(op, { trace: p.hutchinson }, rng.split('hutchinson')));
  const hutchProducts = (op.products - mid) / Math.max(1, p.reps);
  return {
    slq: {
      ms: round3(slq.ms),
      products: slqProducts,
      ms_per_product: round3(slq.ms / slqProducts),
      trace: slqTrace.value,
      trace_stderr: slqTrace.stderr,
      top_node: Math.max(...quadratures.flatMap((q) => q.nodes)),
    },
    hutchinson: {
      ms: round3(hutch.ms),
      products: hutchProducts,
      ms_per_product: round3(hutch.ms / hutchProducts),
      trace: hutch.last.trace!.value,
      trace_stderr: hutch.last.trace!.stderr ?? 0,
    },
  };
}

/** Both estimators on the current backend (one untimed product first), and the peer's input. */
export async function runEstimators(p: EstimatorProblem, seed: number, backend: string): Promise<{ run: EstimatorBackendRun; peer: EstimatorPeerInput }> {
  const before = tf.memory().numTensors;
  const rng = new Rng(seed).split(p.name);
  const { op, peer } = setupEstimators(p, rng.split('case'));
  try {
    const probe = Float64Array.from(rng.split('probe').normalArray(op.dim));
    const probeHv = op.apply(probe); // also the warm-up product
    const t = await timeEstimators(op, p, rng);
    return {
      run: { backend, params: op.dim, ...t },
      peer: { ...peer, probe: Array.from(probe), probe_hv: Array.from(probeHv), seed },
    };
  } finally {
    op.dispose();
    if (tf.memory().numTensors !== before) throw new Error(`curvature estimators on ${backend} leaked tensors`);
  }
}

export type TorchEstimatorResult =
  | {
      available: true;
      torch: string;
      threads: number;
      check: { loss_abs_diff: number; hvp_rel_diff: number };
      slq: EstimatorRun;
      hutchinson: EstimatorRun;
    }
  | { available: false; reason: string };

export const PYHESSIAN_SCRIPT = peerScript('pyhessian_bench.py');

export function runTorchEstimators(input: EstimatorPeerInput, opts: { python?: string; threads?: number } = {}): TorchEstimatorResult {
  const out = runPeer<Omit<Extract<TorchEstimatorResult, { available: true }>, 'available'>>(PYHESSIAN_SCRIPT, input, {
    python: opts.python,
    args: ['--threads', String(opts.threads ?? 2)],
  });
  return out.ok ? { available: true, ...out.value } : { available: false, reason: out.reason };
}

/** The section of the report. */
export interface EstimatorReport {
  problem: EstimatorProblem & { params: number; loss: string };
  ours: EstimatorBackendRun | null;
  pytorch: TorchEstimatorResult;
  /** goldstone / PyHessian-style PyTorch wall time per estimator (< 1: faster). */
  ratios: { slq: number | null; hutchinson: number | null };
}
