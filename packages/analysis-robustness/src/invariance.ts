import type { OutputKind } from '@goldstone/plugin-api';

/** Sums over examples of how much the prediction changed between two batches of outputs. */
export interface PredictionChange {
  /** Σ over examples of |Δp|: binary |σ(z′) − σ(z)|, classification the total-variation distance ½Σₖ|p′ₖ − pₖ| of the softmax, regression the mean |Δf| over outputs. */
  absChange: number;
  /** Examples whose predicted label is unchanged (binary: the sign of the logit; classification: the arg-max); 0 for regression. */
  agree: number;
  /** Σ over examples of the mean |f − mean f| over outputs of the reference outputs (regression's scale for the invariance score). */
  spread: number;
  examples: number;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function softmaxRow(v: Float32Array, at: number, m: number): Float64Array {
  let max = -Infinity;
  for (let j = 0; j < m; j++) max = Math.max(max, v[at + j]);
  const p = new Float64Array(m);
  let s = 0;
  for (let j = 0; j < m; j++) s += p[j] = Math.exp(v[at + j] - max);
  for (let j = 0; j < m; j++) p[j] /= s;
  return p;
}

function argmax(v: Float32Array, at: number, m: number): number {
  let c = 0;
  for (let j = 1; j < m; j++) if (v[at + j] > v[at + c]) c = j;
  return c;
}

/** How the outputs `after` (shape [B, m], flattened) differ from `before`, as sums over the B examples. */
export function predictionChange(kind: OutputKind, before: Float32Array, after: Float32Array, m: number): PredictionChange {
  const b = before.length / m;
  const out: PredictionChange = { absChange: 0, agree: 0, spread: 0, examples: b };
  if (kind === 'regression') {
    const mean = new Float64Array(m);
    for (let i = 0; i < before.length; i++) mean[i % m] += before[i] / b;
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < m; j++) {
        out.absChange += Math.abs(after[i * m + j] - before[i * m + j]) / m;
        out.spread += Math.abs(before[i * m + j] - mean[j]) / m;
      }
    }
    return out;
  }
  for (let i = 0; i < b; i++) {
    if (kind === 'binary') {
      out.absChange += Math.abs(sigmoid(after[i]) - sigmoid(before[i]));
      if (after[i] > 0 === before[i] > 0) out.agree += 1;
    } else {
      const p = softmaxRow(before, i * m, m);
      const q = softmaxRow(after, i * m, m);
      let tv = 0;
      for (let j = 0; j < m; j++) tv += Math.abs(q[j] - p[j]) / 2;
      out.absChange += tv;
      if (argmax(before, i * m, m) === argmax(after, i * m, m)) out.agree += 1;
    }
  }
  return out;
}

/**
 * The invariance score from accumulated changes: 1 − mean |Δp| for classification and binary tasks
 * (in [0, 1]; 1 = the predicted probabilities do not move), and 1 − mean |Δf| / mean |f − mean f| for
 * regression (1 = invariant, 0 = the outputs move as much as they vary across examples; it can be
 * negative). Also the agreement rate (fraction of predicted labels unchanged; null for regression).
 */
export function invarianceScores(kind: OutputKind, c: PredictionChange): { meanAbsChange: number; agreement: number | null; invariance: number | null } {
  const meanAbsChange = c.examples > 0 ? c.absChange / c.examples : 0;
  if (kind !== 'regression') return { meanAbsChange, agreement: c.examples > 0 ? c.agree / c.examples : null, invariance: 1 - meanAbsChange };
  const spread = c.examples > 0 ? c.spread / c.examples : 0;
  const invariance = spread > 0 ? 1 - meanAbsChange / spread : meanAbsChange === 0 ? 1 : null;
  return { meanAbsChange, agreement: null, invariance };
}
