import * as tf from '@tensorflow/tfjs-core';
import { Rng, disposeParams, flattenParams, lossFunction } from '@goldstone/core';
import { curvatureOperator, denseMatrix, type DenseMatrix, type LinearOperator } from '@goldstone/curvature';
import type { ModelInstance } from '@goldstone/plugin-api';
import { mlp } from '@goldstone/models';
import { median } from './stats';
import { peerScript, runPeer, specsOf, type MlpPeerProblem } from './peer';

/**
 * Issue 16 (a): the exact Hessian of the quickstart model (experiments/quickstart.yaml: the CLT
 * task's shapes, an MLP 16-24-24-8 tanh with biases, MSE, 2,048 examples), built as the hessian
 * analysis's exact method builds it (`curvatureOperator` + `denseMatrix`: one HVP per column),
 * against `torch.autograd.functional.hessian` of the same loss of the flat parameters
 * (hessian_bench.py), both float32.
 */
export interface HessianProblem {
  name: string;
  /** MLP widths, input first (tanh, biases). */
  sizes: number[];
  examples: number;
  /** CLT block: the target of an example is its block sums / √block (sizes[0] / block outputs). */
  block: number;
  /** Timed builds of the whole matrix; the median is reported. */
  reps: number;
}

export function hessianProblem(quick: boolean): HessianProblem {
  const sizes = quick ? [16, 8, 8, 8] : [16, 24, 24, 8];
  const examples = quick ? 256 : 2048;
  return { name: `exact-hessian-mlp-${sizes.join('-')}-n${examples}`, sizes, examples, block: 2, reps: quick ? 1 : 3 };
}

/**
 * CLT-shaped data: `sizes[0]` centred exponential spins (E − 1, E ~ Exp(1), the quickstart's
 * distribution) per example, targets the sums of consecutive blocks of `block` sites / √block.
 */
export function cltData(sites: number, block: number, examples: number, rng: Rng): { x: Float32Array; y: Float32Array } {
  if (sites % block !== 0) throw new RangeError(`cltData: ${sites} sites do not split into blocks of ${block}`);
  const x = new Float32Array(examples * sites);
  for (let i = 0; i < x.length; i++) x[i] = -Math.log(1 - rng.uniform()) - 1;
  const outputs = sites / block;
  const y = new Float32Array(examples * outputs);
  const s = 1 / Math.sqrt(block);
  for (let e = 0; e < examples; e++) {
    for (let o = 0; o < outputs; o++) {
      let sum = 0;
      for (let k = 0; k < block; k++) sum += x[e * sites + o * block + k];
      y[e * outputs + o] = sum * s;
    }
  }
  return { x, y };
}

/** The problem on the current backend: the model at its seeded initial point, the data, the Hessian operator. */
export interface HessianSetup {
  model: ModelInstance;
  weights: Float32Array;
  x: Float32Array;
  y: Float32Array;
  loss: number;
  op: LinearOperator;
  dispose(): void;
}

export function setupHessian(p: HessianProblem, rng: Rng): HessianSetup {
  const [inputSize, ...rest] = p.sizes;
  const outputSize = rest[rest.length - 1];
  if (outputSize * p.block !== inputSize) throw new RangeError(`${p.name}: ${outputSize} outputs × block ${p.block} ≠ ${inputSize} inputs`);
  const model = mlp.create(mlp.options.parse({ hidden: rest.slice(0, -1), activation: 'tanh', bias: true }), {
    inputShape: [inputSize],
    outputSize,
    outputKind: 'regression',
  });
  const params = model.init(rng.split('init'));
  const { x, y } = cltData(inputSize, p.block, p.examples, rng.split('data'));
  const xt = tf.tensor2d(x, [p.examples, inputSize]);
  const yt = tf.tensor2d(y, [p.examples, outputSize]);
  try {
    const w = flattenParams(params, model.specs);
    const weights = w.dataSync() as Float32Array;
    w.dispose();
    const lossT = tf.tidy(() => lossFunction('mse')(model.apply(params, xt), yt));
    const loss = lossT.dataSync()[0];
    lossT.dispose();
    const op = curvatureOperator({ model, loss: 'mse', params, data: { x: xt, y: yt } });
    return { model, weights: Float32Array.from(weights), x, y, loss, op, dispose: () => op.dispose() };
  } finally {
    disposeParams(params);
    tf.dispose([xt, yt]);
  }
}

/** What goldstone measured on one backend. */
export interface HessianRun {
  backend: string;
  params: number;
  products: number;
  /** Wall time of `denseMatrix` (all columns, symmetrisation included), median over the reps, ms. */
  ms: number;
  ms_per_product: number;
  /** max |H − Hᵀ| / max |H| before symmetrisation. */
  asymmetry: number;
  max_abs: number;
  trace: number;
}

/** What hessian_bench.py reads (the matrix itself goes beside it as float32 `hessian.f32`). */
export interface HessianPeerInput extends MlpPeerProblem {
  problem: HessianProblem;
}

/** Build the matrix `reps` times (after one warm-up product); the last matrix is returned. */
export async function timeDenseHessian(op: LinearOperator, reps: number): Promise<{ ms: number; matrix: DenseMatrix }> {
  op.apply(new Float64Array(op.dim)); // warm-up: kernels compiled, shapes cached
  const times: number[] = [];
  let matrix: DenseMatrix | undefined;
  for (let r = 0; r < Math.max(1, reps); r++) {
    const t0 = performance.now();
    matrix = await denseMatrix(op);
    times.push(performance.now() - t0);
  }
  return { ms: median(times), matrix: matrix! };
}

export async function runExactHessian(
  p: HessianProblem,
  seed: number,
  backend: string,
): Promise<{ run: HessianRun; matrix: DenseMatrix; peer: HessianPeerInput }> {
  const before = tf.memory().numTensors;
  const s = setupHessian(p, new Rng(seed).split(p.name));
  try {
    const { ms, matrix } = await timeDenseHessian(s.op, p.reps);
    let maxAbs = 0;
    let trace = 0;
    for (let i = 0; i < matrix.values.length; i++) maxAbs = Math.max(maxAbs, Math.abs(matrix.values[i]));
    for (let i = 0; i < matrix.n; i++) trace += matrix.values[i * matrix.n + i];
    return {
      run: {
        backend,
        params: matrix.n,
        products: matrix.products,
        ms: round3(ms),
        ms_per_product: round3(ms / matrix.products),
        asymmetry: matrix.asymmetry,
        max_abs: maxAbs,
        trace,
      },
      matrix,
      peer: {
        problem: p,
        specs: specsOf(s.model.specs),
        x: Array.from(s.x),
        y: Array.from(s.y),
        w: Array.from(s.weights),
        loss: s.loss,
      },
    };
  } finally {
    s.dispose();
    if (tf.memory().numTensors !== before) throw new Error(`exact hessian on ${backend} leaked tensors`);
  }
}

export type TorchHessianResult =
  | {
      available: true;
      torch: string;
      threads: number;
      /** `torch.autograd.functional.hessian` (default: one backward per row), median ms. */
      ms: number;
      /** The same with `vectorize=True` (vmap over the rows), when it runs on this torch; median ms. */
      vectorized_ms: number | null;
      loss_abs_diff: number;
      /** max |H_torch − H_goldstone| / max |H_torch|. */
      rel_max_diff: number;
      max_abs: number;
    }
  | { available: false; reason: string };

export const HESSIAN_SCRIPT = peerScript('hessian_bench.py');

/** Run hessian_bench.py on the exported problem and goldstone's matrix (`threads`: torch threads, default 2). */
export function runTorchHessian(input: HessianPeerInput, matrix: DenseMatrix, opts: { python?: string; threads?: number } = {}): TorchHessianResult {
  const bytes = new Uint8Array(Float32Array.from(matrix.values).buffer);
  const out = runPeer<Omit<Extract<TorchHessianResult, { available: true }>, 'available'>>(HESSIAN_SCRIPT, input, {
    python: opts.python,
    args: ['--threads', String(opts.threads ?? 2)],
    files: { 'hessian.f32': bytes },
  });
  return out.ok ? { available: true, ...out.value } : { available: false, reason: out.reason };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The section of the report: goldstone's run, PyTorch's, the ratio of wall times. */
export interface HessianReport {
  problem: HessianProblem & { params: number; loss: string };
  ours: HessianRun | null;
  pytorch: TorchHessianResult;
  /** goldstone / torch.autograd.functional.hessian wall time (< 1: faster). */
  ratio_vs_pytorch: number | null;
}
