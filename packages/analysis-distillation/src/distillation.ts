import * as tf from '@tensorflow/tfjs-core';
import { API_VERSION, packageInfo, UsageError, defineAnalysis, type AnalysisContext, type AnalysisResult, type Figure, type Json, type ModelInstance, type Params, type Split, type TaskInstance } from '@goldstone/plugin-api';
import { cloneParams, disposeParams, lossFunction, sampleSplit, subsetSplit, lineChart, higherIsBetter, predictSplit, primaryMetric, scoreArrays } from '@goldstone/core';
import { train } from '@goldstone/trainer';
import { createMlp } from '@goldstone/models';
import { fidelity, outputMse, softTargets } from './fidelity';
import { distillationHeadline } from './headline';
import { distillationIssues, distillationOptions, type DistillationOptions } from './options';

/** This package's version, for provenance (read from its package.json). */
export const VERSION = packageInfo(import.meta.url).version;

function splitOf(task: TaskInstance, name: string, field: string): Split {
  const s = task.splits[name];
  if (!s || s.n === 0) throw new UsageError(`${field}: the task has no non-empty split "${name}" (it has: ${Object.keys(task.splits).join(', ')})`, { field });
  return s;
}

/** The model with its outputs divided by T: training it on softened targets is Hinton's distillation. */
export function tempered(model: ModelInstance, temperature: number): ModelInstance {
  if (temperature === 1) return model;
  return { ...model, apply: (p, x) => tf.tidy(() => tf.div(model.apply(p, x), temperature)) };
}

/** A copy of the task that trains on `split` (its targets may be soft) and reports no metrics. */
function trainingTask(task: TaskInstance, split: Split): TaskInstance {
  return { ...task, splits: { train: split, test: subsetSplit(split, [0]) }, metrics: () => ({}), symmetries: undefined };
}

/** How a student does: the task metric against the labels, and its agreement with the teacher. */
export interface StudentScore {
  value: number;
  fidelity: number;
  /** Mean squared difference of student and teacher raw outputs (logits or values). */
  outputMse: number;
}

export async function analyzeDistillation(ctx: AnalysisContext, opts: DistillationOptions): Promise<AnalysisResult> {
  const { task } = ctx;
  const kind = task.outputKind;
  const metric = primaryMetric(kind);
  const up = higherIsBetter(metric);
  const width = task.outputSize;
  const T = kind === 'regression' ? 1 : opts.temperature;
  const pool = splitOf(task, opts.poolSplit, 'poolSplit');
  const evalSplit = sampleSplit(splitOf(task, opts.split, 'split'), opts.maxExamples, ctx.rng.split('subset'));
  const teacherPool = predictSplit(ctx.model, ctx.params, pool);
  const teacherEval = predictSplit(ctx.model, ctx.params, evalSplit);
  const teacherValue = scoreArrays(kind, teacherEval, evalSplit.y, width)[metric];
  // Hinton's loss (1 − a)·L(s, y) + a·T²·L(s/T, q) with q the teacher's softened outputs; L is the
  // task's loss (cross-entropy: KL(q‖σ(s/T)) up to the constant entropy of q, so the same gradients).
  const a = opts.alpha;
  const soft = softTargets(kind, teacherPool, width, T);
  const both = new Float32Array(pool.n * 2 * width);
  for (let i = 0; i < pool.n; i++) {
    both.set(pool.y.subarray(i * width, (i + 1) * width), i * 2 * width);
    both.set(soft.subarray(i * width, (i + 1) * width), i * 2 * width + width);
  }
  const hintonPool: Split = { ...pool, y: both, yShape: [2 * width] };
  const taskLoss = lossFunction(task.loss);
  const hinton = (pred: tf.Tensor, y: tf.Tensor): tf.Scalar =>
    tf.tidy(() => {
      const B = pred.shape[0];
      const hard = tf.slice(y, [0, 0], [B, width]);
      const q = tf.slice(y, [0, width], [B, width]);
      const s = tf.reshape(pred, [B, width]);
      const terms: tf.Scalar[] = [];
      if (a < 1) terms.push(tf.mul(taskLoss(s, hard), 1 - a));
      if (a > 0) terms.push(tf.mul(taskLoss(tf.div(s, T), q), a * T * T));
      return (terms.length === 1 ? terms[0] : tf.add(terms[0], terms[1])) as tf.Scalar;
    });
  const order = ctx.rng.split('pool-order').permutation(pool.n);
  
  const score = (model: ModelInstance, params: Params): StudentScore => {
    const out = predictSplit(model, params, evalSplit);
    return { value: scoreArrays(kind, out, evalSplit.y, width)[metric], fidelity: fidelity(kind, out, teacherEval, width), outputMse: outputMse(out, teacherEval) };
  };

  /** Train one student twice from the same initialisation and data order: on the teacher, on the labels. */
  const trainPair = async (hidden: number[], samples: number, key: string) => {
    const student = createMlp({ hidden, activation: opts.activation, bias: true, init: 'auto', initScale: 0.1 }, { inputShape: task.inputShape, outputSize: width });
    const idx = order.subarray(0, samples);
    const config = { optimizer: { name: opts.optimizer, lr: opts.lr }, epochs: opts.epochs, batchSize: opts.batchSize, evalEvery: opts.epochs, logEvery: 1 << 30 };
    const init = student.init(ctx.rng.split(`init:${key}`));
    const initCopy = cloneParams(init);
    const out: { params: number; distilled?: StudentScore; labels?: StudentScore } = { params: student.paramCount };
    let trained: Params | undefined;
    try {
      const d = await train({
        model: student,
        task: trainingTask(task, subsetSplit(hintonPool, idx)),
        params: init,
        config,
        rng: ctx.rng.split(`train:${key}`),
        lossFunction: hinton,
      });
      trained = d.params;
      out.distilled = score(student, trained);
      disposeParams(trained);
      trained = undefined;
      const l = await train({ model: student, task: trainingTask(task, subsetSplit(pool, idx)), params: initCopy, config, rng: ctx.rng.split(`train:${key}`) });
      trained = l.params;
      out.labels = score(student, trained);
    } finally {
      if (trained) disposeParams(trained);
    }
    return out as { params: number; distilled: StudentScore; labels: StudentScore };
  };

  ctx.progress.start('distillation', opts.students.length + opts.sampleFractions.length);
  const students = [];
  for (let i = 0; i < opts.students.length; i++) {
    const hidden = opts.students[i];
    students.push({ hidden, ...(await trainPair(hidden, pool.n, `student:${hidden.join('-')}`)) });
    ctx.progress.tick();
  }
  const largest = students.reduce((a, b) => (b.params > a.params ? b : a));
  const samples = [];
  for (const fraction of opts.sampleFractions) {
    const n = Math.max(1, Math.round(fraction * pool.n));
    samples.push({ samples: n, fraction, ...(await trainPair(largest.hidden, n, `samples:${n}`)) });
    ctx.progress.tick();
  }
  ctx.progress.stop();

  // Efficiency: the smallest student, and the fewest samples, at which the distilled student reaches the fidelity target.
  const reached = students.filter((s) => s.distilled.fidelity >= opts.fidelityTarget).sort((a, b) => a.params - b.params);
  const reachedSamples = samples.filter((s) => s.distilled.fidelity >= opts.fidelityTarget).sort((a, b) => a.samples - b.samples);
  const sign = up ? 1 : -1;
  const gains = students.map((s) => sign * (s.distilled.value - s.labels.value));
  const summary = {
    teacher: { value: teacherValue, params: ctx.model.paramCount },
    fidelityTarget: opts.fidelityTarget,
    minStudentParams: reached[0]?.params ?? null,
    compressionRatio: reached[0] ? ctx.model.paramCount / reached[0].params : null,
    minSamples: reachedSamples[0]?.samples ?? null,
    meanGain: gains.reduce((a, b) => a + b, 0) / gains.length,
    meanFidelityGain: students.reduce((a, s) => a + s.distilled.fidelity - s.labels.fidelity, 0) / students.length,
    largestStudentFidelity: largest.distilled.fidelity,
  };

  const bySize = students.flatMap((s) => [
    { params: s.params, training: 'distilled', value: s.distilled.value, fidelity: s.distilled.fidelity },
    { params: s.params, training: 'labels', value: s.labels.value, fidelity: s.labels.fidelity },
  ]);
  const bySamples = samples.flatMap((s) => [
    { samples: s.samples, training: 'distilled', value: s.distilled.value, fidelity: s.distilled.fidelity },
    { samples: s.samples, training: 'labels', value: s.labels.value, fidelity: s.labels.fidelity },
  ]);
  const figures: Figure[] = [
    lineChart('distillation-size', `Student ${metric} against size (teacher ${teacherValue.toPrecision(3)})`, bySize, { field: 'params', title: 'student parameters', scale: 'log' }, { field: 'value', title: metric }, 'training'),
    lineChart('distillation-fidelity', 'Student fidelity (agreement with the teacher) against size', bySize, { field: 'params', title: 'student parameters', scale: 'log' }, { field: 'fidelity', title: 'fidelity' }, 'training'),
    lineChart('distillation-samples', `Student ${metric} against distillation samples (student ${largest.hidden.join('-')})`, bySamples, { field: 'samples', title: 'samples', scale: 'log' }, { field: 'value', title: metric }, 'training'),
  ];

  return {
    result: {
      metric,
      higherIsBetter: up,
      split: opts.split,
      examples: evalSplit.n,
      fidelity: kind === 'regression' ? 'R² of student against teacher outputs' : kind === 'binary' ? 'agreement of logit signs' : 'agreement of argmax classes',
      temperature: T,
      alpha: a,
      teacher: { value: teacherValue, params: ctx.model.paramCount },
      students: students as unknown as Json,
      samples: samples.map((s) => ({ ...s, student: largest.hidden })) as unknown as Json,
      summary,
    },
    headline: distillationHeadline({ kind, metric, higherIsBetter: up, split: opts.split, examples: evalSplit.n, students, summary }),
    figures,
    provenance: {
      analysis: 'distillation',
      version: VERSION,
      seed: ctx.seed,
      backend: ctx.backend,
      settings: opts as unknown as Json,
      samples: { poolSplit: opts.poolSplit, pool: pool.n, split: opts.split, examples: evalSplit.n },
      metric,
      method: {
        loss: kind === 'regression' ? `(1 − a)·mse(s, y) + a·mse(s, teacher), a = ${a}` : `Hinton: (1 − a)·${task.loss}(s, y) + a·T²·${task.loss}(s/T, σ(t/T)) = KL up to a constant, a = ${a}, T = ${T}`,
        baseline: 'the same student, initialisation and data order trained on the true labels',
        trainer: `${opts.optimizer} lr=${opts.lr}, ${opts.epochs} epochs, batch ${opts.batchSize}`,
      },
    },
  };
}

/** The distillation analysis plugin. */
export const distillation = defineAnalysis({
  name: 'distillation',
  apiVersion: API_VERSION,
  description: 'Distil the model into MLP students of several sizes and sample counts; fidelity and metric against labels-trained students',
  options: distillationOptions,
  check: (options, ctx) => distillationIssues(options, ctx),
  run: (ctx, options) => analyzeDistillation(ctx, options),
});
