import * as tf from '@tensorflow/tfjs-core';
import { flatLoss, flattenParams, hvp, unflattenParams } from '@goldstone/core';
import type { AnalysisContext, AnalysisResult, Rng } from '@goldstone/plugin-api';

/** Where tr H came from. */
export interface TraceSource {
  value: number;
  stderr: number | null;
  source: 'hessian-analysis' | 'hutchinson';
  probes?: number;
  hvps?: number;
}

/** The Hessian trace recorded by the hessian analysis, if it ran before (`previous.hessian`). */
export function traceFromHessian(previous: Record<string, AnalysisResult>): TraceSource | undefined {
  const r = previous.hessian?.result as Record<string, unknown> | undefined;
  const t = r && typeof r === 'object' ? (r.trace as Record<string, unknown> | undefined) : undefined;
  if (!t || typeof t.value !== 'number' || !Number.isFinite(t.value)) return undefined;
  return { value: t.value, stderr: typeof t.stderr === 'number' ? t.stderr : null, source: 'hessian-analysis' };
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
    return { value: mean, stderr: probes > 1 ? Math.sqrt(variance / probes) : null, source: 'hutchinson', probes, hvps: probes };
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
