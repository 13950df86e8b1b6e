import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { disposeParams, paramsToArray, sampleSplit, splitTensors } from '@goldstone/core';
import { loadCheckpoint } from '@goldstone/run-store';
import { packageInfo, UsageError, type AnalysisContext, type AnalysisResult, type Json, type Rng } from '@goldstone/plugin-api';
import { cosine, norm, randomDirections } from './directions';
import { landscapeFigures } from './figures';
import type { Interpolation, Line, Plane, Slice } from './slice-types';
import { GridEvaluator, linspace, type EvalData } from './grid';
import { hessianDirections } from './hessian-directions';
import { landscapeHeadline } from './headline';
import type { DirectionKind, LandscapeOptions } from './options';
import { projectTrajectory, trajectoryPca } from './pca';
import { landscapeRecordingFor } from './recorder';

/** This package's version, for provenance (read from its package.json). */
export const VERSION = packageInfo(import.meta.url).version;

export type { Interpolation, Line, Plane, Slice } from './slice-types';

/** A split's examples for the losses (a seeded subset when larger), as tensors. */
function evalData(ctx: AnalysisContext, name: string, max: number, rng: Rng): EvalData {
  const split = Object.hasOwn(ctx.task.splits, name) ? ctx.task.splits[name] : undefined;
  if (!split || split.n === 0) {
    throw new UsageError(`landscape.split: the task has no split "${name}" with examples (it has: ${Object.keys(ctx.task.splits).join(', ')})`, { field: 'landscape.split' });
  }
  const s = sampleSplit(split, max, rng.split(`subset:${name}`));
  const { x, y } = splitTensors(s);
  return { x, y, n: s.n };
}

/** The checkpoint directory a target names: a checkpoint (`model.json` inside), or a run directory (its last checkpoint). */
export function checkpointDirOf(target: string): string | null {
  const dir = path.resolve(target);
  if (fs.existsSync(path.join(dir, 'model.json'))) return dir;
  const checkpoints = path.join(dir, 'checkpoints');
  const pointer = path.join(checkpoints, 'last.json');
  if (fs.existsSync(pointer)) {
    try {
      const tag = (JSON.parse(fs.readFileSync(pointer, 'utf8')) as { tag?: unknown }).tag;
      if (typeof tag === 'string' && fs.existsSync(path.join(checkpoints, tag, 'model.json'))) return path.join(checkpoints, tag);
    } catch {
      // fall through to the newest checkpoint directory
    }
  }
  if (!fs.existsSync(checkpoints)) return null;
  const tags = orderTags(fs.readdirSync(checkpoints).filter((t) => fs.existsSync(path.join(checkpoints, t, 'model.json'))));
  return tags.length ? path.join(checkpoints, tags[tags.length - 1]) : null;
}

/** Checkpoint tags in training order: `init` first, then by the number in the tag. */
export function orderTags(tags: readonly string[]): string[] {
  const num = (t: string) => (t === 'init' ? -1 : Number(/(\d+)/.exec(t)?.[1] ?? Number.POSITIVE_INFINITY));
  return [...tags].sort((a, b) => num(a) - num(b) || a.localeCompare(b));
}

/** A checkpoint's parameters as a flat array in the model's order; a layout that differs is a usage error naming `field`. */
async function flatCheckpoint(ctx: AnalysisContext, dir: string, field: string): Promise<Float32Array> {
  const loaded = await loadCheckpoint(dir);
  try {
    const want = ctx.model.specs.map((s) => `${s.name} [${s.shape.join(', ')}]`).join(', ');
    const have = loaded.specs.map((s) => `${s.name} [${s.shape.join(', ')}]`).join(', ');
    const byName = new Map(loaded.specs.map((s) => [s.name, s.shape.join(',')]));
    if (loaded.specs.length !== ctx.model.specs.length || ctx.model.specs.some((s) => byName.get(s.name) !== s.shape.join(','))) {
      throw new UsageError(`${dir}: ${field}: expected the parameters of this model (${want}), found ${have}`, { field });
    }
    return paramsToArray(loaded.params, ctx.model.specs);
  } finally {
    disposeParams(loaded.params);
  }
}

/** The run's initial parameters: recorded at the start of training, or the run's `init` checkpoint. */
async function initialParams(ctx: AnalysisContext, opts: LandscapeOptions, field: string): Promise<Float32Array> {
  const rec = landscapeRecordingFor(ctx.model);
  if (rec?.init && opts.trajectory !== 'checkpoints') return rec.init;
  const dir = ctx.store?.path('checkpoints', 'init');
  if (dir && fs.existsSync(path.join(dir, 'model.json'))) return flatCheckpoint(ctx, dir, field);
  throw new UsageError(`landscape.${field}: init: the initial parameters were neither recorded during training nor saved as the run's init checkpoint`, { field: `landscape.${field}` });
}

/** The trajectory for the PCA: the recorded snapshots, or the run's checkpoints followed by the trained parameters. */
async function trajectoryOf(ctx: AnalysisContext, opts: LandscapeOptions, origin: Float32Array): Promise<{ snapshots: Float32Array[]; steps: number[]; source: string }> {
  const rec = landscapeRecordingFor(ctx.model);
  if (opts.trajectory !== 'checkpoints' && rec && rec.snapshots.length >= 2) return { snapshots: rec.snapshots, steps: rec.steps, source: `recorded every ${rec.every} steps` };
  if (opts.trajectory === 'record') {
    throw new UsageError('landscape.trajectory: record: no trajectory of two or more snapshots was recorded (the analysis ran without training, or training was shorter than every); use trajectory: checkpoints', { field: 'landscape.trajectory' });
  }
  const tags = ctx.store ? orderTags(await ctx.store.listCheckpoints()) : [];
  const snapshots: Float32Array[] = [];
  const steps: number[] = [];
  for (const [i, tag] of tags.entries()) {
    const dir = ctx.store!.path('checkpoints', tag);
    if (!fs.existsSync(path.join(dir, 'model.json'))) continue;
    snapshots.push(await flatCheckpoint(ctx, dir, 'trajectory'));
    steps.push(i);
  }
  const last = snapshots[snapshots.length - 1];
  if (!last || last.some((v, i) => v !== origin[i])) {
    snapshots.push(origin);
    steps.push(snapshots.length - 1);
  }
  if (snapshots.length < 2) {
    throw new UsageError(`landscape.trajectory: the PCA needs a trajectory of two or more parameter sets, found ${snapshots.length} (${ctx.store ? 'the run has too few checkpoints' : 'no run directory'}); record one during training (trajectory: record)`, {
      field: 'landscape.trajectory',
    });
  }
  return { snapshots, steps, source: `${snapshots.length - 1} checkpoints + the trained parameters (steps are checkpoint indices)` };
}

/** Directions, half-widths and what they are, for one direction set. */
interface DirectionSet {
  directions: Float32Array[];
  ranges: number[];
  info: Record<string, Json>;
  trajectory?: { steps: number[]; coords: number[][]; inPlane: number };
  products?: number;
}

async function directionSet(kind: DirectionKind, ctx: AnalysisContext, opts: LandscapeOptions, origin: Float32Array, data: EvalData, loss0: number, rng: Rng): Promise<DirectionSet> {
  const fixed = opts.range === 'auto' ? null : opts.range;
  if (kind === 'random') {
    const norm = { normalization: opts.normalization, zeroBiases: opts.zeroBiases, zeroNorms: opts.zeroNorms };
    const directions = randomDirections(2, origin, ctx.model.specs, rng.split('random'), norm);
    return { directions, ranges: [fixed ?? 1, fixed ?? 1], info: { ...norm, units: 'filter-normalised directions (coordinate 1 = the norm of the weights, per unit)' } };
  }
  if (kind === 'hessian') {
    ctx.progress.start('landscape: Lanczos (top-2 Hessian eigenvectors)', 0);
    const h = await hessianDirections(ctx.model, ctx.task.loss, ctx.params, { x: data.x, y: data.y }, { count: 2, maxSteps: opts.lanczosSteps, tol: opts.tol, rng: rng.split('lanczos') });
    ctx.progress.stop();
    const auto = (lambda: number) => (lambda > 0 ? 2 * Math.sqrt((2 * Math.max(loss0, 0.01)) / lambda) : 1);
    return {
      directions: h.vectors,
      ranges: h.values.map((v) => fixed ?? auto(h.values[0] > 0 ? h.values[0] : v)),
      info: { eigenvalues: h.values, residuals: h.residuals, converged: h.converged, lanczosSteps: h.steps, hvps: h.products, units: 'parameter-space distance (unit eigenvectors)' },
      products: h.products,
    };
  }
  const t = await trajectoryOf(ctx, opts, origin);
  const pca = await trajectoryPca(t.snapshots, 2);
  const coords = projectTrajectory(t.snapshots, origin, pca.components);
  const extent = pca.components.map((_, j) => Math.max(...coords.map((c) => Math.abs(c[j]))));
  // share of each snapshot's displacement from the origin that lies in the plane (mean over snapshots)
  let inPlane = 0;
  let counted = 0;
  t.snapshots.forEach((s, i) => {
    let d2 = 0;
    for (let k = 0; k < s.length; k++) d2 += (s[k] - origin[k]) ** 2;
    if (d2 > 0) {
      inPlane += coords[i].reduce((a, c) => a + c * c, 0) / d2;
      counted++;
    }
  });
  return {
    directions: pca.components,
    ranges: extent.map((e) => fixed ?? (e > 0 ? 1.25 * e : 1)),
    info: { snapshots: pca.snapshots, source: t.source, variances: pca.variances, explained: pca.explained, units: 'parameter-space distance (unit principal directions)' },
    trajectory: { steps: t.steps, coords, inPlane: counted ? inPlane / counted : 1 },
  };
}

/** Run the landscape analysis (the `landscape` plugin's `run`). */
export async function analyzeLandscape(ctx: AnalysisContext, opts: LandscapeOptions): Promise<AnalysisResult> {
  const started = Date.now();
  const [from, to] = opts.interpolationRange;
  if (!(from < to)) throw new UsageError(`landscape.interpolationRange: expected [from, to] with from < to, found [${from}, ${to}]`, { field: 'landscape.interpolationRange' });
  // every target is found before any work
  const targets = opts.interpolate.map((target, i) => {
    if (target === 'init') return { target, dir: null };
    const dir = checkpointDirOf(target);
    if (!dir) throw new UsageError(`landscape.interpolate[${i}]: expected init or a run or checkpoint directory, found "${target}" (no checkpoint there)`, { field: `landscape.interpolate[${i}]` });
    return { target, dir };
  });
  const rng = opts.seed ? ctx.rng.split(`seed:${opts.seed}`) : ctx.rng;
  const origin = paramsToArray(ctx.params, ctx.model.specs);
  const evaluator = new GridEvaluator(ctx, { replicas: opts.replicas, maxExamples: opts.maxExamples });
  const owned: EvalData[] = [];
  const data = (name: string): EvalData => {
    const d = evalData(ctx, name, opts.maxExamples, rng);
    owned.push(d);
    return d;
  };
  try {
    const sliceData = opts.directions.length ? data(opts.split) : null;
    const trainData = opts.interpolate.length ? (opts.split === 'train' && sliceData ? sliceData : data('train')) : null;
    const testData = opts.interpolate.length ? (opts.split === 'test' && sliceData ? sliceData : data('test')) : null;
    const at0 = sliceData ? await evaluator.evaluate(origin, [], [[]], sliceData) : null;
    const loss0 = at0 ? at0.loss[0] : NaN;

    const slices: Slice[] = [];
    let hvps = 0;
    for (const kind of opts.directions) {
      const set = await directionSet(kind, ctx, opts, origin, sliceData!, loss0, rng);
      hvps += set.products ?? 0;
      const lines: Line[] = [];
      const dims = set.directions.length;
      const total = (opts.dims.includes(1) ? dims * opts.points1d : 0) + (opts.dims.includes(2) && dims >= 2 ? opts.points2d ** 2 : 0);
      ctx.progress.start(`landscape: ${kind} slices`, total);
      if (opts.dims.includes(1)) {
        for (let j = 0; j < dims; j++) {
          const t = linspace(-set.ranges[j], set.ranges[j], opts.points1d);
          const v = await evaluator.evaluate(origin, [set.directions[j]], t.map((c) => [c]), sliceData!, ctx.progress);
          lines.push({ axis: j, t, loss: v.loss, accuracy: v.accuracy });
        }
      }
      let plane: Plane | null = null;
      if (opts.dims.includes(2) && dims >= 2) {
        const a = linspace(-set.ranges[0], set.ranges[0], opts.points2d);
        const b = linspace(-set.ranges[1], set.ranges[1], opts.points2d);
        const coords = b.flatMap((bv) => a.map((av) => [av, bv]));
        const v = await evaluator.evaluate(origin, set.directions.slice(0, 2), coords, sliceData!, ctx.progress);
        const rows = <T>(xs: T[]) => b.map((_, i) => xs.slice(i * a.length, (i + 1) * a.length));
        plane = { a, b, loss: rows(v.loss), accuracy: v.accuracy ? rows(v.accuracy) : null };
      }
      ctx.progress.stop();
      slices.push({
        kind,
        ranges: set.ranges,
        norms: set.directions.map(norm),
        cosine: dims >= 2 ? cosine(set.directions[0], set.directions[1]) : null,
        lines,
        plane,
        trajectory: set.trajectory ?? null,
        info: set.info,
      });
    }

    const interpolations: Interpolation[] = [];
    const alpha = linspace(from, to, opts.interpolationPoints);
    for (const [i, { target, dir }] of targets.entries()) {
      const field = `interpolate[${i}]`;
      const [a, b, labels] = dir === null ? [await initialParams(ctx, opts, field), origin, ['init', 'trained']] : [origin, await flatCheckpoint(ctx, dir, `landscape.${field}`), ['trained', target]];
      const delta = Float32Array.from(b, (v, k) => v - a[k]);
      ctx.progress.start(`landscape: interpolation ${labels[0]} → ${labels[1]}`, 2 * alpha.length);
      const coords = alpha.map((c) => [c]);
      const train = await evaluator.evaluate(a, [delta], coords, trainData!, ctx.progress);
      const test = await evaluator.evaluate(a, [delta], coords, testData!, ctx.progress);
      ctx.progress.stop();
      interpolations.push({ from: labels[0], to: labels[1], alpha, distance: norm(delta), train, test });
    }

    const cost = evaluator.cost(opts.timing);
    const result = {
      paramCount: ctx.model.paramCount,
      split: opts.split,
      examples: { slices: sliceData?.n ?? 0, train: trainData?.n ?? 0, test: testData?.n ?? 0 },
      loss: loss0,
      accuracy: at0?.accuracy?.[0] ?? null,
      slices,
      interpolations,
      cost: { ...cost, hvps },
    };
    const provenance = {
      analysis: 'landscape',
      version: VERSION,
      seed: ctx.seed,
      seedOffset: opts.seed,
      backend: ctx.backend,
      directions: opts.directions,
      normalization: { kind: opts.normalization, zeroBiases: opts.zeroBiases, zeroNorms: opts.zeroNorms, reference: 'Li, Xu, Taylor, Studer, Goldstein 2018 (arXiv 1712.09913)' },
      trajectory: opts.trajectory,
      data: { split: opts.split, maxExamples: opts.maxExamples },
      evaluation: { batched: cost.batched, replicasPerCall: cost.replicasPerCall },
      hvps,
    };
    ctx.progress.log(`landscape: ${cost.evaluations} loss evaluations in ${cost.calls} calls (${cost.replicasPerCall} per call), ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return {
      result: result as unknown as Json,
      headline: landscapeHeadline(result),
      figures: opts.figures ? landscapeFigures(result) : undefined,
      provenance: provenance as unknown as AnalysisResult['provenance'],
    };
  } finally {
    for (const d of owned) tf.dispose([d.x, d.y]);
  }
}
