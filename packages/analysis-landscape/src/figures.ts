import { lineChart } from '@goldstone/core';
import type { Figure } from '@goldstone/plugin-api';
import type { Interpolation, Plane, Slice } from './slice-types';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** What the figures are drawn from. */
export interface FigureInput {
  slices: Slice[];
  interpolations: Interpolation[];
}

/** A contour segment from (x, y) to (x2, y2) at `level`. */
export interface Segment {
  level: number;
  x: number;
  y: number;
  x2: number;
  y2: number;
}

/**
 * Iso-lines of a grid by marching squares: `values[i][j]` at (a[j], b[i]); one straight segment
 * per cell and crossing pair, at each of `levels` (a saddle cell joins its crossings in order).
 */
export function contourSegments(plane: Pick<Plane, 'a' | 'b'>, values: number[][], levels: readonly number[]): Segment[] {
  const out: Segment[] = [];
  const { a, b } = plane;
  for (const level of levels) {
    for (let i = 0; i + 1 < b.length; i++) {
      for (let j = 0; j + 1 < a.length; j++) {
        // corners counter-clockwise from (j, i); edges between consecutive corners
        const cx = [a[j], a[j + 1], a[j + 1], a[j]];
        const cy = [b[i], b[i], b[i + 1], b[i + 1]];
        const cv = [values[i][j], values[i][j + 1], values[i + 1][j + 1], values[i + 1][j]];
        if (cv.some((v) => !Number.isFinite(v))) continue;
        const points: [number, number][] = [];
        for (let e = 0; e < 4; e++) {
          const p = cv[e];
          const q = cv[(e + 1) % 4];
          if ((p < level) !== (q < level)) {
            const s = (level - p) / (q - p);
            points.push([cx[e] + s * (cx[(e + 1) % 4] - cx[e]), cy[e] + s * (cy[(e + 1) % 4] - cy[e])]);
          }
        }
        for (let k = 0; k + 1 < points.length; k += 2) out.push({ level, x: points[k][0], y: points[k][1], x2: points[k + 1][0], y2: points[k + 1][1] });
      }
    }
  }
  return out;
}

/** Contour levels: `count` quantiles of the finite grid values strictly between their 2 % and 98 % points, distinct. */
export function contourLevels(values: number[][], count = 12): number[] {
  const v = values.flat().filter(Number.isFinite).sort((x, y) => x - y);
  if (v.length < 2) return [];
  const q = (p: number) => v[Math.min(v.length - 1, Math.round(p * (v.length - 1)))];
  const levels: number[] = [];
  for (let k = 0; k < count; k++) {
    const level = q(0.02 + (0.96 * (k + 0.5)) / count);
    if (!levels.length || level > levels[levels.length - 1]) levels.push(level);
  }
  return levels;
}

const AXES: Record<Slice['kind'], [string, string]> = {
  random: ['α (random direction 1)', 'β (random direction 2)'],
  hessian: ['t₁ (Hessian eigenvector 1)', 't₂ (Hessian eigenvector 2)'],
  pca: ['θ₁ (trajectory PC 1)', 'θ₂ (trajectory PC 2)'],
};

/** The trajectory layer (a line through the projected snapshots, in training order), where one was recorded. */
function trajectoryLayer(slice: Slice): Record<string, unknown>[] {
  if (!slice.trajectory) return [];
  const values = slice.trajectory.coords.map((c, i) => ({ x: c[0], y: c[1] ?? 0, step: slice.trajectory!.steps[i], order: i }));
  return [
    {
      data: { values },
      mark: { type: 'line', point: true, color: 'white', strokeWidth: 1.5 },
      encoding: {
        x: { field: 'x', type: 'quantitative' },
        y: { field: 'y', type: 'quantitative' },
        order: { field: 'order', type: 'quantitative' },
        tooltip: [{ field: 'step', type: 'quantitative', title: 'step' }],
      },
    },
  ];
}

/** Heat map and contour figures of one 2-D slice. */
function planeFigures(slice: Slice): Figure[] {
  const plane = slice.plane;
  if (!plane) return [];
  const [xTitle, yTitle] = AXES[slice.kind];
  const da = plane.a.length > 1 ? (plane.a[1] - plane.a[0]) / 2 : 0.5;
  const db = plane.b.length > 1 ? (plane.b[1] - plane.b[0]) / 2 : 0.5;
  const cells = plane.b.flatMap((bv, i) => plane.a.map((av, j) => ({ x: av - da, x2: av + da, y: bv - db, y2: bv + db, loss: plane.loss[i][j] })));
  const x = { field: 'x', type: 'quantitative', title: xTitle, scale: { domain: [plane.a[0] - da, plane.a[plane.a.length - 1] + da], nice: false } };
  const y = { field: 'y', type: 'quantitative', title: yTitle, scale: { domain: [plane.b[0] - db, plane.b[plane.b.length - 1] + db], nice: false } };
  const heat = {
    data: { values: cells },
    mark: { type: 'rect' },
    encoding: { x, x2: { field: 'x2' }, y, y2: { field: 'y2' }, color: { field: 'loss', type: 'quantitative', title: 'loss (symlog scale)', scale: { type: 'symlog', scheme: 'viridis' } }, tooltip: [{ field: 'loss', type: 'quantitative' }] },
  };
  const segments = contourSegments(plane, plane.loss, contourLevels(plane.loss));
  const contour = {
    data: { values: segments },
    mark: { type: 'rule' },
    encoding: { x, y, x2: { field: 'x2' }, y2: { field: 'y2' }, color: { field: 'level', type: 'quantitative', title: 'loss (symlog scale)', scale: { type: 'symlog', scheme: 'viridis' } } },
  };
  const origin = { data: { values: [{ x: 0, y: 0 }] }, mark: { type: 'point', shape: 'cross', color: 'red', size: 80 }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } };
  const traj = trajectoryLayer(slice);
  const note = slice.trajectory ? ', with the training trajectory projected onto the plane' : '';
  return [
    { name: `${slice.kind}-heatmap`, title: `Loss on the plane of the ${slice.kind} directions (heat map${note})`, spec: { $schema: SCHEMA, layer: [heat, ...traj, origin], width: 360, height: 360 } },
    { name: `${slice.kind}-contour`, title: `Loss contours on the plane of the ${slice.kind} directions${note}`, spec: { $schema: SCHEMA, layer: [contour, ...traj.map((l) => ({ ...l, mark: { type: 'line', point: true, color: 'black' } })), origin], width: 360, height: 360 } },
  ];
}

/** The figures: per direction set, 1-D curves and the 2-D heat map and contours; per interpolation, loss and accuracy. */
export function landscapeFigures(r: FigureInput): Figure[] {
  const figures: Figure[] = [];
  for (const s of r.slices) {
    if (s.lines.length) {
      const rows = s.lines.flatMap((l) => l.t.map((t, i) => ({ t, loss: l.loss[i], direction: `${s.kind} ${l.axis + 1}` })));
      figures.push(lineChart(`${s.kind}-lines`, `Loss along the ${s.kind} directions (1-D slices through the trained parameters)`, rows, { field: 't', title: 'coordinate along the direction' }, { field: 'loss', title: 'loss' }, 'direction'));
    }
    figures.push(...planeFigures(s));
  }
  r.interpolations.forEach((p, k) => {
    const label = `${p.from} → ${p.to}`;
    const rows = (metric: 'loss' | 'accuracy') =>
      (['train', 'test'] as const).flatMap((split) => {
        const v = p[split][metric];
        return v ? p.alpha.map((alpha, i) => ({ alpha, [metric]: v[i], split })) : [];
      });
    figures.push(lineChart(`interpolation-${k + 1}-loss`, `Loss along the linear interpolation ${label} (α = 0: ${p.from}, α = 1: ${p.to})`, rows('loss'), { field: 'alpha', title: 'α' }, { field: 'loss', title: 'loss' }, 'split'));
    if (p.train.accuracy) figures.push(lineChart(`interpolation-${k + 1}-accuracy`, `Accuracy along the linear interpolation ${label}`, rows('accuracy'), { field: 'alpha', title: 'α' }, { field: 'accuracy', title: 'accuracy' }, 'split'));
  });
  return figures;
}
