import type { MetricRow } from '@goldstone/run-store/format';

/** A figure the report renders: a Vega-Lite spec with a name, a title and an optional caption. */
export interface ReportFigure {
  name: string;
  title: string;
  spec: Record<string, unknown>;
  caption?: string;
}

export interface TrainingCurveOptions {
  /** Step-level series longer than this are averaged in equal blocks down to about this many points (default 1000). */
  maxPoints?: number;
}

/** Vega's tableau10, so a split keeps its colour in every figure whichever splits a metric has. */
const SPLIT_COLORS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

/** Keys of epoch rows that are bookkeeping, not per-split metrics. */
const EPOCH_BOOKKEEPING = new Set(['kind', 'epoch', 'step', 'time']);

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Splits in display order: train, test, then the rest alphabetically. */
export function orderSplits(splits: Iterable<string>): string[] {
  const rank = (s: string): number => (s === 'train' ? 0 : s === 'test' ? 1 : 2);
  return [...new Set(splits)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The split and metric of a flat epoch key (`ood-pt.auc` → `['ood-pt', 'auc']`), or undefined. */
export function splitMetricKey(key: string): [string, string] | undefined {
  if (EPOCH_BOOKKEEPING.has(key)) return undefined;
  const dot = key.indexOf('.');
  if (dot <= 0 || dot === key.length - 1) return undefined;
  return [key.slice(0, dot), key.slice(dot + 1)];
}

/** Average (x, y) points in consecutive blocks so at most about `maxPoints` remain. */
export function blockAverage(points: { x: number; y: number }[], maxPoints: number): { points: { x: number; y: number }[]; block: number } {
  if (points.length <= maxPoints) return { points, block: 1 };
  const block = Math.ceil(points.length / maxPoints);
  const out: { x: number; y: number }[] = [];
  for (let i = 0; i < points.length; i += block) {
    const chunk = points.slice(i, i + block);
    let sx = 0;
    let sy = 0;
    for (const p of chunk) {
      sx += p.x;
      sy += p.y;
    }
    out.push({ x: sx / chunk.length, y: sy / chunk.length });
  }
  return { points: out, block };
}

function lineSpec(options: {
  values: Record<string, unknown>[];
  x: string;
  xTitle: string;
  y: string;
  yTitle: string;
  log: boolean;
  color?: { field: string; title: string; domain: string[]; range: string[] };
  points?: boolean;
}): Record<string, unknown> {
  const encoding: Record<string, unknown> = {
    x: { field: options.x, type: 'quantitative', title: options.xTitle },
    y: {
      field: options.y,
      type: 'quantitative',
      title: options.log ? `${options.yTitle} (log scale)` : options.yTitle,
      // no `nice` on log scales: it widens the domain to whole decades and squashes the curve
      scale: options.log ? { type: 'log', nice: false } : { zero: false },
    },
  };
  if (options.color) {
    encoding.color = {
      field: options.color.field,
      type: 'nominal',
      title: options.color.title,
      scale: { domain: options.color.domain, range: options.color.range },
      sort: options.color.domain,
    };
  }
  return {
    data: { values: options.values },
    mark: options.points ? { type: 'line', point: true } : { type: 'line' },
    encoding,
  };
}

/** 12,345 with thousands separators. */
const formatCount = (n: number): string => n.toLocaleString('en-US');

/**
 * How many optimisation steps the run trained: the largest `step` any metrics row records (epoch
 * rows carry the step count at their end), or undefined when no row has one. Not the number of
 * logged rows: a run logging every 10th step logs a tenth of what it trained.
 */
export function stepsTrained(rows: MetricRow[]): number | undefined {
  let max: number | undefined;
  for (const r of rows) if (isFiniteNumber(r.step) && (max === undefined || r.step > max)) max = r.step;
  return max;
}

/** The usual gap between logged steps (the median difference), or undefined with fewer than two. */
function logInterval(steps: number[]): number | undefined {
  if (steps.length < 2) return undefined;
  const gaps = steps
    .slice(1)
    .map((s, i) => s - steps[i])
    .sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)];
}

/**
 * Vega-Lite figures of the training curves in metrics.jsonl rows:
 * loss per step (log scale when all positive), the learning rate per step when it changes,
 * the loss of each split per epoch, and one figure per other metric with a line per split.
 * Non-finite values (a diverged run) are left out and counted in the caption.
 */
export function trainingCurveFigures(rows: MetricRow[], options: TrainingCurveOptions = {}): ReportFigure[] {
  const maxPoints = options.maxPoints ?? 1000;
  const figures: ReportFigure[] = [];

  const steps = rows.filter((r) => r.kind === 'step' && isFiniteNumber(r.step));
  const lossPoints = steps.filter((r) => isFiniteNumber(r.loss)).map((r) => ({ x: r.step as number, y: r.loss as number }));
  const droppedLoss = steps.filter((r) => r.loss !== undefined && !isFiniteNumber(r.loss)).length;
  if (lossPoints.length > 0) {
    const { points, block } = blockAverage(lossPoints, maxPoints);
    const log = points.every((p) => p.y > 0);
    const trained = stepsTrained(rows);
    const every = logInterval(lossPoints.map((p) => p.x));
    const notes: string[] = [
      trained !== undefined ? `${formatCount(trained)} steps trained` : `${formatCount(lossPoints.length)} logged steps`,
      `${formatCount(lossPoints.length)} logged${every !== undefined && every > 1 ? ` (every ${formatCount(every)} steps)` : ''}`,
    ];
    if (block > 1) notes.push(`each point is the mean of ${block} consecutive logged values`);
    if (droppedLoss > 0) notes.push(`${droppedLoss} non-finite values left out`);
    figures.push({
      name: 'loss-per-step',
      title: 'Training loss per step',
      caption: notes.join('; ') + '.',
      spec: lineSpec({ values: points.map((p) => ({ step: p.x, loss: p.y })), x: 'step', xTitle: 'step', y: 'loss', yTitle: 'minibatch loss', log }),
    });
  }

  const lrPoints = steps.filter((r) => isFiniteNumber(r.lr)).map((r) => ({ x: r.step as number, y: r.lr as number }));
  if (lrPoints.length > 1 && lrPoints.some((p) => p.y !== lrPoints[0].y)) {
    const { points } = blockAverage(lrPoints, maxPoints);
    figures.push({
      name: 'lr-per-step',
      title: 'Learning rate per step',
      spec: lineSpec({ values: points.map((p) => ({ step: p.x, lr: p.y })), x: 'step', xTitle: 'step', y: 'lr', yTitle: 'learning rate', log: false }),
    });
  }

  const epochs = rows.filter((r) => r.kind === 'epoch' && isFiniteNumber(r.epoch));
  const byMetric = new Map<string, { epoch: number; split: string; value: number }[]>();
  const dropped = new Map<string, number>();
  for (const row of epochs) {
    for (const [key, value] of Object.entries(row)) {
      const sm = splitMetricKey(key);
      if (!sm) continue;
      const [split, metric] = sm;
      if (!isFiniteNumber(value)) {
        if (value !== undefined) dropped.set(metric, (dropped.get(metric) ?? 0) + 1);
        continue;
      }
      let list = byMetric.get(metric);
      if (!list) byMetric.set(metric, (list = []));
      list.push({ epoch: row.epoch as number, split, value });
    }
  }
  const allSplits = orderSplits([...byMetric.values()].flatMap((list) => list.map((v) => v.split)));
  const colorOf = (split: string): string => SPLIT_COLORS[allSplits.indexOf(split) % SPLIT_COLORS.length];
  const metricNames = [...byMetric.keys()].sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : a.localeCompare(b)));
  for (const metric of metricNames) {
    const values = byMetric.get(metric)!;
    const splits = orderSplits(values.map((v) => v.split));
    const isLoss = metric === 'loss' || metric.endsWith('loss');
    const log = isLoss && values.every((v) => v.value > 0);
    const few = new Set(values.map((v) => v.epoch)).size <= 30;
    const notes: string[] = [`${splits.length} split${splits.length === 1 ? '' : 's'}: ${splits.join(', ')}`];
    const bad = dropped.get(metric) ?? 0;
    if (bad > 0) notes.push(`${bad} non-finite values left out`);
    figures.push({
      name: `epoch-${metric}`,
      title: metric === 'loss' ? 'Loss per epoch by split' : `${metric} per epoch by split`,
      caption: notes.join('; ') + '.',
      spec: lineSpec({
        values: values.map((v) => ({ epoch: v.epoch, split: v.split, [metric]: v.value })),
        x: 'epoch',
        xTitle: 'epoch',
        y: metric,
        yTitle: metric,
        log,
        color: { field: 'split', title: 'split', domain: splits, range: splits.map(colorOf) },
        points: few,
      }),
    });
  }
  return figures;
}

/** The last epoch row's metrics as a split × metric grid: `{ metrics, rows: [split, ...values] }`. */
export function finalEpochTable(rows: MetricRow[]): { epoch: number; metrics: string[]; rows: [string, ...(number | null)[]][] } | undefined {
  const epochs = rows.filter((r) => r.kind === 'epoch' && isFiniteNumber(r.epoch));
  const last = epochs[epochs.length - 1];
  if (!last) return undefined;
  const cells = new Map<string, Map<string, number | null>>();
  const metrics: string[] = [];
  for (const [key, value] of Object.entries(last)) {
    const sm = splitMetricKey(key);
    if (!sm || (typeof value !== 'number' && value !== null)) continue;
    const [split, metric] = sm;
    if (!metrics.includes(metric)) metrics.push(metric);
    if (!cells.has(split)) cells.set(split, new Map());
    cells.get(split)!.set(metric, value as number | null);
  }
  if (metrics.length === 0) return undefined;
  metrics.sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : a.localeCompare(b)));
  const out = orderSplits(cells.keys()).map(
    (split) => [split, ...metrics.map((m) => cells.get(split)!.get(m) ?? null)] as [string, ...(number | null)[]],
  );
  return { epoch: last.epoch as number, metrics, rows: out };
}
