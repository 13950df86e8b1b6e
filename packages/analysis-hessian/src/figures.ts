import type { Figure } from '@goldstone/plugin-api';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** What the figures need from a Hessian result. */
export interface FigureInput {
  method: string;
  topEigenvalues: number[];
  bottomEigenvalues: number[];
  spectrum: number[] | null;
  density: { grid: number[]; values: number[] };
  logDensity: { grid: number[]; values: number[] };
  nearZeroModes: { threshold: number };
  /** Per-pair convergence: unconverged Ritz values are drawn as bounds. */
  eigenpairs?: { top: boolean[]; bottom: boolean[] };
  lossLines: { index: number; eigenvalue: number; t: number[]; loss: number[]; quadratic: number[] }[];
  /** Generator directions (entries with a Rayleigh quotient are marked on the spectrum). */
  generators?: readonly unknown[];
}

/** The generator directions' Rayleigh quotients, as rules on the spectrum plot. */
function generatorRules(r: FigureInput): { generator: string; value: number }[] {
  return (r.generators ?? []).flatMap((g) => {
    const e = g as { name?: string; rayleighQuotient?: unknown };
    return typeof e.rayleighQuotient === 'number' ? [{ generator: `generator ${e.name} (vᵀHv/‖v‖²)`, value: e.rayleighQuotient }] : [];
  });
}

/**
 * The report's figures: the eigenvalue spectrum (all eigenvalues in exact mode, the extreme ones
 * otherwise, on a symmetric-log axis titled so), the spectral density on linear and log-|λ| axes, and the
 * loss along the top eigenvectors against its quadratic model L₀ + λt²/2.
 */
export function hessianFigures(r: FigureInput): Figure[] {
  const figures: Figure[] = [];
  const eig = r.spectrum
    ? r.spectrum.map((value, i) => ({ rank: i + 1, value, kind: 'exact' }))
    : [
        ...r.topEigenvalues.map((value, i) => ({ rank: i + 1, value, kind: r.eigenpairs?.top[i] === false ? 'top (not converged: lower bound)' : 'top' })),
        ...r.bottomEigenvalues.map((value, i) => ({ rank: -(i + 1), value, kind: r.eigenpairs?.bottom[i] === false ? 'bottom (not converged: upper bound)' : 'bottom' })),
      ];
  const y = { field: 'value', type: 'quantitative', title: 'eigenvalue λ (symlog scale)', scale: { type: 'symlog', constant: Math.max(r.nearZeroModes.threshold, 1e-12) } };
  const points = {
    data: { values: eig },
    mark: { type: 'point', filled: true },
    encoding: { x: { field: 'rank', type: 'quantitative', title: 'rank' }, y, color: { field: 'kind', type: 'nominal', title: null } },
  };
  const rules = generatorRules(r);
  figures.push({
    name: 'hessian-spectrum',
    title: `${r.spectrum ? 'Hessian eigenvalues (exact), by rank' : 'Extreme Hessian eigenvalues (Lanczos); negative rank counts from the bottom'}${rules.length ? '; dashed: curvature along the generator directions' : ''}`,
    spec: rules.length
      ? {
          $schema: SCHEMA,
          layer: [points, { data: { values: rules }, mark: { type: 'rule', strokeDash: [4, 3] }, encoding: { y, color: { field: 'generator', type: 'nominal', title: null } } }],
        }
      : { $schema: SCHEMA, ...points },
  });
  figures.push({
    name: 'hessian-density',
    title: `Spectral density (${r.method === 'exact' ? 'exact eigenvalues' : 'stochastic Lanczos quadrature'}, Gaussian smoothing)`,
    spec: {
      $schema: SCHEMA,
      data: { values: r.density.grid.map((lambda, i) => ({ lambda, density: r.density.values[i] })) },
      mark: 'line',
      encoding: {
        x: { field: 'lambda', type: 'quantitative', title: 'eigenvalue λ' },
        y: { field: 'density', type: 'quantitative', title: 'density (symlog scale)', scale: { type: 'symlog', constant: 1e-3 } },
      },
    },
  });
  figures.push({
    name: 'hessian-log-density',
    title: 'Density of log₁₀|λ| (resolves the near-zero bulk)',
    spec: {
      $schema: SCHEMA,
      data: { values: r.logDensity.grid.map((u, i) => ({ log10abs: u, density: r.logDensity.values[i] })) },
      mark: 'line',
      encoding: {
        x: { field: 'log10abs', type: 'quantitative', title: 'log₁₀|λ|' },
        y: { field: 'density', type: 'quantitative', title: 'density per decade' },
      },
    },
  });
  if (r.lossLines.length > 0) {
    const rows = r.lossLines.flatMap((l) =>
      l.t.flatMap((t, i) => [
        { t, loss: l.loss[i], curve: 'loss', direction: `u${l.index + 1} (λ=${l.eigenvalue.toPrecision(3)})` },
        { t, loss: l.quadratic[i], curve: 'quadratic', direction: `u${l.index + 1} (λ=${l.eigenvalue.toPrecision(3)})` },
      ]),
    );
    figures.push({
      name: 'hessian-loss-lines',
      title: 'Loss along the top eigenvectors, L(w + t·u), against L₀ + λt²/2',
      spec: {
        $schema: SCHEMA,
        data: { values: rows },
        mark: 'line',
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'step t along the unit eigenvector' },
          y: { field: 'loss', type: 'quantitative', title: 'loss' },
          color: { field: 'direction', type: 'nominal', title: 'direction' },
          strokeDash: { field: 'curve', type: 'nominal', title: null },
        },
      },
    });
  }
  return figures;
}
