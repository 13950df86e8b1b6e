import type { HeadlineNumber } from '@goldstone/plugin-api';
import type { Estimate, IntervalEstimate } from '@goldstone/curvature';

/** What the declared headline of `hessian` is read from: fields of its result. */
export interface HessianHeadlineSource {
  method: 'exact' | 'lanczos';
  operator: string;
  split: string;
  traceEstimator: string;
  traceProbes: number;
  topEigenvalues: number[];
  bottomEigenvalues: number[];
  ritzResiduals: { top: number[]; bottom: number[] } | null;
  eigenpairs: { top: boolean[]; bottom: boolean[] };
  trace: Estimate;
  effectiveDimensionRelative: IntervalEstimate | null;
  zRelative: number;
  nearZeroModes: IntervalEstimate & { epsilon: number };
  negativeFraction: IntervalEstimate;
}

const finite = (v: number) => Number.isFinite(v);

/** An extreme eigenvalue: exact when converged (dense, or Lanczos to its tolerance), else null with the bound it is. */
function eigenvalue(key: string, label: string, r: HessianHeadlineSource, end: 'top' | 'bottom'): HeadlineNumber {
  const values = end === 'top' ? r.topEigenvalues : r.bottomEigenvalues;
  if (values.length === 0) return { key, label, value: null, note: 'not asked for (bottomK: 0)' };
  const value = values[0];
  if (!r.eigenpairs[end][0]) {
    const bound = end === 'top' ? 'a lower bound θ ≤ λ' : 'an upper bound θ ≥ λ';
    return { key, label, value: null, note: `Lanczos did not converge: its Ritz value ${value.toPrecision(4)} is only ${bound}` };
  }
  if (r.method === 'exact') return { key, label, value, exact: true, note: 'dense eigendecomposition' };
  const res = r.ritzResiduals?.[end][0];
  return { key, label, value, exact: true, note: `converged Lanczos Ritz value${res !== undefined ? ` (residual ${res.toPrecision(2)} bounds |λ − θ|)` : ''}` };
}

/** An SLQ-derived number: its bounded interval when reliable, exact for an exact spectrum, null with the reason otherwise. */
function slq(key: string, label: string, e: IntervalEstimate | null, nullNote: string): HeadlineNumber {
  if (!e) return { key, label, value: null, note: nullNote };
  if (!e.reliable) return { key, label, value: null, note: `not quotable: ${e.reason ?? 'unreliable'}` };
  if (e.exact && e.stderr === 0) return { key, label, value: e.value, exact: true, note: 'exact spectrum' };
  if (!finite(e.interval[0]) || !finite(e.interval[1])) return { key, label, value: null, note: 'no finite interval (no valid spectrum bound)' };
  return { key, label, value: e.value, interval: [e.interval[0], e.interval[1]], level: e.level, note: 'SLQ: quadrature bracket plus Monte-Carlo error over probes' };
}

/**
 * The numbers of a Hessian analysis to quote first, in order: λ_max, the trace, λ_min, the
 * effective dimension at z relative to λ_max, the near-zero mode count and the fraction of
 * negative eigenvalues; each value is the result's own field.
 */
export function hessianHeadline(r: HessianHeadlineSource): HeadlineNumber[] {
  const what = r.operator === 'ggn' ? 'Gauss–Newton' : 'Hessian';
  const trace: HeadlineNumber =
    r.method === 'exact' || r.traceEstimator === 'dense'
      ? { key: 'trace', label: `tr ${r.operator === 'ggn' ? 'G' : 'H'}, ${what} trace (${r.split})`, value: r.trace.value, exact: true, note: 'sum of the dense eigenvalues' }
      : {
          key: 'trace',
          label: `tr ${r.operator === 'ggn' ? 'G' : 'H'}, ${what} trace (${r.split})`,
          value: r.trace.value,
          stderr: r.trace.stderr,
          note: `${r.traceEstimator}, ${r.traceProbes} probes`,
        };
  return [
    eigenvalue('lambdaMax', `λ_max, top ${what} eigenvalue (${r.split})`, r, 'top'),
    trace,
    eigenvalue('lambdaMin', `λ_min, bottom ${what} eigenvalue (${r.split})`, r, 'bottom'),
    slq('effectiveDimension', `N_eff, effective dimension at z = ${r.zRelative}·λ_max`, r.effectiveDimensionRelative, 'λ_max ≤ 0: no relative scale'),
    slq('nearZeroModes', `near-zero modes, |λ| < ${r.nearZeroModes.epsilon}·λ_max`, r.nearZeroModes, 'not measured'),
    slq('negativeFraction', 'fraction of negative eigenvalues', r.negativeFraction, 'not measured'),
  ];
}

/** What the declared headline of `sharpness` is read from: fields of its result. */
export interface SharpnessHeadlineSource {
  method: string;
  probes: number;
  series: { step: number; lambdaMax: number; converged: boolean; trace: number | null; traceStderr: number | null; threshold: number | null }[];
  threshold: { rule: string; factor: number | null } | null;
  summary: { lambdaMaxLast: number; lambdaMaxPeak: number; peakOverThreshold: number | null; lastOverThreshold: number | null };
}

/**
 * The numbers of a sharpness recording to quote first, in order: λ_max at the last recorded step,
 * its peak during training, the last and peak λ_max over the optimiser's stability threshold, and
 * the Hutchinson trace at the last step; each value is the result's own field.
 */
export function sharpnessHeadline(r: SharpnessHeadlineSource): HeadlineNumber[] {
  const last = r.series[r.series.length - 1];
  const how = r.method === 'lanczos' ? 'converged Lanczos' : 'converged power iteration';
  const allConverged = r.series.every((p) => p.converged);
  const unconverged = r.series.filter((p) => !p.converged).length;
  const rule = r.threshold?.rule ?? 'the stability threshold';
  const noThreshold = r.threshold === null ? 'no training settings to derive a threshold from' : `${rule}: no stability threshold for this optimiser`;
  const out: HeadlineNumber[] = [
    last.converged
      ? { key: 'lambdaMaxLast', label: `λ_max at the last recorded step (${last.step})`, value: r.summary.lambdaMaxLast, exact: true, note: how }
      : { key: 'lambdaMaxLast', label: `λ_max at the last recorded step (${last.step})`, value: null, note: `${r.method} did not converge at step ${last.step}` },
    allConverged
      ? { key: 'lambdaMaxPeak', label: 'peak λ_max during training', value: r.summary.lambdaMaxPeak, exact: true, note: `largest of ${r.series.length} recorded values (${how})` }
      : { key: 'lambdaMaxPeak', label: 'peak λ_max during training', value: null, note: `${unconverged} of ${r.series.length} recorded values did not converge` },
    r.summary.lastOverThreshold === null
      ? { key: 'lastOverThreshold', label: 'λ_max / threshold at the last step', value: null, note: noThreshold }
      : last.converged
        ? { key: 'lastOverThreshold', label: `λ_max / threshold at the last step (${rule}; ≈ 1 at the edge of stability)`, value: r.summary.lastOverThreshold, exact: true }
        : { key: 'lastOverThreshold', label: `λ_max / threshold at the last step (${rule})`, value: null, note: `${r.method} did not converge at step ${last.step}` },
    r.summary.peakOverThreshold === null
      ? { key: 'peakOverThreshold', label: 'peak λ_max / threshold', value: null, note: noThreshold }
      : allConverged
        ? { key: 'peakOverThreshold', label: `peak λ_max / threshold (${rule})`, value: r.summary.peakOverThreshold, exact: true }
        : { key: 'peakOverThreshold', label: `peak λ_max / threshold (${rule})`, value: null, note: `${unconverged} of ${r.series.length} recorded values did not converge` },
  ];
  if (r.probes > 0 && last.trace !== null && last.traceStderr !== null) {
    out.push({ key: 'traceLast', label: `tr H at the last recorded step (${last.step})`, value: last.trace, stderr: last.traceStderr, note: `Hutchinson, ${r.probes} Rademacher probes` });
  }
  return out;
}
