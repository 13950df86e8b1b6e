import type { Figure } from '@goldstone/plugin-api';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

type Row = Record<string, number | string | null>;

/**
 * Vega-Lite spec builders for analysis figures (inline data; rendered by @goldstone/report).
 */

/** A line chart with points, one line per `series` value (inline data). */
export function lineChart(
  name: string,
  title: string,
  rows: Row[],
  x: { field: string; title: string; scale?: 'log' | 'symlog' },
  y: { field: string; title: string; scale?: 'log' | 'symlog' },
  series?: string,
): Figure {
  // a non-linear axis says so in its title
  const titled = (a: typeof x) => (a.scale ? `${a.title} (${a.scale} scale)` : a.title);
  const encoding: Record<string, unknown> = {
    x: { field: x.field, type: 'quantitative', title: titled(x), ...(x.scale ? { scale: { type: x.scale } } : {}) },
    y: { field: y.field, type: 'quantitative', title: titled(y), ...(y.scale ? { scale: { type: y.scale } } : {}) },
  };
  if (series) encoding.color = { field: series, type: 'nominal', title: null };
  return {
    name,
    title,
    spec: { $schema: SCHEMA, data: { values: rows }, mark: { type: 'line', point: true }, encoding },
  };
}

/** A bar chart of `y` by category `x` (inline data). */
export function barChart(name: string, title: string, rows: Row[], x: { field: string; title: string }, y: { field: string; title: string }): Figure {
  return {
    name,
    title,
    spec: {
      $schema: SCHEMA,
      data: { values: rows },
      mark: 'bar',
      encoding: {
        x: { field: x.field, type: 'nominal', title: x.title },
        y: { field: y.field, type: 'quantitative', title: y.title },
      },
    },
  };
}
