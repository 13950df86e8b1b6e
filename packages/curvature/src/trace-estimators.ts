import { axpy, dot, norm, scale, type LinearOperator } from './linear-operator';
import { yieldToEventLoop } from '@goldstone/core';
import type { Rng } from '@goldstone/plugin-api';

export interface TraceEstimate {
  /** The estimate of tr(A). */
  value: number;
  /** Its standard error (sample standard deviation of the per-probe estimates / √probes). */
  stderr: number;
  /** Operator products used. */
  products: number;
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

/**
 * Hutchinson's estimator tr(A) ≈ (1/k) Σ zᵢᵀ A zᵢ with Rademacher probes zᵢ (variance
 * 2‖A‖_F² − 2Σ A_ii² per probe, the smallest of the common probe distributions). One product
 * per probe; the standard error is the sample one. The event loop turns between probes.
 */
export async function hutchinson(op: LinearOperator, opts: { probes: number; rng: Rng }): Promise<TraceEstimate> {
  if (!(opts.probes >= 1)) throw new RangeError(`hutchinson: probes must be ≥ 1, got ${opts.probes}`);
  const before = op.products;
  const samples: number[] = [];
  for (let i = 0; i < opts.probes; i++) {
    const z = rademacher(op.dim, opts.rng);
    samples.push(dot(z, op.apply(z)));
    await yieldToEventLoop();
  }
  const { mean, stderr } = meanAndStderr(samples);
  return { value: mean, stderr, products: op.products - before, probes: opts.probes, estimator: 'hutchinson' };
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
 * Hutchinson when the spectrum decays fast; the standard error is that of the deflated part. The
 * event loop turns between products.
 */
export async function hutchPlusPlus(op: LinearOperator, opts: { products: number; rng: Rng }): Promise<TraceEstimate> {
  const k = Math.floor(opts.products / 3);
  if (k < 2) throw new RangeError(`hutchPlusPlus: needs at least 6 products, got ${opts.products}`);
  const n = op.dim;
  const before = op.products;
  const sketch: Float64Array[] = [];
  for (let i = 0; i < k; i++) {
    sketch.push(op.apply(rademacher(n, opts.rng)));
    await yieldToEventLoop();
  }
  const Q = orthonormalColumns(sketch);
  let exact = 0;
  for (const q of Q) {
    exact += dot(q, op.apply(q));
    await yieldToEventLoop();
  }
  const project = (z: Float64Array) => {
    for (const q of Q) axpy(z, -dot(q, z), q);
  };
  const samples: number[] = [];
  for (let i = 0; i < k; i++) {
    const z = rademacher(n, opts.rng);
    project(z);
    const az = op.apply(z);
    await yieldToEventLoop();
    project(az);
    samples.push(dot(z, az));
  }
  const { mean, stderr } = meanAndStderr(samples);
  return { value: exact + mean, stderr, products: op.products - before, probes: k, estimator: 'hutch++' };
}
