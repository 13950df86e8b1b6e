import * as tf from '@tensorflow/tfjs-core';
import { API_VERSION, packageInfo, UsageError, defineAnalysis, type AnalysisContext, type AnalysisResult, type Figure, type Json } from '@goldstone/plugin-api';
import { paramsFromArray, paramsToArray, disposeParams, sizeOf, splitTensors, sampleSplit, lineChart, chanceScore, higherIsBetter, primaryMetric, scoreTensors, withinTolerance, type MetricName } from '@goldstone/core';
import { descriptionLength, type TensorCode } from './description-length';
import { fineTuneMasked } from './fine-tune';
import { compressibilityHeadline } from './headline';
import { autoRanks, svdOf, truncateRank } from './low-rank';
import { compressibilityIssues, compressibilityOptions, type CompressibilityOptions } from './options';
import { magnitudePrune, sparsityOf, type Slot } from './pruning';
import { quantizeUniform } from './quantization';

/** This package's version, for provenance (read from its package.json). */
export const VERSION = packageInfo(import.meta.url).version;

/** The compressible tensors of a model: weight matrices (rank ≥ 2) or all, with flat offsets. */
export function compressibleSlots(specs: AnalysisContext['model']['specs'], include: 'weights' | 'all'): Slot[] {
  const slots: Slot[] = [];
  let offset = 0;
  for (const s of specs) {
    const size = sizeOf(s.shape);
    if (include === 'all' || s.shape.length >= 2) slots.push({ name: s.name, offset, size, shape: [...s.shape] });
    offset += size;
  }
  return slots;
}

interface Point {
  value: number;
  loss: number;
}

/** The largest sweep value x (in `order`) up to which every point stays within tolerance. */
function lastWithin<T extends { value: number }>(rows: T[], key: (r: T) => number, base: number, metric: MetricName, tol: number, ascending: boolean): number | null {
  const sorted = [...rows].sort((a, b) => (ascending ? key(a) - key(b) : key(b) - key(a)));
  let best: number | null = null;
  for (const r of sorted) {
    if (!withinTolerance(metric, base, r.value, tol)) break;
    best = key(r);
  }
  return best;
}

export async function analyzeCompressibility(ctx: AnalysisContext, opts: CompressibilityOptions): Promise<AnalysisResult> {
  const { task, model } = ctx;
  const kind = task.outputKind;
  const metric = primaryMetric(kind);
  const sections = new Set(opts.sections);
  const split = task.splits[opts.split];
  if (!split || split.n === 0) {
    throw new UsageError(`split: the task has no non-empty split "${opts.split}" (it has: ${Object.keys(task.splits).join(', ')})`, { field: 'split' });
  }
  const evalSplit = sampleSplit(split, opts.maxExamples, ctx.rng.split('subset'));
  const { x, y } = splitTensors(evalSplit);
  const values = paramsToArray(ctx.params, model.specs);
  const slots = compressibleSlots(model.specs, opts.include);
  if (slots.length === 0) throw new UsageError(`include: the model has no parameters of rank ≥ 2 to compress; use include: all`, { field: 'include' });
  const tol = opts.tolerance;
  const figures: Figure[] = [];
  const result: Record<string, Json> = {};

  const evalAt = (v: Float32Array): Point => {
    const p = paramsFromArray(v, model.specs);
    try {
      const pred = tf.tidy(() => model.apply(p, x));
      const loss = tf.tidy(() => ctx.loss(p, x, y));
      const scores = scoreTensors(kind, pred, y);
      const l = (loss.dataSync() as Float32Array)[0];
      tf.dispose([pred, loss]);
      return { value: scores[metric], loss: l };
    } finally {
      disposeParams(p);
    }
  };

  try {
    const base = evalAt(values);
    const compressible = slots.reduce((s, t) => s + t.size, 0);
    Object.assign(result, {
      metric,
      higherIsBetter: higherIsBetter(metric),
      split: opts.split,
      examples: evalSplit.n,
      base: base as unknown as Json,
      chance: chanceScore(kind, evalSplit.y, task.outputSize),
      tolerance: tol,
      parameters: { total: model.paramCount, compressible, tensors: slots.map((s) => s.name) },
    });
    const ftSparsities = opts.fineTune.epochs > 0 ? (opts.fineTune.sparsities ?? opts.sparsities.filter((s) => s > 0 && s < 1)) : [];
    ctx.progress.start(
      'compressibility',
      (sections.has('pruning') ? (opts.sparsities.length + ftSparsities.length) * opts.scopes.length : 0) + (sections.has('quantization') ? opts.bits.length : 0),
    );

    let sparsityStar = 0;
    let bitsStar = 32;
    const summary: Record<string, Json> = {};

    if (sections.has('pruning')) {
      const rows: { scope: string; sparsity: number; value: number; loss: number }[] = [];
      for (const scope of opts.scopes) {
        for (const s of opts.sparsities) {
          const pruned = magnitudePrune(values, slots, s, scope);
          rows.push({ scope, sparsity: sparsityOf(pruned, slots), ...evalAt(pruned) });
          ctx.progress.tick();
        }
      }
      // Fine-tuning with the pruned weights held at zero, for each pruning scope (global and per layer).
      for (const scope of ftSparsities.length ? opts.scopes : []) {
        for (const s of ftSparsities) {
          const pruned = magnitudePrune(values, slots, s, scope);
          const mask = Float32Array.from(pruned, (v, i) => (v === 0 && slots.some((t) => i >= t.offset && i < t.offset + t.size) ? 0 : 1));
          const tuned = fineTuneMasked(model, task, pruned, mask, opts.fineTune, ctx.rng.split(`fine-tune:${scope}:${s}`));
          rows.push({ scope: `${scope}+fine-tune`, sparsity: sparsityOf(tuned, slots), ...evalAt(tuned) });
          ctx.progress.tick();
        }
      }
      result.pruning = rows;
      const within = (scope: string) => lastWithin(rows.filter((r) => r.scope === scope), (r) => r.sparsity, base.value, metric, tol, true);
      summary.maxSparsity = Object.fromEntries(
        [...opts.scopes, ...(ftSparsities.length ? opts.scopes.map((sc) => `${sc}+fine-tune`) : [])].map((sc) => [sc, within(sc)]),
      );
      sparsityStar = opts.scopes.includes('global') ? (within('global') ?? 0) : 0;
      figures.push(
        lineChart('compressibility-pruning', `${metric} against magnitude-pruning sparsity`, rows, { field: 'sparsity', title: 'sparsity (fraction of weights zeroed)' }, { field: 'value', title: metric }, 'scope'),
      );
    }

    if (sections.has('quantization')) {
      const rows = opts.bits.map((bits) => {
        const q = Float32Array.from(values);
        for (const s of slots) q.set(quantizeUniform(values.subarray(s.offset, s.offset + s.size), bits).values, s.offset);
        ctx.progress.tick();
        return { bits, maxAbsChange: maxAbsDiff(q, values), ...evalAt(q) };
      });
      result.quantization = rows;
      summary.minBits = lastWithin(rows, (r) => r.bits, base.value, metric, tol, false);
      bitsStar = (summary.minBits as number | null) ?? 32;
      figures.push(
        lineChart('compressibility-quantization', `${metric} against uniform per-tensor quantisation`, rows, { field: 'bits', title: 'bits per weight' }, { field: 'value', title: metric }),
      );
    }

    if (sections.has('low-rank')) {
      const layers: Json[] = [];
      const rows: { layer: string; rank: number; value: number; loss: number }[] = [];
      const minRank: Record<string, number | null> = {};
      for (const s of slots.filter((t) => t.shape.length >= 2)) {
        const r0 = s.shape[0];
        const c0 = s.size / r0;
        const full = Math.min(r0, c0);
        if (full < 2) continue;
        const svd = svdOf(values.subarray(s.offset, s.offset + s.size), r0, c0);
        const ranks = opts.ranks === 'auto' ? autoRanks(full) : [...new Set(opts.ranks.map((r) => Math.min(r, full)))].sort((a, b) => a - b);
        const layerRows = ranks.map((rank) => {
          const v = Float32Array.from(values);
          v.set(truncateRank(svd, r0, c0, rank), s.offset);
          return { layer: s.name, rank, ...evalAt(v) };
        });
        rows.push(...layerRows);
        minRank[s.name] = lastWithin(layerRows, (r) => r.rank, base.value, metric, tol, false);
        layers.push({ layer: s.name, shape: s.shape, fullRank: full, singularValues: svd.s, points: layerRows });
      }
      result.lowRank = layers;
      summary.minRank = minRank;
      figures.push(
        lineChart('compressibility-low-rank', `${metric} against the rank of one layer's truncated SVD (others intact)`, rows, { field: 'rank', title: 'rank' }, { field: 'value', title: metric }, 'layer'),
      );
    }
    ctx.progress.stop();

    // Description length: prune at the largest tolerated sparsity, quantise at the fewest tolerated bits.
    const combined = magnitudePrune(values, slots, sparsityStar, 'global');
    const codes: TensorCode[] = [];
    let offset = 0;
    for (const spec of model.specs) {
      const size = sizeOf(spec.shape);
      const slot = slots.find((s) => s.name === spec.name);
      let nonzero = size;
      if (slot) {
        const q = quantizeUniform(combined.subarray(offset, offset + size), bitsStar).values;
        combined.set(q, offset);
        nonzero = q.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
      }
      codes.push({ name: spec.name, size, nonzero, bits: slot ? bitsStar : 32 });
      offset += size;
    }
    const dl = descriptionLength(codes);
    const atCode = evalAt(combined);
    summary.descriptionLength = {
      bits: dl.bits,
      bitsPerParameter: dl.bits / model.paramCount,
      dense32Bits: 32 * model.paramCount,
      sparsity: sparsityStar,
      quantBits: bitsStar,
      value: atCode.value,
      loss: atCode.loss,
      withinTolerance: withinTolerance(metric, base.value, atCode.value, tol),
      perTensor: dl.perTensor,
    };
    result.summary = summary;

    return {
      result: result as Json,
      headline: compressibilityHeadline({
        metric,
        higherIsBetter: higherIsBetter(metric),
        split: opts.split,
        examples: evalSplit.n,
        tolerance: tol,
        base,
        sections,
        summary: summary as unknown as Parameters<typeof compressibilityHeadline>[0]['summary'],
      }),
      figures,
      provenance: {
        analysis: 'compressibility',
        version: VERSION,
        seed: ctx.seed,
        backend: ctx.backend,
        settings: opts as unknown as Json,
        samples: { split: opts.split, examples: evalSplit.n, fineTuneExamples: ftSparsities.length ? task.splits.train.n : 0 },
        metric,
        methods: {
          pruning: 'magnitude, smallest |w| first; global = one threshold over all included tensors, layer = same sparsity per tensor',
          fineTune: ftSparsities.length ? `${opts.fineTune.optimizer} lr=${opts.fineTune.lr}, ${opts.fineTune.epochs} epochs, mask re-applied after each step` : 'off',
          quantization: 'uniform symmetric per tensor, 2^(b-1)-1 levels each side, step max|w|/(2^(b-1)-1)',
          lowRank: 'truncated SVD of one layer at a time (ml-matrix, float64); others intact',
          descriptionLength: 'sum over tensors of log2 C(n, nnz) + nnz*bits + 32-bit step; uncompressed tensors at 32 bits',
        },
      },
    };
  } finally {
    tf.dispose([x, y]);
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The compressibility analysis plugin. */
export const compressibility = defineAnalysis({
  name: 'compressibility',
  apiVersion: API_VERSION,
  description: 'Metric against pruning sparsity (with/without fine-tuning), quantisation bits and per-layer rank; description length',
  options: compressibilityOptions,
  check: (options, ctx) => compressibilityIssues(options, ctx),
  run: (ctx, options) => analyzeCompressibility(ctx, options),
});
