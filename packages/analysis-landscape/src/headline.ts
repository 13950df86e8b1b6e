import type { HeadlineNumber } from '@goldstone/plugin-api';
import type { Interpolation, Slice } from './slice-types';

/** What the declared headline of `landscape` is read from: fields of its result. */
export interface LandscapeHeadlineSource {
  split: string;
  examples: { slices: number; train: number; test: number };
  loss: number;
  accuracy: number | null;
  slices: Slice[];
  interpolations: Interpolation[];
}

/**
 * The loss barrier of an interpolation on its train split: the highest loss at α in [0, 1] above
 * the higher of the two ends (0 for a monotone path), read off the evaluated grid; null when the
 * grid has fewer than two points in [0, 1].
 */
export function interpolationBarrier(ip: Interpolation): number | null {
  const inside = ip.alpha.flatMap((a, i) => (a >= -1e-9 && a <= 1 + 1e-9 ? [i] : []));
  if (inside.length < 2) return null;
  const losses = inside.map((i) => ip.train.loss[i]);
  return Math.max(...losses) - Math.max(losses[0], losses[losses.length - 1]);
}

/**
 * The numbers of a landscape analysis to quote first, in order: the loss and accuracy at the
 * trained parameters, λ₁ of the Hessian directions, the share of the trajectory in the PCA plane
 * and the loss barrier of the first interpolation, each the result's field (the barrier read off
 * its train losses). Only the parts that ran are listed.
 */
export function landscapeHeadline(r: LandscapeHeadlineSource): HeadlineNumber[] {
  const out: HeadlineNumber[] = [];
  const n = r.examples.slices;
  if (n > 0 && Number.isFinite(r.loss)) {
    out.push({ key: 'loss', label: `loss at the trained parameters (${r.split})`, value: r.loss, exact: true, better: 'lower', note: `mean over the ${n} fixed examples the slices use, not resampled` });
    if (r.accuracy !== null) {
      const p = r.accuracy;
      out.push({ key: 'accuracy', label: `accuracy at the trained parameters (${r.split})`, value: p, stderr: Math.sqrt((p * (1 - p)) / n), better: 'higher', note: `binomial over ${n} examples` });
    }
  }
  const hessian = r.slices.find((s) => s.kind === 'hessian');
  if (hessian) {
    const values = hessian.info.eigenvalues as number[];
    out.push(
      hessian.info.converged === true
        ? { key: 'lambdaMax', label: `λ₁, top Hessian eigenvalue of the slice directions (${r.split})`, value: values[0], exact: true, note: 'converged Lanczos' }
        : { key: 'lambdaMax', label: `λ₁, top Hessian eigenvalue of the slice directions (${r.split})`, value: null, note: `Lanczos did not converge in ${String(hessian.info.lanczosSteps)} steps` },
    );
  }
  const pca = r.slices.find((s) => s.kind === 'pca');
  if (pca?.trajectory) {
    out.push({ key: 'trajectoryInPlane', label: 'share of the trajectory’s displacement in the PCA plane', value: pca.trajectory.inPlane, exact: true, note: `mean over ${pca.trajectory.coords.length} snapshots (dense PCA)` });
  }
  const ip = r.interpolations[0];
  if (ip) {
    const barrier = interpolationBarrier(ip);
    const label = `loss barrier on the path ${ip.from} → ${ip.to} (train)`;
    out.push(
      barrier === null
        ? { key: 'barrier', label, value: null, note: 'fewer than two interpolation points with α in [0, 1]' }
        : { key: 'barrier', label, value: barrier, exact: true, better: 'lower', note: `max over the α grid in [0, 1] minus the higher end, on ${r.examples.train} fixed examples` },
    );
  }
  if (out.length === 0) out.push({ key: 'loss', label: 'loss at the trained parameters', value: null, note: 'no slice or interpolation ran' });
  return out;
}
