import type { Figure, Json, SummaryInput } from '@goldstone/plugin-api';

interface Group {
  settings: Record<string, Json>;
  runs: string[];
  psi: number[];
  psiCiExcludesZero: number;
  gamma: number[];
  topFraction: number[];
  missing: string[];
}

function stats(values: number[]): { mean: number; std: number; min: number; max: number; n: number } | null {
  if (values.length === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, std, min: Math.min(...values), max: Math.max(...values), n: values.length };
}

function settingsKey(s: Record<string, Json>): string {
  return JSON.stringify(Object.keys(s).sort().map((k) => [k, s[k]]));
}

/**
 * ψ per setting over a sweep: runs are grouped by their settings other than `seed`; each group
 * reports ψ as mean ± standard deviation over its seeds (with min, max, and how many runs had a
 * confidence interval excluding 0), γ and the top-PC variance fraction the same way, and the
 * difference from the published ψ ≈ 4.
 */
export function summarizeVarianceFlatness(results: SummaryInput[], _options: unknown): { result: Json; figures?: Figure[] } {
  const groups = new Map<string, Group>();
  for (const r of results) {
    const settings = Object.fromEntries(Object.entries(r.settings ?? {}).filter(([k]) => k !== 'seed'));
    const key = settingsKey(settings);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { settings, runs: [], psi: [], psiCiExcludesZero: 0, gamma: [], topFraction: [], missing: [] }));
    g.runs.push(r.run);
    const res = r.result?.result as Record<string, any> | null;
    const psi = res?.psi as { value: number; ci: [number, number] } | null | undefined;
    if (psi && Number.isFinite(psi.value)) {
      g.psi.push(psi.value);
      if (psi.ci[0] > 0 || psi.ci[1] < 0) g.psiCiExcludesZero++;
    } else g.missing.push(r.run);
    if (res?.gamma && Number.isFinite(res.gamma.value)) g.gamma.push(res.gamma.value);
    if (res?.fractions && Number.isFinite(res.fractions.top)) g.topFraction.push(res.fractions.top);
  }
  const rows = [...groups.values()].map((g) => {
    const psi = stats(g.psi);
    return {
      settings: g.settings,
      runs: g.runs,
      psi,
      psiCiExcludesZero: `${g.psiCiExcludesZero}/${g.runs.length}`,
      psiMinusPublished: psi ? psi.mean - 4 : null,
      gamma: stats(g.gamma),
      topFraction: stats(g.topFraction),
      ...(g.missing.length ? { noPsi: g.missing } : {}),
    };
  });
  // Short labels (the last segment of each path: `batchSize=50, lr=0.1`), so they fit beside the plot.
  const label = (s: Record<string, Json>) => Object.entries(s).map(([k, v]) => `${k.split('.').pop()}=${JSON.stringify(v)}`).join(', ') || 'all runs';
  const figures: Figure[] = [
    {
      name: 'psi-by-setting',
      title: 'ψ per setting (mean ± s.d. over seeds); dashed: published ψ ≈ 4',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        width: 420,
        height: 40 + 24 * rows.length,
        layer: [
          {
            data: { values: rows.filter((r) => r.psi).map((r) => ({ setting: label(r.settings), lo: r.psi!.mean - r.psi!.std, hi: r.psi!.mean + r.psi!.std })) },
            mark: 'rule',
            encoding: { y: { field: 'setting', type: 'nominal', title: null, sort: null, axis: { labelLimit: 320 } }, x: { field: 'lo', type: 'quantitative', title: 'ψ' }, x2: { field: 'hi' } },
          },
          {
            data: { values: rows.filter((r) => r.psi).map((r) => ({ setting: label(r.settings), psi: r.psi!.mean })) },
            mark: { type: 'point', filled: true },
            encoding: { y: { field: 'setting', type: 'nominal', sort: null }, x: { field: 'psi', type: 'quantitative' } },
          },
          { data: { values: [{ published: 4 }] }, mark: { type: 'rule', strokeDash: [4, 3] }, encoding: { x: { field: 'published', type: 'quantitative' } } },
        ],
      },
    },
  ];
  return { result: { published: { psi: 4 }, groups: rows } as unknown as Json, figures };
}
