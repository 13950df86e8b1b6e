import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { API_VERSION, checkParamNames, defineAnalysis, formatBytes, type AnalysisCheckContext, type OptionIssue, type AnalysisContext, type AnalysisResult, type Json, packageInfo } from '@goldstone/plugin-api';
import { evaluate } from '@goldstone/trainer';
import { paramsFromArray, disposeParams, sizeOf, splitTensors } from '@goldstone/core';
import { analyzePca, type PsiFits, type VarianceFlatness } from './analyze';
import { SLOPE_ESTIMATORS } from './fit';
import { convergenceFigure, lossProfilesFigure, psiByFitToFigure, rankVarianceFigure, varianceFlatnessFigure } from './figures';
import { defaultSubset, recordTrajectory, recordingFor, type WindowRecording, type WindowSpec } from './recorder';
import { summarizeVarianceFlatness } from './summarize';
import { varianceFlatnessHeadline } from './headline';
import { PUBLISHED } from './published';

export { PUBLISHED } from './published';

const positive = z.number().positive();

/** Options of the `variance-flatness` analysis (all have defaults; `{}` is valid). */
export const varianceFlatnessOptions = z
  .strictObject({
    /** Parameter tensors to record (default: the weight matrices between the first and the last). */
    params: z.array(z.string().min(1)).min(1).optional().describe('Parameter tensors to record (default: the weight matrices between the first and the last)'),
    /** Legacy window: the last this many epochs of training (default 10 when no learning-time window is given). */
    windowEpochs: z.number().int().positive().optional().describe('Legacy window: the last this many epochs of training (default 10 when windowLength is not given)'),
    /** The run's learning rate α, which places windows in learning time t = α·steps (default: train.lr; if given, must equal it). */
    lr: positive.optional().describe("The run's learning rate α (default: train.lr; if given it must equal train.lr): windows are placed in learning time t = α·steps"),
    /** Window length in learning time t = α·steps. */
    windowLength: positive.optional().describe('Window length in learning time t = α·steps (switches to learning-time windows)'),
    /** Learning time at which the reported window ends (default: the largest of windowEnds, else the end of training). */
    windowEnd: positive.optional().describe('Learning time t at which the reported window ends (default: the largest of windowEnds, else the end of training)'),
    /** Several window ends (learning time) for the convergence scan: ψ and r² at each. */
    windowEnds: z.array(positive).min(1).optional().describe('Window ends in learning time for the convergence scan (ψ and r² at each)'),
    /** Record every this many SGD steps. */
    every: z.number().int().positive().default(2).describe('Record every this many SGD steps'),
    /** Measure the flatness of the top this many PCs. */
    components: z.number().int().min(3).default(50).describe('Measure the flatness of the top this many PCs'),
    /** Centre of the loss profiles: every parameter at its window mean (published ⟨w⟩) or at the window's last values. */
    center: z.enum(['mean', 'final']).default('mean').describe("Centre of the loss profiles: every parameter at its window mean ⟨w⟩ (published) or at the window's last values"),
    /** Training examples in the loss L (default: the whole train split). */
    lossExamples: z.number().int().positive().optional().describe('Training examples in the loss L (default: the whole train split)'),
    /** Examples per forward pass when evaluating L. */
    lossBatchSize: z.number().int().positive().default(2000).describe('Examples per forward pass when evaluating L'),
    /** The flatness level as a multiple of L₀ (published: e). */
    thresholdFactor: z.number().gt(1).default(Math.E).describe('The flatness level as a multiple of L₀ (published: e)'),
    /** Leave PC1 (the drift along ⟨w⟩) out of the ψ fit and the variance fractions. */
    excludeFirst: z.boolean().default(true).describe('Leave PC1 (the drift along ⟨w⟩) out of the ψ fit and the variance fractions'),
    /** ψ is fitted over PC ranks fitFrom … fitTo, fixed in advance. */
    fitFrom: z.number().int().positive().default(2).describe('First PC rank of the ψ fit (PC1 is excluded anyway with excludeFirst)'),
    fitTo: z.number().int().positive().default(50).describe('Last PC rank of the ψ fit (clipped to components)'),
    /** ψ against the number of PCs used: the fit repeated with fitTo set to each of these. */
    fitToScan: z.array(z.number().int().positive()).default([10, 15, 20, 25, 30, 40, 50]).describe('fitTo values of the figure ψ against the number of PCs used'),
    /** Bootstrap resamples over PCs (percentile intervals, seeded by the run's seed). */
    bootstrap: z.number().int().min(1000).default(2000).describe("Bootstrap resamples over PCs for the intervals on ψ (at least 1000; seeded by the run's seed)"),
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
    if (o.fitTo < o.fitFrom + 2) ctx.addIssue({ code: 'custom', path: ['fitTo'], message: `fitTo must be at least fitFrom + 2 (${o.fitFrom + 2})` });
    const timed = o.windowLength !== undefined || o.windowEnd !== undefined || o.windowEnds !== undefined;
    if (timed && o.windowEpochs !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['windowEpochs'], message: 'windowEpochs (the last epochs of training) cannot be combined with learning-time windows (windowLength, windowEnd, windowEnds); give the length as windowLength = α·steps instead' });
    }
    if (timed && o.windowLength === undefined) {
      ctx.addIssue({ code: 'custom', path: ['windowLength'], message: 'learning-time windows need a length in learning time (α·steps), e.g. 10 epochs × α × steps per epoch' });
    }
  });

export type VarianceFlatnessOptions = z.output<typeof varianceFlatnessOptions>;

/** One planned window in steps, and where it sits in learning time when it was placed that way. */
export interface PlannedWindow {
  spec: WindowSpec;
  /** Learning time t = α·step of the window's end and its length, when placed by learning time. */
  endTime?: number;
  length?: number;
}

/** What the options' defaults are resolved against: the run's training settings. */
export interface RunSettings {
  lr?: number;
  epochs?: number;
  batchSize?: number;
  /** Examples in the train split. */
  trainN?: number;
}

/**
 * The options with the run's settings filled in: `lr` from the run's learning rate (`train.lr`)
 * when not given, and, for learning-time windows given only a `windowLength`, the window ending
 * at the end of training (t = α · epochs · ⌈n/B⌉). Options that name them keep their values (the
 * check reports an `lr` that differs from the run's).
 */
export function withRunSettings(o: VarianceFlatnessOptions, run: RunSettings): VarianceFlatnessOptions {
  if (o.windowLength === undefined) return o;
  const lr = o.lr ?? run.lr;
  if (lr === undefined) return o;
  const out = { ...o, lr };
  if (o.windowEnd === undefined && o.windowEnds === undefined && run.epochs !== undefined && run.batchSize !== undefined && run.trainN !== undefined) {
    out.windowEnd = +(lr * run.epochs * Math.ceil(run.trainN / run.batchSize)).toPrecision(12);
  }
  return out;
}

/**
 * The windows of the options in SGD steps. Learning-time windows (`lr`, `windowLength`, `windowEnd`
 * or `windowEnds`): the steps s with t_end − length < α·s ≤ t_end, i.e. steps
 * round(t_end/α) − round(length/α) + 1 … round(t_end/α), for each end in increasing order, the
 * reported one (`windowEnd`, default the largest) included; `main` is its index. Otherwise one
 * trailing window of the last `windowEpochs` (default 10) epochs.
 */
export function planWindows(o: VarianceFlatnessOptions): { windows: PlannedWindow[]; main: number; mode: 'learning-time' | 'epochs' } {
  if (o.lr !== undefined && o.windowLength !== undefined && (o.windowEnd !== undefined || o.windowEnds !== undefined)) {
    const ends = [...new Set([...(o.windowEnds ?? []), ...(o.windowEnd !== undefined ? [o.windowEnd] : [])])].sort((a, b) => a - b);
    const mainEnd = o.windowEnd ?? ends[ends.length - 1];
    const lengthSteps = Math.max(1, Math.round(o.windowLength / o.lr));
    const windows = ends.map((end): PlannedWindow => {
      const toStep = Math.round(end / o.lr!);
      return { spec: { kind: 'steps', fromStep: toStep - lengthSteps + 1, toStep, endTime: end, length: o.windowLength }, endTime: end, length: o.windowLength };
    });
    return { windows, main: ends.indexOf(mainEnd), mode: 'learning-time' };
  }
  return { windows: [{ spec: { kind: 'trailing', epochs: o.windowEpochs ?? 10 } }], main: 0, mode: 'epochs' };
}

/**
 * The `check` hook: the parameters named exist; `lr` equals the experiment's learning rate; every
 * window lies inside the training and holds at least three snapshots; and the recording fits in
 * memory: the snapshots of the windows in flight at once (float32) with the PCA of one (float64 copy
 * and Gram matrix), plus what each closed window keeps (its top PCs, spectrum and the mean and last
 * value of every parameter).
 */
export function varianceFlatnessIssues(given: VarianceFlatnessOptions, { task, model, train, memoryLimit }: AnalysisCheckContext): OptionIssue[] {
  const issues = checkParamNames(model, 'params', given.params);
  if (issues.length) return issues;
  const stepsPerEpoch = Math.ceil(task.splits.train.n / train.batchSize);
  const totalSteps = train.epochs * stepsPerEpoch;
  // The experiment's train: section is passed whole; its lr is read where present.
  const trainLr = typeof (train as { lr?: unknown }).lr === 'number' ? (train as { lr: number }).lr : undefined;
  if (given.lr !== undefined && trainLr !== undefined && Math.abs(given.lr - trainLr) > 1e-12 * Math.max(1, trainLr)) {
    return [{ field: 'lr', message: `lr places the windows in learning time and must equal the run's learning rate (train.lr: ${trainLr}); found ${given.lr} (leave lr out to use the run's)` }];
  }
  const o = withRunSettings(given, { lr: trainLr, epochs: train.epochs, batchSize: train.batchSize, trainN: task.splits.train.n });
  if (o.windowLength !== undefined && o.lr === undefined) {
    return [{ field: 'lr', message: "learning-time windows need the run's learning rate, and the experiment's train.lr could not be read (per-group rates?): set lr" }];
  }
  const plan = planWindows(o);
  const counts: number[] = [];
  const spans: [number, number][] = [];
  if (plan.mode === 'epochs') {
    const epochs = o.windowEpochs ?? 10;
    if (epochs > train.epochs) {
      return [{ field: 'windowEpochs', message: `a window of the last ${epochs} epochs is longer than the training (train.epochs: ${train.epochs}); use at most ${train.epochs}` }];
    }
    const snapshots = Math.ceil((epochs * stepsPerEpoch) / o.every);
    if (snapshots < 3) {
      return [{ field: 'every', message: `recording every ${o.every} steps of the last ${epochs} epochs (${stepsPerEpoch} steps each) gives ${snapshots} snapshots; at least 3 are needed: lower every or widen the window` }];
    }
    counts.push(snapshots);
    spans.push([totalSteps - epochs * stepsPerEpoch + 1, totalSteps]);
  } else {
    const lr = o.lr!;
    const endT = +(lr * totalSteps).toPrecision(12);
    const field = o.windowEnds ? 'windowEnds' : 'windowEnd';
    for (const w of plan.windows) {
      const spec = w.spec as Extract<WindowSpec, { kind: 'steps' }>;
      if (spec.toStep > totalSteps) {
        return [{ field, message: `a window ending at learning time t = ${w.endTime} (step ${spec.toStep}) ends after the training (t = α·steps = ${lr}·${totalSteps} = ${endT}); use at most ${endT}` }];
      }
      if (spec.fromStep < 1) {
        return [{ field: 'windowLength', message: `a window of length ${w.length} ending at t = ${w.endTime} would start before training (at step ${spec.fromStep}); shorten windowLength or move the end after t = ${o.windowLength}` }];
      }
      const snapshots = Math.floor(spec.toStep / o.every) - Math.floor((spec.fromStep - 1) / o.every);
      if (snapshots < 3) {
        return [{ field: 'every', message: `recording every ${o.every} steps of a window of ${spec.toStep - spec.fromStep + 1} steps (t = ${w.endTime! - w.length!} … ${w.endTime}) gives ${snapshots} snapshots; at least 3 are needed: lower every or lengthen windowLength` }];
      }
      counts.push(snapshots);
      spans.push([spec.fromStep, spec.toStep]);
    }
  }
  const names = o.params ?? defaultSubset(model.specs);
  const size = model.specs.filter((s) => names.includes(s.name)).reduce((a, s) => a + sizeOf(s.shape), 0);
  const total = model.specs.reduce((a, s) => a + sizeOf(s.shape), 0);
  // in flight at once: the windows overlapping the busiest step
  let inFlight = 0;
  for (const [from] of spans) inFlight = Math.max(inFlight, spans.reduce((a, [f, t], i) => (f <= from && from <= t ? a + counts[i] : a), 0));
  const T = Math.max(...counts);
  const kept = plan.windows.length * (8 * Math.max(o.components, 5) * size + 8 * Math.min(T, size) + 8 * 2 * size + 12 * total);
  const bytes = 4 * inFlight * size + 8 * T * size + 8 * Math.min(T, size) ** 2 + kept;
  if (bytes > memoryLimit) {
    return [{ field: 'every', message: `${inFlight} snapshots in flight of ${size} parameters, the PCA of ${T} and what ${plan.windows.length} windows keep would take ~${formatBytes(bytes)}, more than the memory limit of ${formatBytes(memoryLimit)}; raise every, shorten the windows or record fewer params` }];
  }
  return [];
}

/**
 * Full-training-set loss as a function of the recorded subset, the other parameters fixed at a
 * given flat vector: `lossAt(base)` returns a function that copies the subset into a copy of `base`
 * and evaluates the mean loss over the examples in batches (the batches are built once).
 */
function subsetLoss(ctx: AnalysisContext, rec: { offsets: number[]; sizes: number[] }, o: VarianceFlatnessOptions) {
  const split = ctx.task.splits.train;
  const n = Math.min(o.lossExamples ?? split.n, split.n);
  const chunks: { x: tf.Tensor; y: tf.Tensor; n: number }[] = [];
  for (let start = 0; start < n; start += o.lossBatchSize) {
    const idx = Int32Array.from({ length: Math.min(o.lossBatchSize, n - start) }, (_, i) => start + i);
    chunks.push({ ...splitTensors(split, idx), n: idx.length });
  }
  const lossAt = (base: ArrayLike<number>) => {
    const flat = Float32Array.from(base);
    return (w: Float64Array): number => {
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
  };
  const dispose = () => chunks.forEach((c) => tf.dispose([c.x, c.y]));
  return { lossAt, dispose, n };
}

/** One window's place and fits, as reported in `windows` and the convergence figure. */
export interface WindowFits {
  index: number;
  /** Learning time of the window's end and start (α·step; null for an epoch window without lr). */
  endTime: number | null;
  fromTime: number | null;
  fromStep: number;
  toStep: number;
  fromEpoch: number;
  toEpoch: number;
  snapshots: number;
  L0: number;
  fits: PsiFits | null;
}

/**
 * The stabilisation rule of the convergence scan: ψ has stabilised at window k (in order of window
 * end) when, for every pair of successive windows from k on, each window's point estimate lies
 * inside the other's bootstrap interval, for all three fits (OLS, reverse, RMA), and at least one
 * later window exists. The earliest such k is reported, or null (not stabilised in the scan).
 */
export const STABILISATION_RULE =
  'the earliest window k (by window end) such that for every pair of successive windows from k on, each point estimate of ψ lies inside the other window’s bootstrap interval, for all three fits, with at least one later window';

export function stabilisedWindow(windows: readonly Pick<WindowFits, 'fits'>[]): number | null {
  const agree = (a: PsiFits | null, b: PsiFits | null) =>
    !!a && !!b && SLOPE_ESTIMATORS.every((e) => a[e].value >= b[e].ci[0] && a[e].value <= b[e].ci[1] && b[e].value >= a[e].ci[0] && b[e].value <= a[e].ci[1]);
  let k: number | null = null;
  for (let j = windows.length - 2; j >= 0; j--) {
    if (agree(windows[j].fits, windows[j + 1].fits)) k = j;
    else break;
  }
  return k;
}

/** The run's batch size and learning rate from run.json's config.train, where there is a store. */
async function runTrain(ctx: AnalysisContext): Promise<{ lr?: number; batchSize?: number; epochs?: number }> {
  if (!ctx.store) return {};
  try {
    const run = await ctx.store.readRun();
    const t = (run.config as Record<string, unknown> | undefined)?.train as Record<string, unknown> | undefined;
    const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
    return { lr: num(t?.lr), batchSize: num(t?.batchSize), epochs: num(t?.epochs) };
  } catch {
    return {};
  }
}

/**
 * The inverse variance–flatness relation of SGD (docs/variance-flatness.md): records a parameter subset in one
 * or several windows placed in learning time t = α·steps (or the last epochs of training), then for
 * each window PCA of that trajectory, flatness of the full-training-set loss along each PC at e·L₀ by
 * root-finding, and the exponent ψ of σᵢ² ∝ Fᵢ^(−ψ) by OLS, reverse regression and reduced major
 * axis with bootstrap intervals over PCs.
 */
export const varianceFlatness = defineAnalysis({
  name: 'variance-flatness',
  apiVersion: API_VERSION,
  description: 'PCA of the SGD trajectory, flatness along each PC, and the exponent ψ of variance ∝ flatness^(−ψ).',
  options: varianceFlatnessOptions,
  check: (options, ctx) => varianceFlatnessIssues(options, ctx),
  trainHooks(options, { model, task, train }) {
    const o = withRunSettings(varianceFlatnessOptions.parse(options), { lr: train?.lr, epochs: train?.epochs, batchSize: train?.batchSize, trainN: task.splits.train.n });
    return recordTrajectory(model, { params: o.params, every: o.every, windows: planWindows(o).windows.map((w) => w.spec), components: o.components, pcaMethod: o.pcaMethod });
  },
  async run(ctx, options): Promise<AnalysisResult> {
    const given = varianceFlatnessOptions.parse(options);
    const train = await runTrain(ctx);
    const o = withRunSettings(given, { ...train, trainN: ctx.task.splits.train.n });
    const rec = recordingFor(ctx.model);
    if (!rec || rec.windows.every((w) => w.count === 0)) {
      throw new Error(
        'variance-flatness: no trajectory was recorded for this model. The analysis records the SGD trajectory through its train hooks while the model trains, so it must be listed in the experiment that trains it (goldstone run); it cannot analyse a finished run (goldstone analyze).',
      );
    }
    const plan = planWindows(o);
    const mainRec = rec.windows[plan.main];
    if (!mainRec || mainRec.count < 3 || !mainRec.pca) throw new Error(`variance-flatness: only ${mainRec?.count ?? 0} snapshots were recorded in the reported window (need at least 3): lower "every" or train longer`);
    if (o.lr !== undefined && train.lr !== undefined && Math.abs(train.lr - o.lr) > 1e-12 * Math.max(1, o.lr)) {
      throw new Error(`variance-flatness: the option lr (${o.lr}) differs from the run's learning rate (train.lr: ${train.lr}); learning time would be wrong`);
    }
    const seed = ctx.seed;
    const { lossAt, dispose, n } = subsetLoss(ctx, rec, o);
    const analysed: { w: WindowRecording; r: VarianceFlatness }[] = [];
    const usable = rec.windows.filter((w) => w.pca && w.count >= 3);
    ctx.progress.start('variance-flatness', usable.length * Math.min(o.components, mainRec.count));
    try {
      for (const w of rec.windows) {
        if (!w.pca || w.count < 3) continue;
        // center: mean — every parameter at its window mean; final — every parameter at the window's last snapshot
        const base = o.center === 'mean' ? w.mean! : w.lastFull!;
        const center = o.center === 'mean' ? undefined : Float64Array.from(w.last!);
        const r = analyzePca(w.pca, { first: w.first!, last: w.last! }, lossAt(base), {
          center,
          components: o.components,
          thresholdFactor: o.thresholdFactor,
          excludeFirst: o.excludeFirst,
          fitFrom: o.fitFrom,
          fitTo: o.fitTo,
          fitToScan: o.fitToScan,
          bootstrap: o.bootstrap,
          seed,
          gammaFrom: o.gammaFrom,
          gammaTo: o.gammaTo,
          topK: o.topK,
          profileComponents: w === mainRec ? o.profileComponents : [],
          profilePoints: o.profilePoints,
          maxDistance: o.maxDistance,
          relTol: o.relTol,
          pcaMethod: o.pcaMethod,
          level: o.level,
          onComponent: () => ctx.progress.tick(1),
        });
        analysed.push({ w, r });
      }
    } finally {
      ctx.progress.stop();
      dispose();
    }
    const lr = o.lr ?? train.lr;
    const time = (step: number) => (lr !== undefined ? +(lr * step).toPrecision(12) : null);
    const windows: WindowFits[] = analysed.map(({ w, r }, index) => ({
      index,
      endTime: time(w.spec.kind === 'steps' ? w.spec.toStep : w.lastStep),
      fromTime: time(w.spec.kind === 'steps' ? w.spec.fromStep - 1 : w.firstStep - 1),
      fromStep: w.firstStep,
      toStep: w.lastStep,
      fromEpoch: w.firstEpoch + 1,
      toEpoch: w.lastEpoch + 1,
      snapshots: w.count,
      L0: r.L0,
      fits: r.fits,
    }));
    const main = analysed.findIndex(({ w }) => w === mainRec);
    const r = analysed[main].r;
    const k = stabilisedWindow(windows);
    const convergence = {
      rule: STABILISATION_RULE,
      windows: windows.length,
      stabilisedAt: k === null ? null : windows[k].endTime,
      stabilisedIndex: k,
      psi: k === null ? null : { ols: windows[k].fits!.ols, reverse: windows[k].fits!.reverse, rma: windows[k].fits!.rma, r2: windows[k].fits!.r2 },
    };
    const finalMetrics = evaluate(ctx.model, ctx.task, ctx.params);
    const excluded = o.excludeFirst ? [1] : [];
    const measured = r.components.filter((c) => c.flatness !== null).length;
    const mw = windows[main];
    const result = {
      subset: { params: rec.names, size: rec.size },
      window: { fromEpoch: mw.fromEpoch, toEpoch: mw.toEpoch, firstStep: mw.fromStep, lastStep: mw.toStep, every: rec.every, snapshots: mw.snapshots, endTime: mw.endTime, fromTime: mw.fromTime, placement: plan.mode },
      setting: { lr: lr ?? null, batchSize: train.batchSize ?? null, trainSize: ctx.task.splits.train.n, endTime: mw.endTime },
      center: o.center,
      L0: r.L0,
      threshold: r.threshold,
      psi: r.psi,
      ...(r.psiNote ? { psiNote: r.psiNote } : {}),
      psiExcludesZero: r.psi ? r.psi.ci[0] > 0 || r.psi.ci[1] < 0 : false,
      fits: r.fits,
      psiByFitTo: r.psiByFitTo,
      windows,
      convergence,
      gamma: r.gamma,
      fractions: r.fractions,
      drift: r.drift,
      flatnessMeasured: measured,
      flatnessMissing: r.components.length - measured,
      components: r.components,
      spectrum: r.spectrum.slice(0, 1000),
      pca: r.pca,
      final: finalMetrics,
      published: {
        psi: PUBLISHED.psi,
        gamma: [...PUBLISHED.gamma],
        topPcs: PUBLISHED.topPcs,
        topFraction: PUBLISHED.topFraction,
        setting: PUBLISHED.setting,
        // this run against the published ψ ≈ 4: by each fit, the difference and whether its bootstrap interval covers 4
        psiMinusPublished: r.fits ? Object.fromEntries(SLOPE_ESTIMATORS.map((e) => [e, r.fits![e].value - PUBLISHED.psi])) : null,
        intervalCoversPublished: r.fits ? Object.fromEntries(SLOPE_ESTIMATORS.map((e) => [e, r.fits![e].ci[0] <= PUBLISHED.psi && PUBLISHED.psi <= r.fits![e].ci[1]])) : null,
      },
    };
    const evaluations = analysed.reduce((a, x) => a + x.r.evaluations, 0);
    return {
      result: JSON.parse(JSON.stringify(result)) as Json,
      headline: varianceFlatnessHeadline(r),
      figures: [varianceFlatnessFigure(r, excluded), convergenceFigure(windows), psiByFitToFigure(r.psiByFitTo), rankVarianceFigure(r), lossProfilesFigure(r)],
      provenance: {
        analysis: 'variance-flatness',
        version: packageInfo(import.meta.url).version,
        seed: ctx.seed,
        backend: ctx.backend,
        windows:
          plan.mode === 'learning-time'
            ? `placed in learning time t = α·steps with α = ${o.lr}: length ${o.windowLength}, ends ${plan.windows.map((w) => w.endTime).join(', ')} (reported: ${plan.windows[plan.main].endTime}); a snapshot every ${o.every} steps`
            : `the last ${o.windowEpochs ?? 10} epochs of training (legacy epoch window); a snapshot every ${o.every} steps`,
        center:
          o.center === 'mean'
            ? 'mean: every parameter (all layers, not only the recorded subset) at its mean over the window’s snapshot steps; the profiles run along the PCs of the subset from there'
            : 'final: every parameter at its value at the window’s last snapshot step',
        pca: `${r.pca.method} matrix, symmetric eigendecomposition in float64 (Householder + implicit QL, @goldstone/curvature), T = ${r.pca.snapshots}, N = ${r.pca.dimension}`,
        flatness: `Fᵢ = θᵢʳ − θᵢˡ where L(w₀ + θpᵢ) = ${o.thresholdFactor === Math.E ? 'e' : o.thresholdFactor}·L₀; doubling bracket from σᵢ, then Brent to relative tolerance ${o.relTol}; no crossing within ${o.maxDistance} is reported as missing`,
        loss: `mean ${ctx.task.loss} over ${n} training examples`,
        fit: `ψ over PC ranks ${Math.max(o.fitFrom, o.excludeFirst ? 2 : 1)}…${Math.min(o.fitTo, o.components)} (fixed in advance; PCs with both sides found): OLS of ln σᵢ² on ln Fᵢ (ψ = −slope; \`psi\` also has its ${Math.round(o.level * 100)} % Student-t interval), reverse regression of ln Fᵢ on ln σᵢ² inverted, and reduced major axis; ${Math.round(o.level * 100)} % percentile bootstrap intervals over PCs, ${o.bootstrap} resamples seeded by the run's seed (${seed})`,
        convergence: STABILISATION_RULE,
        lossEvaluations: evaluations,
        stepsSeen: rec.steps,
      },
    };
  },
  summarize(results, options) {
    return summarizeVarianceFlatness(results, varianceFlatnessOptions.parse(options ?? {}));
  },
});
