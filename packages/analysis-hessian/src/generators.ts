import * as tf from '@tensorflow/tfjs-core';
import { flattenParams, generatorMatrix, unflattenParams } from '@goldstone/core';
import { directionalCurvature, spectralSum, type DataBatch, type LinearOperator, type ParamRange, type Quadrature } from '@goldstone/curvature';
import type { AnalysisContext, InputSymmetry, Json } from '@goldstone/plugin-api';

/** What the generator section needs from the measured spectrum. */
export interface GeneratorSpectrum {
  method: 'exact' | 'lanczos';
  lambdaMax: number;
  quadratures: readonly Quadrature[];
  /** Every eigenvalue, descending (exact mode). */
  spectrum: number[] | null;
  /** The unit eigenvector of `spectrum[i]` (exact mode). */
  eigenvector?: (i: number) => Float64Array;
}

export interface GeneratorSettings {
  bottomOverlapK: number;
  bottomOverlapBy: 'abs' | 'algebraic';
  checkExamples: number;
  /** The blocks of the flat parameters the operator acts on (null: all). */
  ranges: ParamRange[] | null;
}

/** The entry of one symmetry: its measurements, or why there are none. */
export type GeneratorEntry = { name: string; unsupported: string } | ({ name: string } & Record<string, Json>);

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** The part of a full flat vector inside the ranges (all of it without ranges). */
function restrict(full: Float32Array, ranges: ParamRange[] | null): Float64Array {
  if (!ranges) return Float64Array.from(full);
  return Float64Array.from(ranges.flatMap((r) => Array.from(full.subarray(r.offset, r.offset + r.size))));
}

/**
 * The fraction of the spectrum below λ (ties counted half): exact among all eigenvalues when the
 * quadrature is the exact spectrum, otherwise the CDF of the stochastic Lanczos quadrature density.
 */
export function spectralPercentile(quadratures: readonly Quadrature[], lambda: number, lambdaMax: number): number {
  const tie = 1e-9 * Math.max(Math.abs(lambdaMax), 1e-30);
  return spectralSum(quadratures, 1, (t) => (Math.abs(t - lambda) <= tie ? 0.5 : t < lambda ? 1 : 0)).value;
}

/**
 * Σᵢ (uᵢ·v̂)² over the k eigenvectors of smallest |λ| (`abs`) or smallest λ (`algebraic`): how much
 * of the unit direction lies in the bottom eigenspace (1: all of it).
 */
export function bottomOverlap(spectrum: number[], eigenvector: (i: number) => Float64Array, v: Float64Array, k: number, by: 'abs' | 'algebraic') {
  const n = spectrum.length;
  const order = spectrum.map((_, i) => i);
  if (by === 'abs') order.sort((a, b) => Math.abs(spectrum[a]) - Math.abs(spectrum[b]));
  else order.reverse(); // spectrum is descending
  const picked = order.slice(0, Math.min(k, n));
  const nv = Math.sqrt(dot(v, v));
  const value = picked.reduce((s, i) => s + (dot(eigenvector(i), v) / nv) ** 2, 0);
  return { k: picked.length, by, value, eigenvalues: picked.map((i) => spectrum[i]) };
}

/**
 * The first-order check of a generator direction on real examples: central differences of the
 * outputs along v in parameter space and along Gx in input space,
 * dθ = (f(θ + hv, x) − f(θ − hv, x))/2h and dx = (f(θ, x + hGx) − f(θ, x − hGx))/2h, which agree
 * when v realises G. Gx comes from the task's generator itself (not from the matrix), so the check
 * also covers the matrix and the model's hook. h moves no weight by more than 1% of the largest.
 */
function functionalCheck(ctx: AnalysisContext, sym: InputSymmetry, v: Float32Array, x: tf.Tensor) {
  const { model, params } = ctx;
  return tf.tidy(() => {
    const w = flattenParams(params, model.specs);
    const wMax = tf.max(tf.abs(w)).dataSync()[0];
    let vMax = 0;
    for (let i = 0; i < v.length; i++) vMax = Math.max(vMax, Math.abs(v[i]));
    const h = (1e-2 * Math.max(wMax, 1e-6)) / vMax;
    const dir = tf.tensor1d(v);
    const at = (t: number) => model.apply(unflattenParams(tf.add(w, tf.mul(dir, t)) as tf.Tensor1D, model.specs), x);
    const gx = sym.generator!(x);
    const dTheta = tf.div(tf.sub(at(h), at(-h)), 2 * h);
    const dX = tf.div(tf.sub(model.apply(params, tf.add(x, tf.mul(gx, h))), model.apply(params, tf.sub(x, tf.mul(gx, h)))), 2 * h);
    const diff = tf.max(tf.abs(tf.sub(dTheta, dX))).dataSync()[0];
    const scale = tf.max(tf.abs(dX)).dataSync()[0];
    const relative = scale > 0 ? diff / scale : diff === 0 ? 0 : Infinity;
    return {
      examples: x.shape[0],
      step: h,
      maxAbsDiff: diff,
      scale,
      relative,
      agrees: relative < 1e-2,
      estimator: 'central differences of the outputs: along v in parameters vs along Gx in inputs (task generator), max |dθ − dx| / max |dx|',
    };
  });
}

/**
 * Curvature along the direction that realises each input symmetry's generator: for every task
 * symmetry with a generator, G = `generatorMatrix`, v = `model.generatorDirection(params, G)`, and
 * its Rayleigh quotient vᵀHv/‖v‖² on the operator (one product), relative to λ_max, its percentile
 * in the spectrum, its overlap with the bottom eigenvectors (exact mode) and the first-order check.
 * Symmetries the model cannot realise, or tasks without generators, give an `unsupported` entry.
 */
export function generatorCurvatures(ctx: AnalysisContext, op: LinearOperator, s: GeneratorSpectrum, batches: DataBatch[], o: GeneratorSettings): GeneratorEntry[] {
  const { task, model } = ctx;
  const syms = task.symmetries ?? [];
  const withGenerator = syms.filter((sym) => sym.generator);
  if (withGenerator.length === 0) {
    return [{ name: '*', unsupported: syms.length === 0 ? 'the task declares no input symmetries' : `the task's symmetries (${syms.map((x) => x.name).join(', ')}) declare no generator` }];
  }
  const entries: GeneratorEntry[] = [];
  for (const sym of syms) {
    if (!sym.generator) {
      entries.push({ name: sym.name, unsupported: 'the symmetry declares no generator (a discrete group, or sampled elements only)' });
      continue;
    }
    if (!model.generatorDirection) {
      entries.push({ name: sym.name, unsupported: 'the model declares no generator direction (its first layer does not realise input maps)' });
      continue;
    }
    let G: Float32Array;
    try {
      G = generatorMatrix(sym.generator, task.inputShape);
    } catch (e) {
      entries.push({ name: sym.name, unsupported: (e as Error).message });
      continue;
    }
    const found = model.generatorDirection(ctx.params, G);
    if ('unsupported' in found) {
      entries.push({ name: sym.name, unsupported: `the model cannot realise the generator: ${found.unsupported}` });
      continue;
    }
    const full = found.direction;
    const norm = Math.sqrt(dot(full, full));
    if (!(norm > 0)) {
      entries.push({ name: sym.name, unsupported: 'the generator direction is zero at these parameters (the first layer is zero, or G is)' });
      continue;
    }
    const v = restrict(full, o.ranges);
    const inside = dot(v, v) / (norm * norm);
    if (!(inside > 0)) {
      entries.push({
        name: sym.name,
        unsupported: `the generator direction moves only ${found.params.join(', ')}, none of the parameters the analysis is restricted to (${o.ranges!.map((r) => r.name).join(', ')})`,
      });
      continue;
    }
    const before = op.products;
    const rq = directionalCurvature(op, v, s.lambdaMax);
    const overlap =
      s.spectrum && s.eigenvector
        ? { bottomOverlap: bottomOverlap(s.spectrum, s.eigenvector, v, o.bottomOverlapK, o.bottomOverlapBy), bottomOverlapReason: null }
        : { bottomOverlap: null, bottomOverlapReason: 'eigenvectors are known in exact mode only (method: exact)' };
    const x = batches[0].x;
    const nCheck = Math.min(o.checkExamples, x.shape[0]);
    let check: Json = null;
    if (nCheck > 0) {
      const xs = tf.slice(x, 0, nCheck);
      try {
        check = functionalCheck(ctx, sym, full, xs);
      } finally {
        xs.dispose();
      }
    }
    entries.push({
      name: sym.name,
      params: found.params,
      norm,
      rayleighQuotient: rq.value,
      relativeToLambdaMax: rq.relative,
      // flatness along v whatever the sign (an indefinite Hessian can curve a flat direction slightly down)
      absRelativeToLambdaMax: rq.relative === null ? null : Math.abs(rq.relative),
      percentile: spectralPercentile(s.quadratures, rq.value, s.lambdaMax),
      percentileMethod: s.method === 'exact' ? 'exact: fraction of all eigenvalues below it (ties half)' : 'approximate: CDF of the stochastic Lanczos quadrature density',
      ...overlap,
      restriction: o.ranges
        ? { params: o.ranges.map((r) => r.name), fractionOfNormSquared: inside, note: 'the Rayleigh quotient and overlap are of the part of v inside the restricted parameters, on the restricted block' }
        : null,
      functionalCheck: check,
      provenance: { estimator: 'vᵀHv/‖v‖² (one product on the analysis operator)', generatorMatrix: `core generatorMatrix on inputShape [${task.inputShape}]`, hvps: op.products - before },
    });
  }
  return entries;
}
