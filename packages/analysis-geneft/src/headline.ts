import type { HeadlineNumber, Json } from '@goldstone/plugin-api';
import type { RankEstimate } from './geometry';

/** What the declared headline of `geneft` is read from: fields of its result. */
export interface GeneftHeadlineSource {
  relation: string;
  accuracy: { train: number | null; test: number | null };
  examples: { train: number; test: number };
  confidence: number;
  geometry: Record<string, Json>;
}

/** Spearman ρ with its percentile bootstrap interval (null when ρ or the interval is undefined). */
function rank(key: string, label: string, e: RankEstimate | undefined, confidence: number, over: string): HeadlineNumber {
  if (!e || e.rho === null) return { key, label, value: null, note: 'ρ is undefined (constant coordinates or distances)' };
  if (e.lo === null || e.hi === null) return { key, label, value: null, note: 'fewer than half the bootstrap resamples define ρ' };
  const lo = Math.min(e.lo, e.rho);
  const hi = Math.max(e.hi, e.rho);
  const widened = lo !== e.lo || hi !== e.hi;
  return { key, label, value: e.rho, interval: [lo, hi], level: confidence, note: `percentile bootstrap over ${e.items} ${over}, ${e.resamples} resamples${widened ? '; widened to hold the point estimate' : ''}` };
}

/**
 * The numbers of a geneft run to quote first, in order: test and train accuracy (binomial
 * stderr over the split's examples), then the embedding geometry the relation makes meaningful:
 * the order's principal-coordinate and distance ρ, a cycle's or lattice's distance ρ, an
 * equivalence's parallelogram residual and class-distance ratio. Each value is the result's field.
 */
export function geneftHeadline(r: GeneftHeadlineSource): HeadlineNumber[] {
  const acc = (key: string, split: 'train' | 'test'): HeadlineNumber => {
    const p = r.accuracy[split];
    const n = r.examples[split];
    const label = `${split} accuracy`;
    if (p === null) return { key, label, value: null, note: 'the task reports no accuracy' };
    return { key, label, value: p, stderr: Math.sqrt((p * (1 - p)) / n), better: 'higher', note: `binomial over the ${n} ${split} examples` };
  };
  const out = [acc('testAccuracy', 'test'), acc('trainAccuracy', 'train')];
  const g = r.geometry as Record<string, unknown>;
  if (r.relation === 'order') out.push(rank('principalRho', 'Spearman ρ of the first principal coordinate with the node order (sign arbitrary)', g.principal as RankEstimate, r.confidence, 'nodes'));
  if (g.distance) out.push(rank('distanceRho', 'Spearman ρ of embedding distance with graph distance', g.distance as RankEstimate, r.confidence, 'node pairs'));
  const para = g.parallelogram as { residual: number } | undefined;
  if (para) out.push({ key: 'parallelogramResidual', label: 'parallelogram residual (relative)', value: para.residual, exact: true, better: 'lower', note: 'dense, over every parallelogram of the embedding' });
  if (r.relation === 'equivalence' && 'classRatio' in g) {
    const ratio = g.classRatio as number | null;
    out.push(
      ratio === null
        ? { key: 'classRatio', label: 'within / between class distance', value: null, note: 'a class with one member, or no between-class pairs' }
        : { key: 'classRatio', label: 'within / between class distance', value: ratio, exact: true, better: 'lower', note: 'dense, over every node pair' },
    );
  }
  return out;
}
