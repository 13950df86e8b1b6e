import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { API_VERSION, checkParamNames, defineAnalysis, formatBytes, type AnalysisCheckContext, type OptionIssue, type AnalysisContext, type AnalysisResult, type Json, packageInfo } from '@goldstone/plugin-api';
import { evaluate } from '@goldstone/trainer';
import { paramsFromArray, paramsToArray, disposeParams, sizeOf, splitTensors } from '@goldstone/core';
import { analyzeTrajectory } from './analyze';
import { lossProfilesFigure, rankVarianceFigure, varianceFlatnessFigure } from './figures';
import { defaultSubset, recordTrajectory, recordingFor } from './recorder';
import { summarizeVarianceFlatness } from './summarize';

/** Published values (Feng & Tu, PNAS 2021, arXiv 2001.01678) the results are compared with. */
export const PUBLISHED = { psi: 4, gamma: [2, 3], topPcs: 35, topFraction: 0.9 } as const;

/** Options of the `variance-flatness` analysis (all have defaults; `{}` is valid). */
export const varianceFlatnessOptions = z
  .strictObject({
    /** Parameter tensors to record (default: the weight matrices between the first and the last). */
    params: z.array(z.string().min(1)).min(1).optional().describe('Parameter tensors to record (default: the weight matrices between the first and the last)'),
    /** The window: the last this many epochs of training. */
    windowEpochs: z.number().int().positive().default(10).describe('The window: the last this many epochs of training'),
    /** Record every this many SGD steps. */
    every: z.number().int().positive().default(2).describe('Record every this many SGD steps'),
    /** Measure the flatness of the top this many PCs. */
    components: z.number().int().min(3).default(50).describe('Measure the flatness of the top this many PCs'),
    /** Centre of the loss profiles: the trajectory mean ⟨w⟩ (published) or the final weights. */
    center: z.enum(['mean', 'final']).default('mean').describe('Centre of the loss profiles: the trajectory mean ⟨w⟩ (published) or the final weights'),
    /** Training examples in the loss L (default: the whole train split). */
    lossExamples: z.number().int().positive().optional().describe('Training examples in the loss L (default: the whole train split)'),
    /** Examples per forward pass when evaluating L. */
    lossBatchSize: z.number().int().positive().default(2000).describe('Examples per forward pass when evaluating L'),
    /** The flatness level as a multiple of L₀ (published: e). */
    thresholdFactor: z.number().gt(1).default(Math.E).describe('The flatness level as a multiple of L₀ (published: e)'),
    /** Leave PC1 (the drift along ⟨w⟩) out of the ψ fit and the variance fractions. */
    excludeFirst: z.boolean().default(true).describe('Leave PC1 (the drift along ⟨w⟩) out of the ψ fit and the variance fractions'),
    /** γ of σᵢ² ∝ i^(−γ) is fitted over ranks gammaFrom … gammaTo. */
    gammaFrom: z.number().int().positive().default(20).describe('First rank of the fit of γ in σᵢ² ∝ i^(−γ)'),
    gammaTo: z.number().int().positive().default(500).describe('Last rank of the fit of γ in σᵢ² ∝ i^(−γ) (at least gammaFrom + 2)'),
    /** The variance fraction is reported for the top this many PCs. */
    topK: z.number().int().positive().default(35).describe('The variance fraction is reported for the top this many PCs'),
    /** PCs whose loss profile is drawn, and at how many points. */
    profileComponents: z.array(z.number().int().positive()).default([2, 5, 10, 20]).describe('PCs whose loss profile is drawn'),
    profilePoints: z.number().int().min(3).default(21).describe('Points per loss profile'),
    /** Root-finding: largest distance searched along a PC, relative tolerance of the roots. */
    maxDistance: z.number().positive().default(100).describe('Root-finding: largest distance searched along a PC'),
    relTol: z.number().positive().lt(1).default(1e-3).describe('Root-finding: relative tolerance of the roots'),
    /** Dense eigenproblem: T×T Gram matrix or N×N covariance (auto: the smaller). */
    pcaMethod: z.enum(['auto', 'gram', 'covariance']).default('auto').describe('Dense eigenproblem: T×T Gram matrix or N×N covariance (auto: the smaller)'),
    /** Confidence level of the intervals on ψ and γ. */
    level: z.number().gt(0).lt(1).default(0.95).describe('Confidence level of the intervals on ψ and γ'),
  })
  .superRefine((o, ctx) => {
    if (o.gammaTo < o.gammaFrom + 2) ctx.addIssue({ code: 'custom', path: ['gammaTo'], message: `gammaTo must be at least gammaFrom + 2 (${o.gammaFrom + 2})` });
  });

export type VarianceFlatnessOptions = z.output<typeof varianceFlatnessOptions>;

/**
 * The `check` hook: the parameters named exist, the window fits in the training and holds at
 * least three snapshots, and the recorded trajectory (float32 snapshots, then the float64 PCA)
 * fits in memory.
 */
export function varianceFlatnessIssues(o: VarianceFlatnessOptions, { task, model, train, memoryLimit }: AnalysisCheckContext): OptionIssue[] {
  const issues = checkParamNames(model, 'params', o.params);
  if (issues.length) return issues;
  if (o.windowEpochs > train.epochs) {
    return [{ field: 'windowEpochs', message: `a window of the last ${o.windowEpochs} epochs is longer than the training (train.epochs: ${train.epochs}); use at most ${train.epochs}` }];
  }
  const stepsPerEpoch = Math.ceil(task.splits.train.n / train.batchSize);
  const snapshots = Math.ceil((o.windowEpochs * stepsPerEpoch) / o.every);
  if (snapshots < 3) {
    return [{ field: 'every', message: `recording every ${o.every} steps of the last ${o.windowEpochs} epochs (${stepsPerEpoch} steps each) gives ${snapshots} snapshots; at least 3 are needed: lower every or widen the window` }];
  }
  const names = o.params ?? defaultSubset(model.specs);
  const size = model.specs.filter((s) => names.includes(s.name)).reduce((a, s) => a + sizeOf(s.shape), 0);
  const bytes = 4 * snapshots * size + 8 * snapshots * size + 8 * Math.min(snapshots, size) ** 2;
  if (bytes > memoryLimit) {
    return [{ field: 'every', message: `${snapshots} snapshots of ${size} parameters and their PCA would take ~${formatBytes(bytes)}, more than the memory limit of ${formatBytes(memoryLimit)}; raise every, shorten windowEpochs or record fewer params` }];
  }
  return [];
}

/**
 * Full-training-set loss as a function of the recorded subset, the other parameters fixed at
 * `params`: the returned function copies the subset into a host copy of the flat vector and
 * evaluates the mean loss over the examples in batches.
 */
function subsetLoss(ctx: AnalysisContext, rec: { offsets: number[]; sizes: number[] }, o: VarianceFlatnessOptions) {
  const flat = paramsToArray(ctx.params, ctx.model.specs);
  const split = ctx.task.splits.train;
  const n = Math.min(o.lossExamples ?? split.n, split.n);
  const chunks: { x: tf.Tensor; y: tf.Tensor; n: number }[] = [];
  for (let start = 0; start < n; start += o.lossBatchSize) {
    const idx = Int32Array.from({ length: Math.min(o.lossBatchSize, n - start) }, (_, i) => start + i);
    chunks.push({ ...splitTensors(split, idx), n: idx.length });
  }
  const lossAt = (w: Float64Array): number => {
    let at = 0;
    rec.offsets.forEach((off, i) => {
      for (let k = 0; k < rec.sizes[i]; k++) flat[off + k] = w[at + k];
      at += rec.sizes[i];
    });
    const params = paramsFromArray(flat, ctx.model.specs);
    try {
      let total = 0;
      for (const c of chunks) {
        const l = ctx.loss(params, c.x, c.y);
        total += (l.dataSync() as Float32Array)[0] * c.n;
        l.dispose();
      }
      return total / n;
    } finally {
      disposeParams(params);
    }
  };
  const dispose = () => chunks.forEach((c) => tf.dispose([c.x, c.y]));
  return { lossAt, dispose, n };
}

/**
 * The inverse variance–flatness relation of SGD (science.md §2): records a parameter subset during
 * the last epochs of training (through train hooks), then PCA of that trajectory, flatness of the
 * full-training-set loss along each PC at e·L₀ by root-finding, and the exponent ψ of σᵢ² ∝ Fᵢ^(−ψ).
 */
export const varianceFlatness = defineAnalysis({
  name: 'variance-flatness',
  apiVersion: API_VERSION,
  description: 'PCA of the SGD trajectory, flatness along each PC, and the exponent ψ of variance ∝ flatness^(−ψ).',
  options: varianceFlatnessOptions,
  check: (options, ctx) => varianceFlatnessIssues(options, ctx),
  trainHooks(options, { model }) {
    const o = varianceFlatnessOptions.parse(options);
    return recordTrajectory(model, { params: o.params, every: o.every, windowEpochs: o.windowEpochs });
  },
  async run(ctx, options): Promise<AnalysisResult> {
    const o = varianceFlatnessOptions.parse(options);
    const rec = recordingFor(ctx.model);
    if (!rec || rec.snapshots.length === 0) {
      throw new Error(
        'variance-flatness: no trajectory was recorded for this model. The analysis records the SGD trajectory through its train hooks while the model trains, so it must be listed in the experiment that trains it (goldstone run); it cannot analyse a finished run (goldstone analyze).',
      );
    }
    if (rec.snapshots.length < 3) throw new Error(`variance-flatness: only ${rec.snapshots.length} snapshots were recorded (need at least 3): lower "every" or train longer`);
    const snaps = rec.snapshots.map((s) => s.values);
    let center: Float64Array | undefined;
    if (o.center === 'final') {
      const flat = paramsToArray(ctx.params, ctx.model.specs);
      center = new Float64Array(rec.size);
      let at = 0;
      rec.offsets.forEach((off, i) => {
        for (let k = 0; k < rec.sizes[i]; k++) center![at + k] = flat[off + k];
        at += rec.sizes[i];
      });
    }
    const { lossAt, dispose, n } = subsetLoss(ctx, rec, o);
    let r;
    ctx.progress.start('variance-flatness', Math.min(o.components, snaps.length));
    try {
      r = analyzeTrajectory(snaps, lossAt, {
        center,
        components: o.components,
        thresholdFactor: o.thresholdFactor,
        excludeFirst: o.excludeFirst,
        gammaFrom: o.gammaFrom,
        gammaTo: o.gammaTo,
        topK: o.topK,
        profileComponents: o.profileComponents,
        profilePoints: o.profilePoints,
        maxDistance: o.maxDistance,
        relTol: o.relTol,
        pcaMethod: o.pcaMethod,
        level: o.level,
        onComponent: () => ctx.progress.tick(1),
      });
    } finally {
      ctx.progress.stop();
      dispose();
    }
    const finalMetrics = evaluate(ctx.model, ctx.task, ctx.params);
    const first = rec.snapshots[0];
    const last = rec.snapshots[rec.snapshots.length - 1];
    const excluded = o.excludeFirst ? [1] : [];
    const measured = r.components.filter((c) => c.flatness !== null).length;
    const result = {
      subset: { params: rec.names, size: rec.size },
      window: { fromEpoch: first.epoch + 1, toEpoch: last.epoch + 1, firstStep: first.step, lastStep: last.step, every: rec.every, snapshots: snaps.length },
      center: o.center,
      L0: r.L0,
      threshold: r.threshold,
      psi: r.psi,
      ...(r.psiNote ? { psiNote: r.psiNote } : {}),
      psiExcludesZero: r.psi ? r.psi.ci[0] > 0 || r.psi.ci[1] < 0 : false,
      gamma: r.gamma,
      fractions: r.fractions,
      drift: r.drift,
      flatnessMeasured: measured,
      flatnessMissing: r.components.length - measured,
      components: r.components,
      spectrum: r.spectrum.slice(0, 1000),
      pca: r.pca,
      final: finalMetrics,
      published: { psi: PUBLISHED.psi, gamma: [...PUBLISHED.gamma], topPcs: PUBLISHED.topPcs, topFraction: PUBLISHED.topFraction },
    };
    return {
      result: JSON.parse(JSON.stringify(result)) as Json,
      figures: [varianceFlatnessFigure(r, excluded), rankVarianceFigure(r), lossProfilesFigure(r)],
      provenance: {
        analysis: 'variance-flatness',
        version: packageInfo(import.meta.url).version,
        seed: ctx.seed,
        backend: ctx.backend,
        pca: `${r.pca.method} matrix, symmetric eigendecomposition in float64 (Householder + implicit QL, @goldstone/curvature), T = ${r.pca.snapshots}, N = ${r.pca.dimension}`,
        flatness: `Fᵢ = θᵢʳ − θᵢˡ where L(w₀ + θpᵢ) = ${o.thresholdFactor === Math.E ? 'e' : o.thresholdFactor}·L₀; doubling bracket from σᵢ, then Brent to relative tolerance ${o.relTol}; no crossing within ${o.maxDistance} is reported as missing`,
        loss: `mean ${ctx.task.loss} over ${n} training examples`,
        fit: `ψ = −slope of ln σᵢ² on ln Fᵢ, ordinary least squares, ${Math.round(o.level * 100)} % Student-t interval; PCs ${excluded.length ? 'except PC1 ' : ''}with both sides found`,
        lossEvaluations: r.evaluations,
        stepsSeen: rec.steps,
      },
    };
  },
  summarize(results, options) {
    return summarizeVarianceFlatness(results, varianceFlatnessOptions.parse(options ?? {}));
  },
});
