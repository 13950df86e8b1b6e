import { applyBlock, axpy, blockSizeOf, dot, norm, scale, type LinearOperator } from './linear-operator';
import { yieldToEventLoop } from '@goldstone/core';
import type { Rng } from '@goldstone/plugin-api';

export interface TraceEstimate {
  /** The estimate of tr(A). */
  value: number;
  /** Its standard error (sample standard deviation of the per-probe estimates / √probes). */
  stderr: number;
  /** Operator products used (one per vector). */
  products: number;
  /** Block products made (`applyBlock` calls: vectors in blocks of `blockSizeOf(op)`). */
  blocks: number;
  /** Probes used in the stochastic part. */
  probes: number;
  estimator: 'hutchinson' | 'hutch++';
}

function meanAndStderr(samples: readonly number[]): { mean: number; stderr: number } {
  const k = samples.length;
  const mean = samples.reduce((s, x) => s + x, 0) / k;
  if (k < 2) return { mean, stderr: Number.POSITIVE_INFINITY };
  const variance = samples.reduce((s, x) => s + (x - mean) ** 2, 0) / (k - 1);
  return { mean, stderr: Math.sqrt(variance / k) };
}

function rademacher(n: number, rng: Rng): Float64Array {
  return Float64Array.from(rng.rademacher(n));
}

/** Options of the trace estimators: the products go in blocks of `blockSize` (default `blockSizeOf(op)`). */
export interface TraceOptions {
  rng: Rng;
  /** Most vectors in one block product (default `blockSizeOf(op)`; 1: one product at a time). */
  blockSize?: number;
}

/**
 * A·v for `count` vectors made in order by `make(i)`, in blocks of `width` (`applyBlock`):
 * `use(i, v, Av)` sees each, in order. The event loop turns after each block. Returns the block
 * products made.
 */
export async function inBlocks(
  op: LinearOperator,
  count: number,
  width: number,
  make: (i: number) => Float64Array,
  use: (i: number, v: Float64Array, av: Float64Array) => void,
): Promise<number> {
  let blocks = 0;
  for (let i = 0; i < count; i += width) {
    const vs = Array.from({ length: Math.min(width, count - i) }, (_, k) => make(i + k));
    const avs = applyBlock(op, vs);
    blocks++;
    vs.forEach((v, k) => use(i + k, v, avs[k]));
    await yieldToEventLoop();
  }
  return blocks;
}

const widthOf = (op: LinearOperator, opts: TraceOptions) => Math.max(1, Math.floor(opts.blockSize ?? blockSizeOf(op)));

/**
 * Hutchinson's estimator tr(A) ≈ (1/k) Σ zᵢᵀ A zᵢ with Rademacher probes zᵢ (variance
 * 2‖A‖_F² − 2Σ A_ii² per probe, the smallest of the common probe distributions). One product
 * per probe; the standard error is the sample one. The probes go in blocks of `blockSizeOf(op)`
 * (drawn in order: the same numbers as one product at a time); the event loop turns between blocks.
 */
export async function hutchinson(op: LinearOperator, opts: TraceOptions & { probes: number }): Promise<TraceEstimate> {
  if (!(opts.probes >= 1)) throw new RangeError(`hutchinson: probes must be ≥ 1, got ${opts.probes}`);
  const before = op.products;
  const samples: number[] = [];
  const blocks = await inBlocks(op, opts.probes, widthOf(op, opts), () => rademacher(op.dim, opts.rng), (_i, z, az) => samples.push(dot(z, az)));
  const { mean, stderr } = meanAndStderr(samples);
  return { value: mean, stderr, products: op.products - before, blocks, probes: opts.probes, estimator: 'hutchinson' };
}

/** Orthonormalise columns in place (modified Gram–Schmidt, twice); drops numerically dependent ones. */
function orthonormalColumns(cols: Float64Array[]): Float64Array[] {
  const q: Float64Array[] = [];
  for (const c of cols) {
    const v = Float64Array.from(c);
    const n0 = norm(v);
    for (let pass = 0; pass < 2; pass++) for (const u of q) axpy(v, -dot(u, v), u);
    const nv = norm(v);
    if (nv > 1e-10 * Math.max(n0, 1e-300)) {
      scale(v, 1 / nv);
      q.push(v);
    }
  }
  return q;
}

/**
 * Hutch++ (Meyer, Musco, Musco, Woodruff 2021): with m products, m/3 go into a sketch Q of A's
 * dominant range (Q = orth(A S), S Rademacher), tr(QᵀAQ) is taken exactly (m/3 products) and the
 * rest, tr((I−QQᵀ)A(I−QQᵀ)), by Hutchinson with the last m/3 probes. Much smaller error than
 * Hutchinson when the spectrum decays fast; the standard error is that of the deflated part. Each
 * third goes in blocks of `blockSizeOf(op)` (the same numbers as one product at a time); the event
 * loop turns between blocks.
 */
export async function hutchPlusPlus(op: LinearOperator, opts: TraceOptions & { products: number }): Promise<TraceEstimate> {
  const k = Math.floor(opts.products / 3);
  if (k < 2) throw new RangeError(`hutchPlusPlus: needs at least 6 products, got ${opts.products}`);
  const n = op.dim;
  const width = widthOf(op, opts);
  const before = op.products;
  const sketch: Float64Array[] = [];
  let blocks = await inBlocks(op, k, width, () => rademacher(n, opts.rng), (_i, _s, as) => sketch.push(as));
  const Q = orthonormalColumns(sketch);
  let exact = 0;
  blocks += await inBlocks(op, Q.length, width, (i) => Q[i], (_i, q, aq) => (exact += dot(q, aq)));
  const project = (z: Float64Array) => {
    for (const q of Q) axpy(z, -dot(q, z), q);
  };
  const samples: number[] = [];
  const probe = () => {
    const z = rademacher(n, opts.rng);
    project(z);
    return z;
  };
  blocks += await inBlocks(op, k, width, probe, (_i, z, az) => {
    project(az);
    samples.push(dot(z, az));
  });
  const { mean, stderr } = meanAndStderr(samples);
  return { value: exact + mean, stderr, products: op.products - before, blocks, probes: k, estimator: 'hutch++' };
}
