import type { Figure } from '@goldstone/plugin-api';
import type { VarianceFlatness } from './analyze';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

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
        x: { field: 'flatness', type: 'quantitative', scale: { type: 'log' }, title: 'flatness Fᵢ' },
        y: { field: 'variance', type: 'quantitative', scale: { type: 'log' }, title: 'variance σᵢ²' },
        color: { field: 'role', type: 'nominal', title: null },
        tooltip: [{ field: 'rank' }, { field: 'flatness' }, { field: 'variance' }],
      },
    },
  ];
  if (r.psi && points.length) {
    const used = points.filter((p) => p.role === 'fitted');
    const lo = Math.min(...used.map((p) => p.flatness));
    const hi = Math.max(...used.map((p) => p.flatness));
    const line = [lo, hi].map((f) => ({ flatness: f, variance: r.psi!.prefactor * f ** -r.psi!.value }));
    layers.push({
      data: { values: line },
      mark: { type: 'line', strokeDash: [4, 3] },
      encoding: { x: { field: 'flatness', type: 'quantitative' }, y: { field: 'variance', type: 'quantitative' } },
    });
  }
  const psiText = r.psi ? `ψ = ${r.psi.value.toFixed(2)} [${r.psi.ci[0].toFixed(2)}, ${r.psi.ci[1].toFixed(2)}]` : 'ψ not fitted';
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
        x: { field: 'rank', type: 'quantitative', scale: { type: 'log' }, title: 'rank i' },
        y: { field: 'variance', type: 'quantitative', scale: { type: 'log' }, title: 'variance σᵢ²' },
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
            y: { field: 'loss', type: 'quantitative', title: 'full-training-set loss', scale: { type: 'log' } },
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
