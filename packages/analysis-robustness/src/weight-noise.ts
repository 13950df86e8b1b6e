import * as tf from '@tensorflow/tfjs-core';
import { flatLoss, flattenParams, hvp, unflattenParams } from '@goldstone/core';

/** `parameterFingerprint` of `@goldstone/core`, the fingerprint the runner stamps on stored results (re-exported here). */
export { parameterFingerprint } from '@goldstone/core';
import type { AnalysisContext, AnalysisResult, Rng } from '@goldstone/plugin-api';

/** Where tr H came from, and why that trace was used. */
export interface TraceSource {
  value: number;
  stderr: number | null;
  source: 'hessian-analysis' | 'hutchinson';
  /** Why: the checks an earlier Hessian trace passed, or why none could be reused. */
  reason: string;
  /** The id of the reused result (`analyses/<id>.json`), for `hessian-analysis`. */
  result?: string;
  /** Earlier Hessian results that were not reused, each with what did not match. */
  rejected?: { result: string; mismatches: string[] }[];
  probes?: number;
  hvps?: number;
}

/** What the weight-noise check measures: tr H of the data loss on these examples at these parameters. */
export interface TraceWanted {
  /** The split the loss is measured on. */
  split: string;
  /** The examples used, and whether they are all of the split (`all`) or a random subset. */
  examples: number;
  subset: 'all' | 'random';
  /** `parameterFingerprint` (of `@goldstone/core`) of the parameters the noise is added to. */
  fingerprint: string;
}

type Loose = Record<string, unknown>;
const field = (o: unknown, key: string): unknown => (o && typeof o === 'object' ? (o as Loose)[key] : undefined);

/** Why an earlier Hessian result's trace is not tr H of what the weight-noise check measures (empty: it is). */
export function traceMismatches(earlier: AnalysisResult, want: TraceWanted): string[] {
  const prov = earlier.provenance as Loose;
  const result = earlier.result as Loose;
  const out: string[] = [];
  const operator = prov.operator ?? field(result, 'operator');
  if (operator !== 'hessian') out.push(`operator ${operator === undefined ? 'not recorded' : JSON.stringify(operator)}, expected "hessian"`);
  const objective = prov.objective ?? field(result, 'objective');
  if (objective !== 'data') out.push(`objective ${objective === undefined ? 'not recorded' : JSON.stringify(objective)}, expected "data" (the task's loss, which the noise check measures)`);
  if (!('params' in prov)) out.push('parameter restriction not recorded');
  else if (prov.params !== null && !(Array.isArray(prov.params) && prov.params.length === 0)) out.push(`restricted to parameters ${JSON.stringify(prov.params)}, expected all`);
  const data = prov.data;
  const split = field(data, 'split');
  const examples = field(data, 'examples');
  const subset = field(data, 'subset');
  if (split !== want.split) out.push(`split ${split === undefined ? 'not recorded' : JSON.stringify(split)}, expected "${want.split}"`);
  else if (want.subset !== 'all' || subset !== 'all' || examples !== want.examples) {
    // two random subsets are drawn from different streams: only "all of the split" is the same data
    const had = subset === undefined || examples === undefined ? 'examples not recorded' : `${subset === 'all' ? 'all' : 'a random subset of'} ${examples} examples`;
    const wanted = `${want.subset === 'all' ? 'all' : 'a random subset of'} ${want.examples}`;
    out.push(`${had}, the noise check uses ${wanted}`);
  }
  const fingerprint = field(prov.parameters, 'fingerprint');
  if (fingerprint === undefined) out.push('no parameter fingerprint recorded (provenance.parameters)');
  else if (fingerprint !== want.fingerprint) {
    const where = field(prov.parameters, 'source');
    out.push(`other parameters (${typeof where === 'string' ? `${where}, ` : ''}fingerprint ${String(fingerprint)}, expected ${want.fingerprint})`);
  }
  const t = field(result, 'trace');
  const value = field(t, 'value');
  if (typeof value !== 'number' || !Number.isFinite(value)) out.push('no finite trace.value');
  return out;
}

/**
 * The trace of an earlier Hessian analysis (any result whose provenance names `hessian`, the one
 * with id `hessian` first) whose operator, objective, parameters and data are those of the
 * weight-noise check; otherwise undefined and the reasons for each candidate.
 */
export function traceFromHessian(
  previous: Record<string, AnalysisResult>,
  want: TraceWanted,
): { trace: TraceSource; rejected: [] } | { trace: undefined; rejected: { result: string; mismatches: string[] }[] } {
  const ids = Object.keys(previous).filter((id) => field(previous[id]?.provenance, 'analysis') === 'hessian' || (id === 'hessian' && previous[id]));
  ids.sort((x, y) => Number(y === 'hessian') - Number(x === 'hessian'));
  const rejected: { result: string; mismatches: string[] }[] = [];
  for (const id of ids) {
    const mismatches = traceMismatches(previous[id], want);
    if (mismatches.length > 0) {
      rejected.push({ result: id, mismatches });
      continue;
    }
    const t = field(previous[id].result, 'trace') as Loose;
    return {
      trace: {
        value: t.value as number,
        stderr: typeof t.stderr === 'number' ? t.stderr : null,
        source: 'hessian-analysis',
        result: id,
        reason: `analyses/${id}.json is tr H of the same operator (hessian), objective (data), parameters (${want.fingerprint}) and data (all ${want.examples} examples of ${want.split})`,
      },
      rejected: [],
    };
  }
  return { trace: undefined, rejected };
}

/** The reason a Hutchinson estimate was made, from what `traceFromHessian` rejected. */
export function hutchinsonReason(rejected: readonly { result: string; mismatches: string[] }[]): string {
  if (rejected.length === 0) return 'no earlier hessian result in this run';
  return `no earlier hessian result measured the same thing: ${rejected.map((r) => `analyses/${r.result}.json: ${r.mismatches.join('; ')}`).join(' | ')}`;
}

/**
 * tr H of the mean loss on (x, y) by Hutchinson's estimator: the mean of zᵀHz over Rademacher
 * probes z, each product a double-backprop Hessian-vector product (core's `hvp`); standard error
 * the sample one. (Core's trace estimators are not on its public surface yet, so this is the
 * plain estimator over core's `hvp`.)
 */
export function hutchinsonTrace(ctx: AnalysisContext, x: tf.Tensor, y: tf.Tensor, probes: number, rng: Rng): TraceSource {
  const f = flatLoss(ctx.model, ctx.task.loss, x, y);
  const w = flattenParams(ctx.params, ctx.model.specs);
  try {
    const samples: number[] = [];
    for (let k = 0; k < probes; k++) {
      const q = tf.tidy(() => {
        const z = tf.tensor1d(rng.rademacher(ctx.model.paramCount), 'float32');
        return tf.sum(tf.mul(z, hvp(f, w, z)));
      });
      samples.push((q.dataSync() as Float32Array)[0]);
      q.dispose();
    }
    const mean = samples.reduce((s, v) => s + v, 0) / probes;
    const variance = probes > 1 ? samples.reduce((s, v) => s + (v - mean) ** 2, 0) / (probes - 1) : 0;
    return { value: mean, stderr: probes > 1 ? Math.sqrt(variance / probes) : null, source: 'hutchinson', reason: 'estimated on the examples the noise check uses', probes, hvps: probes };
  } finally {
    w.dispose();
  }
}

export interface WeightNoisePoint {
  sigma: number;
  /** Mean over draws of L(w + σε) − L(w), ε ~ N(0, I). */
  deltaLoss: number;
  /** Its standard error over draws (null with one draw). */
  stderr: number | null;
  /** The second-order prediction ½σ²·tr H. */
  predicted: number;
}

/**
 * Loss increase under isotropic Gaussian weight noise against the curvature prediction: for
 * w + σε with ε ~ N(0, I), E[L] − L(w) = ½σ²·tr H + O(σ⁴) (the gradient term vanishes in
 * expectation), exact for a quadratic loss.
 */
export function weightNoiseSweep(
  ctx: AnalysisContext,
  x: tf.Tensor,
  y: tf.Tensor,
  sigmas: readonly number[],
  draws: number,
  trace: number,
  rng: Rng,
): { baseLoss: number; points: WeightNoisePoint[] } {
  const w = flattenParams(ctx.params, ctx.model.specs);
  try {
    const lossAt = (v: tf.Tensor1D): number => {
      const l = tf.tidy(() => ctx.loss(unflattenParams(v, ctx.model.specs), x, y));
      const value = (l.dataSync() as Float32Array)[0];
      l.dispose();
      return value;
    };
    const baseLoss = lossAt(w);
    const points = sigmas.map((sigma) => {
      const r = rng.split(`sigma:${sigma}`);
      const deltas: number[] = [];
      for (let d = 0; d < draws; d++) {
        const v = tf.tidy(() => tf.add(w, tf.tensor1d(r.normalArray(ctx.model.paramCount, sigma), 'float32')) as tf.Tensor1D);
        deltas.push(lossAt(v) - baseLoss);
        v.dispose();
      }
      const mean = deltas.reduce((s, v) => s + v, 0) / draws;
      const variance = draws > 1 ? deltas.reduce((s, v) => s + (v - mean) ** 2, 0) / (draws - 1) : 0;
      return { sigma, deltaLoss: mean, stderr: draws > 1 ? Math.sqrt(variance / draws) : null, predicted: 0.5 * sigma * sigma * trace };
    });
    return { baseLoss, points };
  } finally {
    w.dispose();
  }
}
