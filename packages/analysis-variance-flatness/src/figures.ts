import type { Figure } from '@goldstone/plugin-api';
import type { PsiFits, VarianceFlatness } from './analyze';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** The three fits of ψ, as keys and the names figures and tables use. */
export const FITS = [
  ['ols', 'OLS'],
  ['reverse', 'reverse'],
  ['rma', 'RMA'],
] as const;

/** Rows { x, fit, psi, lo, hi, label } of the three fits at each x, for figures with error bars and numbers on the points. */
export function fitRows<T>(items: readonly T[], x: (t: T) => number | null, fits: (t: T) => PsiFits | null): Record<string, unknown>[] {
  return items.flatMap((t) => {
    const f = fits(t);
    const xv = x(t);
    if (!f || xv === null) return [];
    return FITS.map(([k, fit]) => ({ x: xv, fit, psi: f[k].value, lo: f[k].ci[0], hi: f[k].ci[1], label: f[k].value.toFixed(2), r2: f.r2, n: f.n }));
  });
}

/** A ψ axis domain that holds the points, their intervals and the published ψ ≈ 4 (the reference line stays inside). */
export function psiDomain(rows: readonly Record<string, unknown>[]): [number, number] {
  const vals = rows.flatMap((r) => [r.lo as number, r.hi as number]).filter(Number.isFinite);
  const lo = Math.min(0, ...vals);
  const hi = Math.max(5, ...vals);
  return [Math.floor(lo), Math.ceil(hi + 0.25)];
}

/** Layers of ψ by fit against x: interval rules, points, numbers on the points, the dashed published ψ ≈ 4. */
export function psiLayers(rows: readonly Record<string, unknown>[], xTitle: string, xScale: Record<string, unknown> = {}): Record<string, unknown>[] {
  const y = { field: 'psi', type: 'quantitative', title: 'ψ', scale: { domain: psiDomain(rows) } };
  const x = { field: 'x', type: 'quantitative', title: xScale.type === 'log' ? `${xTitle} (log scale)` : xTitle, scale: xScale.type === 'log' ? xScale : { zero: false, ...xScale } };
  const color = { field: 'fit', type: 'nominal', title: 'fit' };
  return [
    { data: { values: rows }, mark: 'rule', encoding: { x, y: { field: 'lo', type: 'quantitative', scale: y.scale, title: 'ψ' }, y2: { field: 'hi' }, color } },
    { data: { values: rows }, mark: { type: 'line', point: true }, encoding: { x, y, color } },
    { data: { values: rows }, mark: { type: 'text', dx: 14, dy: -6, fontSize: 9 }, encoding: { x, y, text: { field: 'label' }, color } },
    { data: { values: [{ published: 4 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: 'gray' }, encoding: { y: { field: 'published', type: 'quantitative' } } },
  ];
}

/** The convergence scan: ψ (three fits, bootstrap intervals) and r² against the window's end in learning time. */
export function convergenceFigure(windows: readonly { endTime: number | null; toStep: number; fits: PsiFits | null }[]): Figure {
  const byTime = windows.every((w) => w.endTime !== null);
  const xOf = (w: (typeof windows)[number]) => (byTime ? w.endTime : w.toStep);
  const rows = fitRows(windows, xOf, (w) => w.fits);
  const xTitle = byTime ? 'window end, learning time t = α·steps' : 'window end, step';
  const r2 = windows.filter((w) => w.fits).map((w) => ({ x: xOf(w), r2: w.fits!.r2, label: w.fits!.r2.toFixed(2) }));
  return {
    name: 'psi-convergence',
    title: 'ψ (OLS, reverse, RMA; 95 % bootstrap over PCs) and r² against the window end; dashed: published ψ ≈ 4',
    spec: {
      $schema: SCHEMA,
      vconcat: [
        { width: 420, height: 260, layer: psiLayers(rows, xTitle) },
        {
          width: 420,
          height: 120,
          data: { values: r2 },
          layer: [
            { mark: { type: 'line', point: true }, encoding: { x: { field: 'x', type: 'quantitative', title: xTitle, scale: { zero: false } }, y: { field: 'r2', type: 'quantitative', title: 'r²', scale: { domain: [0, 1] } } } },
            { mark: { type: 'text', dy: -8, fontSize: 9 }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'r2', type: 'quantitative' }, text: { field: 'label' } } },
          ],
        },
      ],
    },
  };
}

/** ψ against the number of PCs used (the fit's last rank fitTo varied). */
export function psiByFitToFigure(scan: readonly PsiFits[]): Figure {
  return {
    name: 'psi-vs-pcs',
    title: 'ψ against the last PC rank of the fit (fitTo), 95 % bootstrap over PCs; dashed: published ψ ≈ 4',
    spec: { $schema: SCHEMA, width: 420, height: 280, layer: psiLayers(fitRows(scan, (f) => f.to, (f) => f), 'last PC rank in the fit (fitTo)') },
  };
}

/** σᵢ² against Fᵢ on log–log axes, with the fitted power law. */
export function varianceFlatnessFigure(r: VarianceFlatness, excluded: number[]): Figure {
  const points = r.components
    .filter((c) => c.flatness !== null && c.flatness > 0 && c.variance > 0)
    .map((c) => ({ rank: c.rank, flatness: c.flatness!, variance: c.variance, role: excluded.includes(c.rank) ? 'excluded (drift)' : 'fitted' }));
  const layers: Record<string, unknown>[] = [
    {
      data: { values: points },
      mark: { type: 'point', filled: true },
      encoding: {
        x: { field: 'flatness', type: 'quantitative', scale: { type: 'log' }, title: 'flatness Fᵢ (log scale)' },
        y: { field: 'variance', type: 'quantitative', scale: { type: 'log' }, title: 'variance σᵢ² (log scale)' },
        color: { field: 'role', type: 'nominal', title: null },
        tooltip: [{ field: 'rank' }, { field: 'flatness' }, { field: 'variance' }],
      },
    },
  ];
  const fits = r.fits;
  if (fits) {
    const used = r.components.filter((c) => fits.ranks.includes(c.rank));
    const lo = Math.min(...used.map((c) => c.flatness!));
    const hi = Math.max(...used.map((c) => c.flatness!));
    const line = FITS.flatMap(([key, fit]) => [lo, hi].map((f) => ({ fit, flatness: f, variance: Math.exp(fits[key].intercept - fits[key].value * Math.log(f)) })));
    layers.push({
      data: { values: line },
      mark: { type: 'line', strokeDash: [4, 3] },
      encoding: { x: { field: 'flatness', type: 'quantitative' }, y: { field: 'variance', type: 'quantitative' }, strokeDash: { field: 'fit', type: 'nominal', title: 'fit' } },
    });
  }
  const psiText = fits ? FITS.map(([k, name]) => `${name} ${fits[k].value.toFixed(2)}`).join(', ') + `; r² ${fits.r2.toFixed(2)}` : 'ψ not fitted';
  return {
    name: 'variance-vs-flatness',
    title: `Variance against flatness along the trajectory's PCs (${psiText})`,
    spec: { $schema: SCHEMA, width: 420, height: 320, layer: layers },
  };
}

/** Rank-ordered variance σᵢ² against i on log–log axes, with the fitted γ. */
export function rankVarianceFigure(r: VarianceFlatness): Figure {
  const values = r.spectrum.map((v, i) => ({ rank: i + 1, variance: v })).filter((p) => p.variance > 0);
  const layers: Record<string, unknown>[] = [
    {
      data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'rank', type: 'quantitative', scale: { type: 'log' }, title: 'rank i (log scale)' },
        y: { field: 'variance', type: 'quantitative', scale: { type: 'log' }, title: 'variance σᵢ² (log scale)' },
      },
    },
  ];
  if (r.gamma) {
    const g = r.gamma;
    const anchor = r.spectrum[g.from - 1];
    const line = [g.from, g.to].map((i) => ({ rank: i, variance: anchor * (i / g.from) ** -g.value }));
    layers.push({
      data: { values: line },
      mark: { type: 'line', strokeDash: [4, 3], color: 'firebrick' },
      encoding: { x: { field: 'rank', type: 'quantitative' }, y: { field: 'variance', type: 'quantitative' } },
    });
  }
  return {
    name: 'rank-variance',
    title: r.gamma ? `Rank-ordered variance (γ = ${r.gamma.value.toFixed(2)} for i = ${r.gamma.from}…${r.gamma.to})` : 'Rank-ordered variance',
    spec: { $schema: SCHEMA, width: 420, height: 320, layer: layers },
  };
}

/** Loss profiles L(w₀ + δpᵢ) along a few PCs, with the level e·L₀. */
export function lossProfilesFigure(r: VarianceFlatness): Figure {
  return {
    name: 'loss-profiles',
    title: 'Loss profiles along principal directions (dashed: the flatness level e·L₀)',
    spec: {
      $schema: SCHEMA,
      width: 420,
      height: 320,
      layer: [
        {
          data: { values: r.profiles.map((p) => ({ ...p, pc: `PC${p.rank}` })) },
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'delta', type: 'quantitative', title: 'δ along pᵢ' },
            y: { field: 'loss', type: 'quantitative', title: 'full-training-set loss (log scale)', scale: { type: 'log' } },
            color: { field: 'pc', type: 'nominal', title: 'PC' },
          },
        },
        {
          data: { values: [{ level: r.threshold }] },
          mark: { type: 'rule', strokeDash: [4, 3] },
          encoding: { y: { field: 'level', type: 'quantitative' } },
        },
      ],
    },
  };
}
