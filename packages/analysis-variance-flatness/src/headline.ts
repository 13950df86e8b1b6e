import type { HeadlineNumber } from '@goldstone/plugin-api';
import type { PsiEstimate, VarianceFlatness } from './analyze';

/** What the declared headline of `variance-flatness` is read from: fields of its result. */
export type VarianceFlatnessHeadlineSource = Pick<VarianceFlatness, 'fits' | 'gamma' | 'fractions' | 'psiNote'>;

/** ψ by one fit with its percentile bootstrap interval over PCs (widened, and said so, in the rare case it excludes the point). */
function psiNumber(key: string, label: string, e: PsiEstimate, level: number, resamples: number, n: number): HeadlineNumber {
  const [lo, hi] = e.ci;
  const note = `${Math.round(level * 100)} % percentile bootstrap over ${n} PCs, ${resamples} resamples`;
  if (lo <= e.value && e.value <= hi) return { key, label, value: e.value, interval: [lo, hi], level, note };
  return {
    key,
    label,
    value: e.value,
    interval: [Math.min(lo, e.value), Math.max(hi, e.value)],
    level,
    note: `${note}; the bootstrap interval [${lo.toPrecision(3)}, ${hi.toPrecision(3)}] excludes the point estimate and is widened to hold it`,
  };
}

/**
 * The numbers of a variance–flatness analysis to quote first, in order: ψ of σᵢ² ∝ Fᵢ^(−ψ) by
 * OLS, reduced major axis and reverse regression (each with its bootstrap interval over PCs), the
 * r² of the fit, γ of the rank-ordered variance and the variance fraction in the top PCs. Each
 * value is the reported window's field in the result.
 */
export function varianceFlatnessHeadline(r: VarianceFlatnessHeadlineSource): HeadlineNumber[] {
  const why = r.psiNote ?? 'fewer than 3 principal components with a measured flatness';
  const f = r.fits;
  const out: HeadlineNumber[] = f
    ? [
        psiNumber('psi', `ψ of σ² ∝ F^(−ψ), OLS (PCs ${f.from}–${f.to})`, f.ols, f.level, f.resamples, f.n),
        psiNumber('psiRma', 'ψ, reduced major axis', f.rma, f.level, f.resamples, f.n),
        psiNumber('psiReverse', 'ψ, reverse regression', f.reverse, f.level, f.resamples, f.n),
        { key: 'r2', label: 'r² of ln σ² on ln F', value: f.r2, exact: true, note: `over the ${f.n} PCs fitted (a property of the fit, not an estimate)` },
      ]
    : [
        { key: 'psi', label: 'ψ of σ² ∝ F^(−ψ), OLS', value: null, note: why },
        { key: 'psiRma', label: 'ψ, reduced major axis', value: null, note: why },
        { key: 'psiReverse', label: 'ψ, reverse regression', value: null, note: why },
        { key: 'r2', label: 'r² of ln σ² on ln F', value: null, note: why },
      ];
  const g = r.gamma;
  out.push(
    g
      ? { key: 'gamma', label: `γ of σᵢ² ∝ i^(−γ) (ranks ${g.from}–${g.to})`, value: g.value, stderr: g.stdErr, note: 'OLS slope stderr on log–log axes' }
      : { key: 'gamma', label: 'γ of σᵢ² ∝ i^(−γ)', value: null, note: 'too few positive variances in the γ rank range' },
  );
  const fr = r.fractions;
  out.push({
    key: 'topVariance',
    label: `fraction of the variance in the top ${fr.topK} PCs${fr.excludesFirst ? ' (PC1 excluded)' : ''}`,
    value: fr.top,
    exact: true,
    note: 'of the window’s trajectory PCA (dense eigendecomposition)',
  });
  return out;
}
