import { lrFactor, type ScheduleConfig } from '@goldstone/trainer';
import { z } from 'zod';
import { API_VERSION, checkSplit, defineAnalysis, type AnalysisCheckContext, type AnalysisContext, type AnalysisResult, type Figure, type Json, type OptionIssue } from '@goldstone/plugin-api';
import { recordSharpness, sharpnessRecordingFor, type SharpnessRecording, type SharpnessSettings } from './sharpness-recorder';
import { VERSION } from './analyze';
import { sharpnessHeadline } from './headline';

/** Options of the `sharpness` analysis. */
export const sharpnessOptions = z.strictObject({
  /** Measure every this many training steps (and once at the start), as far as the budget allows. */
  every: z.number().int().min(1).default(10).describe('Measure every this many training steps (and at the start), as the budget allows'),
  /** Examples of the fixed batch of the train split the loss is averaged over (a seeded random subset when the split is larger). */
  maxExamples: z.number().int().positive().default(256).describe('Examples of the fixed, seeded batch of the train split the curvature is taken on'),
  /** λ_max by Lanczos (full reorthogonalisation) or by power iteration (the eigenvalue largest in magnitude). */
  method: z.enum(['lanczos', 'power']).default('lanczos').describe('λ_max by Lanczos, or by power iteration (the eigenvalue largest in magnitude)'),
  /** Start each estimate from the previous measurement's top eigenvector (the first one starts cold). */
  warmStart: z.boolean().default(true).describe("Start each estimate from the previous measurement's top eigenvector"),
  /** Norm of the random unit vector added to the warm start (0: the previous eigenvector alone). */
  warmNoise: z.number().min(0).default(0.05).describe('Norm of the random unit vector added to the warm start (keeps every direction in the Krylov space)'),
  /** Stop when the residual ‖Hv − λv‖ ≤ tol·|λ|. */
  tol: z.number().positive().default(1e-3).describe('Stop when the residual ‖Hv − λv‖ ≤ tol·|λ|'),
  /** Most products for λ_max per measurement (Lanczos: Krylov dimension; power: iterations). */
  maxSteps: z.number().int().min(2).default(40).describe('Most products for λ_max per measurement (Krylov dimension or power iterations)'),
  /** Rademacher probes of the Hutchinson trace (0: no trace). */
  probes: z.number().int().min(0).default(10).refine((p) => p !== 1, { error: 'expected 0 (no trace) or at least 2 probes (one probe has no standard error)' }).describe('Rademacher probes of the Hutchinson trace (0: no trace, else ≥ 2)'),
  /** Most seconds the measurements may take, as a fraction of the training time (null: no limit). */
  budget: z.number().positive().nullable().default(0.1).describe('Most measurement time as a fraction of training time (null: no limit; the schedule is thinned to stay under it)'),
  /** Figures (λ_max against 2/η, trace ± sem). */
  figures: z.boolean().default(true).describe('Whether to draw figures (λ_max with 2/η, trace ± sem)'),
});

export type SharpnessOptions = z.output<typeof sharpnessOptions>;

/** The recorder's settings from the options. */
export function sharpnessSettings(o: SharpnessOptions): SharpnessSettings {
  return { every: o.every, maxExamples: o.maxExamples, method: o.method, warmStart: o.warmStart, warmNoise: o.warmNoise, tol: o.tol, maxSteps: o.maxSteps, probes: o.probes, budget: o.budget };
}

/** The training settings the learning rate and its threshold come from. */
export interface TrainSettings {
  optimizer: string;
  lr: number;
  momentum: number;
  nesterov: boolean;
  beta1: number;
  weightDecay: number;
  epochs: number;
  batchSize: number;
  schedule?: ScheduleConfig;
  /** Where they were read: run.json's config.train, or the train plan the hooks saw. */
  source: string;
}

/** The stability threshold of the optimiser on a quadratic: the largest curvature h at which the update is stable, as a multiple of 1/η. */
export interface StabilityThreshold {
  /** h·η below this is stable; null: no such threshold on H (adaptive optimisers). */
  factor: number | null;
  rule: string;
  note: string;
}

/**
 * The threshold of λ_max above which full-batch training on a quadratic of curvature λ diverges:
 * plain SGD 2/η; heavy-ball momentum β (the trainer's v ← βv + g, θ ← θ − ηv) (2 + 2β)/η; Nesterov
 * (the trainer's θ ← θ − η(g + βv)) (2 + 2β)/((1 + 2β)η). Adam and AdamW precondition the step by
 * 1/(√v̂ + ε), so λ_max of H has no 2/η threshold: the adaptive edge of stability concerns the
 * preconditioned Hessian, whose threshold is (2 + 2β₁)/((1 − β₁)η) (Cohen et al. 2022), not
 * measured here.
 */
export function stabilityThreshold(t: Pick<TrainSettings, 'optimizer' | 'momentum' | 'nesterov' | 'beta1'>): StabilityThreshold {
  if (t.optimizer === 'sgd') {
    const b = t.momentum;
    if (b === 0) return { factor: 2, rule: '2/η', note: 'plain SGD: full-batch gradient descent on a quadratic is stable while λ_max < 2/η' };
    if (t.nesterov) return { factor: (2 + 2 * b) / (1 + 2 * b), rule: `(2+2β)/((1+2β)η), β = ${b}`, note: 'SGD with Nesterov momentum (θ ← θ − η(g + βv), v ← βv + g): stable on a quadratic while λ_max < (2+2β)/((1+2β)η)' };
    return { factor: 2 + 2 * b, rule: `(2+2β)/η, β = ${b}`, note: 'SGD with heavy-ball momentum (v ← βv + g, θ ← θ − ηv): stable on a quadratic while λ_max < (2+2β)/η' };
  }
  return {
    factor: null,
    rule: 'none',
    note: `${t.optimizer}: the step is preconditioned by 1/(√v̂ + ε), so λ_max of the Hessian has no 2/η threshold; the adaptive edge of stability concerns the preconditioned Hessian P⁻¹H, threshold (2+2β₁)/((1−β₁)η) with β₁ = ${t.beta1} (Cohen et al. 2022), which this analysis does not measure. 2/η is drawn for reference only`,
  };
}

const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : d);

/** The run's training settings: run.json's config.train where there is a store, else the train plan the hooks were given. */
export async function trainSettings(ctx: Pick<AnalysisContext, 'store'>, rec: SharpnessRecording): Promise<TrainSettings | null> {
  let t: Record<string, unknown> | undefined;
  if (ctx.store) {
    try {
      const run = await ctx.store.readRun();
      t = (run.config as Record<string, unknown> | undefined)?.train as Record<string, unknown> | undefined;
    } catch {
      t = undefined;
    }
  }
  if (t && typeof t.lr === 'number' && typeof t.optimizer === 'string') {
    return {
      optimizer: t.optimizer,
      lr: t.lr,
      momentum: num(t.momentum, 0),
      nesterov: t.nesterov === true,
      beta1: num(t.beta1, 0.9),
      weightDecay: num(t.weightDecay, 0),
      epochs: num(t.epochs, rec.plan?.epochs ?? 1),
      batchSize: num(t.batchSize, rec.plan?.batchSize ?? 1),
      schedule: t.schedule as ScheduleConfig | undefined,
      source: 'run.json config.train',
    };
  }
  const p = rec.plan;
  if (!p || p.lr === undefined) return null;
  return { optimizer: p.optimizer, lr: p.lr, momentum: 0, nesterov: false, beta1: 0.9, weightDecay: 0, epochs: p.epochs, batchSize: p.batchSize, source: 'the train plan (no run.json: constant schedule and no momentum assumed)' };
}

/** A series row. */
interface Row {
  step: number;
  epoch: number | null;
  lambdaMax: number;
  residual: number;
  converged: boolean;
  warm: boolean;
  trace: number | null;
  traceStderr: number | null;
  lr: number | null;
  twoOverLr: number | null;
  threshold: number | null;
  cost: SharpnessRecording['points'][number]['cost'];
}

/** The series, with η at each step: the learning rate of the update taken from those parameters (step + 1; at the last step, the last update's). */
export function sharpnessSeries(rec: SharpnessRecording, t: TrainSettings | null): Row[] {
  const B = t ? Math.ceil(rec.trainExamples / t.batchSize) : 0;
  const total = t && B ? t.epochs * B : null;
  const th = t ? stabilityThreshold(t) : null;
  return rec.points.map((p) => {
    let lr: number | null = null;
    if (t && B) {
      const next = total !== null ? Math.min(p.step + 1, total) : p.step + 1;
      lr = t.lr * lrFactor(t.schedule, Math.max(next, 1) / B, t.epochs);
    }
    const twoOverLr = lr && lr > 0 ? 2 / lr : null;
    return {
      step: p.step,
      epoch: B ? p.step / B : null,
      lambdaMax: p.lambdaMax,
      residual: p.residual,
      converged: p.converged,
      warm: p.warm,
      trace: p.trace?.value ?? null,
      traceStderr: p.trace?.stderr ?? null,
      lr,
      twoOverLr,
      threshold: th?.factor && lr && lr > 0 ? th.factor / lr : null,
      cost: p.cost,
    };
  });
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** λ_max against step on a log axis with 2/η (and the optimiser's threshold where it differs) as reference lines; the trace ± sem against step. */
export function sharpnessFigures(rows: Row[], threshold: StabilityThreshold | null): Figure[] {
  const lines: { step: number; value: number; series: string }[] = [];
  for (const r of rows) {
    if (r.lambdaMax > 0) lines.push({ step: r.step, value: r.lambdaMax, series: 'λ_max' });
    if (r.twoOverLr !== null) lines.push({ step: r.step, value: r.twoOverLr, series: threshold?.factor === null ? '2/η (reference only: no threshold for this optimiser)' : '2/η' });
    if (r.threshold !== null && threshold && threshold.factor !== 2) lines.push({ step: r.step, value: r.threshold, series: `threshold ${threshold.rule}` });
  }
  const figures: Figure[] = [
    {
      name: 'sharpness-lambda-max',
      title: `λ_max of the loss Hessian during training${threshold ? `, beside 2/η${threshold.factor !== null && threshold.factor !== 2 ? ` and the threshold ${threshold.rule}` : ''}` : ''} (log scale; non-positive values left out)`,
      spec: {
        $schema: SCHEMA,
        data: { values: lines },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'training step' },
          y: { field: 'value', type: 'quantitative', title: 'curvature (log scale)', scale: { type: 'log' } },
          color: { field: 'series', type: 'nominal', title: null },
          strokeDash: { condition: { test: "datum.series !== 'λ_max'", value: [4, 3] }, value: [1, 0] },
        },
      },
    },
  ];
  const traced = rows.filter((r) => r.trace !== null).map((r) => ({ step: r.step, trace: r.trace!, lo: r.trace! - r.traceStderr!, hi: r.trace! + r.traceStderr! }));
  if (traced.length > 0) {
    const x = { field: 'step', type: 'quantitative', title: 'training step' };
    figures.push({
      name: 'sharpness-trace',
      title: 'Hutchinson trace of the loss Hessian during training (band: ± one standard error)',
      spec: {
        $schema: SCHEMA,
        data: { values: traced },
        layer: [
          { mark: { type: 'area', opacity: 0.3 }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'tr H' }, y2: { field: 'hi' } } },
          { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'trace', type: 'quantitative' } } },
        ],
      },
    });
  }
  return figures;
}

/** The `check` hook: the task has a train split to measure on. */
export function sharpnessIssues(_o: SharpnessOptions, ctx: Pick<AnalysisCheckContext, 'task'>): OptionIssue[] {
  return checkSplit(ctx.task, 'split', 'train');
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Build the result from what the hooks recorded (the `sharpness` plugin's `run`). */
export async function analyzeSharpness(ctx: AnalysisContext, options: SharpnessOptions): Promise<AnalysisResult> {
  const o = sharpnessOptions.parse(options);
  const rec = sharpnessRecordingFor(ctx.model, sharpnessSettings(o));
  if (!rec || rec.points.length === 0) {
    throw new Error(
      'sharpness: nothing was recorded for this model. The analysis measures the curvature through its train hooks while the model trains, so it must be listed in the experiment that trains it (goldstone run); it cannot analyse a finished run (goldstone analyze).',
    );
  }
  const train = await trainSettings(ctx, rec);
  const threshold = train ? stabilityThreshold(train) : null;
  const series = sharpnessSeries(rec, train);
  const b = rec.budget;
  const fraction = b.trainSeconds > 0 ? b.spentSeconds / b.trainSeconds : null;
  const ratios = series.filter((r) => r.threshold !== null).map((r) => r.lambdaMax / r.threshold!);
  const eig = series.map((r) => r.cost.lambdaMax);
  const warm = series.filter((r) => r.warm);
  const result = {
    objective: 'data',
    operator: 'hessian',
    method: o.method,
    warmStart: o.warmStart,
    paramCount: rec.paramCount,
    examples: rec.examples,
    subset: rec.subset,
    train: train ? { optimizer: train.optimizer, lr: train.lr, momentum: train.momentum, nesterov: train.nesterov, weightDecay: train.weightDecay, schedule: (train.schedule ?? { kind: 'constant' }) as Json, source: train.source } : null,
    threshold: threshold
      ? { ...threshold, weightDecay: train!.weightDecay > 0 && train!.optimizer !== 'adamw' ? `L2 weight decay ${train!.weightDecay} adds ${train!.weightDecay} to every eigenvalue of the trained objective's Hessian; λ_max here is the data loss's` : null }
      : null,
    series,
    summary: {
      points: series.length,
      firstStep: series[0].step,
      lastStep: series[series.length - 1].step,
      lambdaMaxFirst: series[0].lambdaMax,
      lambdaMaxLast: series[series.length - 1].lambdaMax,
      lambdaMaxPeak: Math.max(...series.map((r) => r.lambdaMax)),
      // λ_max over the optimiser's threshold: near 1 at the edge of stability
      peakOverThreshold: ratios.length ? Math.max(...ratios) : null,
      lastOverThreshold: ratios.length ? ratios[ratios.length - 1] : null,
      unconverged: series.filter((r) => !r.converged).length,
    },
    cost: {
      lambdaMax: { products: sum(eig.map((c) => c.products)), seconds: sum(eig.map((c) => c.seconds)), meanProducts: sum(eig.map((c) => c.products)) / eig.length, meanProductsWarm: warm.length ? sum(warm.map((r) => r.cost.lambdaMax.products)) / warm.length : null },
      trace: o.probes > 0 ? { products: sum(series.map((r) => r.cost.trace?.products ?? 0)), seconds: sum(series.map((r) => r.cost.trace?.seconds ?? 0)) } : null,
    },
    budget: {
      ...b,
      fraction,
      withinBudget: b.limit === null || fraction === null ? null : fraction <= b.limit,
      note:
        'training seconds: wall time between the hook\'s calls (steps, evaluations, checkpoints); spent: wall time inside its measurements. The first measurement is always taken; later due ones only when the spent seconds plus the predicted cost stay within limit × training seconds so far, so a thinned schedule (and, with a limit, the steps measured) depends on the machine\'s speed',
    },
  };
  const provenance = {
    analysis: 'sharpness',
    version: VERSION,
    seed: ctx.seed,
    backend: ctx.backend,
    objective: 'data',
    objectiveNote: ctx.objective.penalised
      ? `training minimised data + ${Object.keys(ctx.objective.terms).filter((k) => k !== 'data').join(' + ')}; the hooks see the data loss only, so these are the curvatures of the data loss`
      : 'the data loss, which is what was trained',
    estimators: {
      lambdaMax:
        o.method === 'lanczos'
          ? `Lanczos with full reorthogonalisation (@goldstone/curvature lanczos, topK 1), stop at residual ≤ ${o.tol}·|λ|, at most ${o.maxSteps} products${o.warmStart ? `, started from the previous top eigenvector + ${o.warmNoise} × a random unit vector` : ', random start'}`
          : `power iteration (the eigenvalue largest in magnitude), stop at residual ≤ ${o.tol}·|λ|, at most ${o.maxSteps} products${o.warmStart ? `, started from the previous top eigenvector + ${o.warmNoise} × a random unit vector` : ', random start'}`,
      trace: o.probes > 0 ? `Hutchinson, ${o.probes} Rademacher probes, stderr = sample sd / √probes` : null,
    },
    data: { split: 'train', examples: rec.examples, subset: rec.subset, fixed: 'one batch drawn once from the hooks\' seeded stream, the same at every step' },
  };
  return {
    result: result as unknown as Json,
    headline: sharpnessHeadline({ ...result, probes: o.probes }),
    figures: o.figures ? sharpnessFigures(series, threshold) : undefined,
    provenance: provenance as unknown as AnalysisResult['provenance'],
  };
}

/**
 * The `sharpness` analysis: λ_max of the loss Hessian (warm-started Lanczos or power iteration) and
 * its Hutchinson trace recorded during training every `every` steps within a time budget, beside
 * the optimiser's stability threshold (2/η for plain SGD).
 */
export const sharpness = defineAnalysis({
  name: 'sharpness',
  apiVersion: API_VERSION,
  description: 'λ_max (warm-started Lanczos) and Hutchinson trace of the loss Hessian during training, beside 2/η, within a time budget',
  options: sharpnessOptions,
  check: (options, ctx) => sharpnessIssues(options, ctx),
  trainHooks(options, { model, task, rng, train }) {
    return recordSharpness(model, task, sharpnessSettings(sharpnessOptions.parse(options)), { rng, train });
  },
  run: (ctx, options) => analyzeSharpness(ctx, options),
});
