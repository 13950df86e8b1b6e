import * as tf from '@tensorflow/tfjs-core';
import { API_VERSION, checkSplit, defineAnalysis, isObject, packageInfo, type AnalysisCheckContext, type AnalysisContext, type AnalysisResult, type Json, type ModelInstance, type OptionIssue, type TaskInstance } from '@goldstone/plugin-api';
import type { OptimizerConfig, ParamGroup } from '@goldstone/trainer';
import { decoderMemorisation, simulateEffective } from './effective';
import { trainingFigure } from './figures';
import { grokkingHeadline } from './headline';
import { standardize, trainParallelograms } from './geometry';
import { idealAccuracy, predictedAccuracy } from './ideal';
import { grokkingOptions, readTrainSettings, type GrokkingOptions, type TrainSettings } from './options';
import { relationOf, unorderedPairsOf } from './pairs';
import { asPredicted, classifyPhase, firstReach, predictPhase } from './phase';
import { geometryOf, grokkingRecordingFor, recordGrokking, type GeometryPlan } from './recorder';
import { summarizeGrokking } from './summary';

/** This package's version, for provenance (read from its package.json). */
export const VERSION = packageInfo(import.meta.url).version;

/**
 * The geometry plan for an addition table learned with an embedding [n, d]: the parallelograms of
 * the training set, or why there is none (the parallelogram parts are skipped with that reason).
 */
export function geometryPlan(task: TaskInstance, model: ModelInstance, o: GrokkingOptions): { plan: GeometryPlan | null; reason: string | null } {
  const { relation, nodes } = relationOf(task);
  if (relation !== 'addition') {
    return { plan: null, reason: `RQI, ℓ_eff, the ideal accuracy and the repon dynamics are defined by the parallelograms i + j = m + n of an addition table; the task's relation is ${relation === null ? 'not recorded (task.info.relation)' : `"${relation}"`}, so only the accuracies and the phase are measured` };
  }
  const spec = model.specs.find((s) => s.name === o.embedding);
  if (!spec || spec.shape.length !== 2) return { plan: null, reason: `the model has no embedding parameter "${o.embedding}" of shape [n, d] (it has: ${model.specs.map((s) => s.name).join(', ')}), so only the accuracies and the phase are measured` };
  const [n, d] = spec.shape;
  if (nodes !== null && nodes !== n) return { plan: null, reason: `the embedding has ${n} rows but the task has ${nodes} nodes, so only the accuracies and the phase are measured` };
  const train = unorderedPairsOf(task.splits[o.trainSplit]);
  return { plan: { embedding: o.embedding, n, d, rqiThreshold: o.rqiThreshold, trainQuads: trainParallelograms(train) }, reason: null };
}

/** The `check` hook: the splits exist and hold examples, and the task's metrics include `metric`. */
export function grokkingIssues(o: GrokkingOptions, { task }: Pick<AnalysisCheckContext, 'task'>): OptionIssue[] {
  const issues = [...checkSplit(task, 'trainSplit', o.trainSplit), ...checkSplit(task, 'testSplit', o.testSplit)];
  if (issues.length) return issues;
  const split = task.splits[o.trainSplit];
  const names = tf.tidy(() => {
    const y = tf.tensor(split.y.subarray(0, split.yShape.reduce((a, b) => a * b, 1)), [1, ...split.yShape], 'float32');
    const pred = tf.zeros([1, task.outputSize]);
    return Object.keys(task.metrics(pred, y));
  });
  if (!names.includes(o.metric)) return [{ field: 'metric', message: `the task's metrics have no "${o.metric}" (they have: ${names.join(', ')})` }];
  return [];
}

/** The run's training settings: run.json's `config.train` when there is a store, else the `train` option; null when neither. */
async function runTrainSettings(ctx: AnalysisContext, o: GrokkingOptions): Promise<{ settings: TrainSettings; source: string } | null> {
  if (ctx.store) {
    const run = await ctx.store.readRun();
    const config = isObject(run.config) ? run.config : undefined;
    if (config && isObject(config.train)) {
      const r = readTrainSettings(config.train);
      if ('settings' in r) return { settings: r.settings, source: `${ctx.store.path('run.json')} config.train` };
    }
  }
  if (!o.train) return null;
  const r = readTrainSettings(o.train);
  return 'settings' in r ? { settings: r.settings, source: 'the analysis option train' } : null;
}

/** The optimiser of one parameter group: the run's family with the group's lr and weight decay. */
function groupOptimizer(t: TrainSettings, group: string): OptimizerConfig {
  const g = t.groups?.[group];
  return { name: t.optimizer, lr: g?.lr ?? t.lr, momentum: t.momentum, nesterov: t.nesterov, beta1: t.beta1, beta2: t.beta2, eps: t.eps, weightDecay: g?.weightDecay ?? t.weightDecay };
}

/** Evenly thinned indices of a series of length `n`, at most `max`, first and last kept. */
export function thinned(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const out = new Set<number>();
  for (let k = 0; k < max; k++) out.add(Math.round((k * (n - 1)) / (max - 1)));
  return [...out];
}

const pick = <T>(xs: readonly T[], idx: readonly number[]): T[] => idx.map((i) => xs[i]);

type Series = { step: number[]; effectiveLoss: (number | null)[]; rqi: (number | null)[] };
const thinSeries = (s: Series, max: number): Series => {
  const idx = thinned(s.step.length, max);
  return { step: pick(s.step, idx), effectiveLoss: pick(s.effectiveLoss, idx), rqi: pick(s.rqi, idx) };
};

async function runGrokking(ctx: AnalysisContext, options: unknown): Promise<AnalysisResult> {
  const o = grokkingOptions.parse(options);
  const rec = grokkingRecordingFor(ctx.model);
  if (!rec || rec.step.length === 0) {
    throw new Error(
      'grokking: nothing was recorded for this model. The analysis records accuracies, RQI and ℓ_eff through its train hooks while the model trains, so it must be listed in the experiment that trains it (goldstone run); it cannot analyse a finished run (goldstone analyze).',
    );
  }
  const notes: string[] = [];
  const { plan, reason } = geometryPlan(ctx.task, ctx.model, o);
  if (reason) notes.push(reason);
  const reachTrain = firstReach(rec.step, rec.trainAccuracy, o.threshold);
  const reachTest = firstReach(rec.step, rec.testAccuracy, o.threshold);
  const reachRqi = plan ? firstReach(rec.step, rec.rqi, o.rqiTarget) : null;
  const phase = classifyPhase(reachTrain, reachTest, o.lag);
  const last = rec.step.length - 1;
  const { relation, nodes } = relationOf(ctx.task);
  const trainPairs = unorderedPairsOf(ctx.task.splits[o.trainSplit]);
  const testPairs = unorderedPairsOf(ctx.task.splits[o.testSplit]);

  let ideal: Json = null;
  let repon: Json = null;
  let effectiveTrajectory: Series | null = null;
  if (plan) {
    const idealAcc = idealAccuracy(plan.n, trainPairs, testPairs);
    const E = ctx.params[plan.embedding].dataSync();
    const predicted = predictedAccuracy(plan.n, plan.d, standardize(E, plan.n, plan.d), trainPairs, o.rqiThreshold, testPairs);
    ideal = {
      testAccuracy: idealAcc.testAccuracy,
      accuracy: idealAcc.accuracy,
      measuredTestAccuracy: rec.testAccuracy[last],
      predictedTestAccuracy: predicted.testAccuracy,
      predictedAccuracy: predicted.accuracy,
      representationParallelograms: predicted.parallelograms,
      dof: idealAcc.nullDim,
      dofBeyondAffine: idealAcc.dofBeyondAffine,
      counts: idealAcc.counts,
    };

    if (o.effective || o.memorisation) {
      const t = await runTrainSettings(ctx, o);
      if (!t) notes.push('the repon part needs the run\'s optimiser and learning rates: the run has no store (run.json) and the option "train" is not set, so it was skipped');
      else if (!rec.initial?.[plan.embedding]) notes.push('the initial parameters were not recorded, so the repon part was skipped');
      else {
        const encoder = groupOptimizer(t.settings, o.encoderGroup);
        const decoder = groupOptimizer(t.settings, o.decoderGroup);
        let eff = null;
        if (o.effective) {
          eff = simulateEffective(rec.initial[plan.embedding].values, plan, encoder, { steps: o.effectiveSteps ?? rec.steps, every: o.every, rqiTarget: o.rqiTarget });
          effectiveTrajectory = eff;
        }
        let mem = null;
        if (o.memorisation) {
          const frozen = ctx.model.groups?.[o.encoderGroup] ?? [plan.embedding];
          const rest = ctx.model.groups?.[o.decoderGroup] ?? ctx.model.specs.map((s) => s.name).filter((n) => !frozen.includes(n));
          const groups: ParamGroup[] = [
            { name: 'frozen', params: frozen, lr: 0 },
            { name: 'decoder', params: rest.filter((n) => !frozen.includes(n)), lr: decoder.lr, weightDecay: decoder.weightDecay },
          ];
          mem = decoderMemorisation(ctx.model, ctx.task, rec.initial, decoder, groups, { cap: rec.steps, every: o.every, threshold: o.threshold, metric: o.metric, trainSplit: o.trainSplit });
        }
        const predictedPhase = eff && mem ? predictPhase(eff.Tr, mem.Tm) : null;
        repon = {
          settingsFrom: t.source,
          optimizer: t.settings.optimizer,
          encoderLr: encoder.lr,
          decoderLr: decoder.lr,
          effective: eff
            ? {
                steps: eff.steps,
                Tr: eff.Tr,
                finalRqi: eff.rqi[eff.rqi.length - 1],
                finalEffectiveLoss: eff.effectiveLoss[eff.effectiveLoss.length - 1],
                trajectory: thinSeries(eff, o.maxPoints),
              }
            : null,
          memorisation: mem ? { Tm: mem.Tm, steps: mem.steps, cap: rec.steps, finalTrainMetric: mem.finalMetric } : null,
          trainedTr: reachRqi,
          predicted: predictedPhase,
          measured: asPredicted(phase),
          agree: predictedPhase === null ? null : predictedPhase === asPredicted(phase),
        };
      }
    }
  }

  const idx = thinned(rec.step.length, o.maxPoints);
  const finalGeometry = plan ? geometryOf(ctx.params[plan.embedding].dataSync(), plan) : null;
  const result = {
    task: { relation, nodes, trainPairs: trainPairs.length, testPairs: testPairs.length },
    metric: o.metric,
    threshold: o.threshold,
    lag: o.lag,
    steps: rec.steps,
    reach: { train: reachTrain, test: reachTest, rqi: reachRqi },
    phase,
    final: {
      trainAccuracy: rec.trainAccuracy[last],
      testAccuracy: rec.testAccuracy[last],
      rqi: finalGeometry?.rqi ?? null,
      effectiveLoss: finalGeometry?.effectiveLoss ?? null,
    },
    ideal,
    repon,
    trajectory: {
      every: rec.every,
      step: pick(rec.step, idx),
      trainAccuracy: pick(rec.trainAccuracy, idx),
      testAccuracy: pick(rec.testAccuracy, idx),
      rqi: pick(rec.rqi, idx),
      effectiveLoss: pick(rec.effectiveLoss, idx),
    },
    notes,
  };
  return {
    result: JSON.parse(JSON.stringify(result)) as Json,
    headline: grokkingHeadline({
      ...result,
      every: rec.every,
      testSplit: o.testSplit,
      trainSplit: o.trainSplit,
      testExamples: ctx.task.splits[o.testSplit].n,
      trainExamples: ctx.task.splits[o.trainSplit].n,
      ideal: ideal as { testAccuracy: number } | null,
    }),
    figures: [trainingFigure(result.trajectory, effectiveTrajectory ? thinSeries(effectiveTrajectory, o.maxPoints) : null, o)],
    provenance: {
      analysis: 'grokking',
      version: VERSION,
      seed: ctx.seed,
      backend: ctx.backend,
      recording: `every ${rec.every} steps and at steps 0 and ${rec.steps}, from the current parameters in the train hooks (${rec.step.length} rows); ${o.metric} from task.metrics on the whole ${o.trainSplit} and ${o.testSplit} splits (over examples: a pair in both orientations counts twice)`,
      phase: `first recorded step with ${o.metric} ≥ ${o.threshold}; comprehension when test reaches it at most ${o.lag} steps after train, grokking later, memorisation when only train does, confusion when train never does (Liu et al. 2022, toy Figure 5)`,
      rqi: plan ? `E standardised per dimension (mean 0, unbiased std 1); fraction of the ${plan.n}-symbol ideal parallelograms (i, n, j, m), i < j ≤ m < n, i + n = j + m, with mean_d (Eᵢ + E_n − E_j − E_m)² < ${o.rqiThreshold}` : null,
      effectiveLoss: plan ? `ℓ_eff = Σ_P |Eᵢ + Eⱼ − E_m − E_n|² / Σ_k |E_k|² with E the standardised embedding, over P0(D): the ${plan.trainQuads.length} pairs of train pairs with equal sums (the paper's definition; the toy's script descends the rows of all of P0 instead)` : null,
      ideal: plan ? 'the toy\'s Task 1: P0(D), P(D) = P0(D) and every parallelogram whose row does not raise the rank (null space = eigenvalues of AᵀA below 1e-8, ml-matrix), D̄ = D and the test pairs joined to a train pair by P(D); predicted: the same with the parallelograms of the final representation (residual below rqiThreshold)' : null,
      repon: plan
        ? `effective dynamics: the run's optimiser (${o.encoderGroup} group's lr and weight decay) on ℓ_eff of the standardised embedding (gradient by autodiff through the standardisation) from the run's initial embedding, T_r = first recorded step with RQI ≥ ${o.rqiTarget}; memorisation: the decoder alone (${o.encoderGroup} frozen at lr 0), full batch, from the initial parameters, T_m = first step (checked every ${o.every}) with train ${o.metric} ≥ ${o.threshold}, capped at the run's steps; predicted generalisation when T_r < T_m`
        : null,
    },
  };
}

/**
 * The grokking toy's measurements (Liu et al. 2022, docs/grokking-toy.md): accuracies, RQI and ℓ_eff
 * over training, the phase, the ideal accuracy the training set implies and the effective (repon)
 * theory's predicted phase; over a sweep, phase maps and accuracy curves.
 */
export const grokking = defineAnalysis({
  name: 'grokking',
  apiVersion: API_VERSION,
  description: 'Grokking toy: accuracies, RQI and effective loss over training, phase, ideal accuracy from the training set, repon dynamics; phase maps and curves over sweeps',
  options: grokkingOptions,
  check: (options, ctx) => grokkingIssues(options, ctx),
  trainHooks(options, { model, task }) {
    const o = grokkingOptions.parse(options);
    return recordGrokking(model, task, { every: o.every, metric: o.metric, trainSplit: o.trainSplit, testSplit: o.testSplit, geometry: geometryPlan(task, model, o).plan });
  },
  run: runGrokking,
  summarize(results, options) {
    return summarizeGrokking(results, grokkingOptions.parse(options ?? {}));
  },
});
