import * as tf from '@tensorflow/tfjs-core';
import { API_VERSION, packageInfo, UsageError, defineAnalysis, type AnalysisContext, type AnalysisResult, type Figure, type Json, type Rng, type Split } from '@goldstone/plugin-api';
import { parameterFingerprint, splitTensors, sampleSplit, barChart, lineChart, chanceScore, higherIsBetter, primaryMetric, scoreTensors, type MetricName } from '@goldstone/core';
import { fgsm, perExampleLoss, pgd, type AttackTarget } from './attacks';
import { domainJson, inputDomain, clipToDomain, onRealValues, type InputDomain } from './domain';
import { invarianceScores, predictionChange, type PredictionChange } from './invariance';
import { featureScales, smear } from './smearing';
import { checkChain, denseChain, intervalBounds } from './interval-bounds';
import { robustnessHeadline, stderrOfMean, summaryOf } from './headline';
import { robustnessIssues, robustnessOptions, type RobustnessOptions } from './options';
import { hutchinsonReason, hutchinsonTrace, traceFromHessian, weightNoiseSweep, type TraceSource, type TraceWanted } from './weight-noise';

/** This package's version, for provenance (read from its package.json). */
export const VERSION = packageInfo(import.meta.url).version;

/**
 * The rows of a split the analysis uses: all, or a seeded random subset of `max` (in index order).
 * The same function as `sampleSplit` of `@goldstone/core`, kept under this name for existing importers.
 */
export const evaluationSubset: (split: Split, max: number, rng: Rng) => Split = sampleSplit;

function splitOf(ctx: AnalysisContext, name: string, field: string): Split {
  const s = ctx.task.splits[name];
  if (!s || s.n === 0) {
    throw new UsageError(`${field}: the task has no non-empty split "${name}" (it has: ${Object.keys(ctx.task.splits).join(', ')})`, { field });
  }
  return s;
}

/** The task's input mask of a split's inputs, flattened (a copy), or null for a task without one. */
function maskArray(task: AnalysisContext['task'], split: Split): Float32Array | null {
  if (!task.inputMask || split.n === 0) return null;
  const m = tf.tidy(() => task.inputMask!(tf.tensor(split.x, [split.n, ...split.xShape], 'float32')));
  try {
    if (m.size !== split.x.length) throw new Error(`the task's inputMask returned shape [${m.shape.join(', ')}] for inputs of shape [${[split.n, ...split.xShape].join(', ')}]`);
    return (m.dataSync() as Float32Array).slice();
  } finally {
    m.dispose();
  }
}

/** The row of `rows` whose `key` is nearest to `ref` on a log scale (the first on a tie), or null. */
function nearest<R extends Record<string, number>>(rows: readonly R[] | undefined, key: keyof R, ref: number): R | null {
  let best: R | null = null;
  let bestD = Infinity;
  for (const r of rows ?? []) {
    const d = Math.abs(Math.log((r[key] + 1e-30) / ref));
    if (d < bestD) {
      bestD = d;
      best = r;
    }
  }
  return best;
}

/** The default strengths of a task perturbation: ¼, ½, 1 × maxStrength, or 1, 2, 4 without one. */
export function perturbationStrengths(maxStrength: number | undefined): number[] {
  return maxStrength !== undefined && maxStrength > 0 ? [0.25, 0.5, 1].map((f) => f * maxStrength) : [1, 2, 4];
}

interface Evaluated {
  value: number;
  loss: number;
  [metric: string]: number;
}

export async function analyzeRobustness(ctx: AnalysisContext, opts: RobustnessOptions): Promise<AnalysisResult> {
  const { task, model, params } = ctx;
  const kind = task.outputKind;
  const metric: MetricName = primaryMetric(kind);
  const sections = new Set(opts.sections);
  const evalSplit = sampleSplit(splitOf(ctx, opts.split, 'split'), opts.maxExamples, ctx.rng.split('subset'));
  const outputs = task.outputSize;
  // Where the task pads its inputs: 1 on real values, 0 on padding. Every perturbation below that
  // the analysis makes itself (noise, smearing, generator steps, attacks, IBP boxes) changes real values only.
  const evalMask = maskArray(task, evalSplit);
  const trainMask = task.inputMask && (opts.domain === 'data' || sections.has('smearing')) ? maskArray(task, task.splits.train) : null;
  // The domain covers the train split and the evaluated examples, so every clean input lies in it
  // (for a masked task, the range of the real values; padding is never clipped).
  const domain: InputDomain = inputDomain(opts.domain, [task.splits.train, evalSplit], evalMask ? [trainMask, evalMask] : undefined);
  const { x, y } = splitTensors(evalSplit);
  const mask = evalMask ? tf.tensor(evalMask, x.shape, 'float32') : null;
  const target: AttackTarget = { model, params, loss: task.loss, domain, mask };
  const perturbations = sections.has('perturbations') ? (task.perturbations ?? []) : [];
  const strengthsOf = (p: { maxStrength?: number }) => opts.perturbationStrengths ?? perturbationStrengths(p.maxStrength);
  const figures: Figure[] = [];
  const result: Record<string, Json> = {};

  const evaluate = (xx: tf.Tensor): Evaluated => {
    const pred = tf.tidy(() => model.apply(params, xx));
    const l = tf.tidy(() => tf.mean(perExampleLoss(task.loss, pred, y)));
    const scores = scoreTensors(kind, pred, y);
    const loss = (l.dataSync() as Float32Array)[0];
    tf.dispose([pred, l]);
    return { ...scores, value: scores[metric], loss };
  };

  /** Metric and loss averaged over `draws` perturbed copies of x (each made by `perturb`, disposed here). */
  const averaged = (draws: number, perturb: (d: number) => tf.Tensor): { value: number; loss: number; stderr: number | null } => {
    let value = 0;
    let loss = 0;
    const values: number[] = [];
    for (let d = 0; d < draws; d++) {
      const xp = perturb(d);
      const e = evaluate(xp);
      xp.dispose();
      value += e.value / draws;
      loss += e.loss / draws;
      values.push(e.value);
    }
    // the drop's stderr over draws equals the metric's: the clean value is the same for every draw
    return { value, loss, stderr: stderrOfMean(values) };
  };
  /** The stderr over draws of each noise and smearing row (kept out of the result, read by the headline). */
  const drawStderr = new Map<object, number | null>();

  try {
    const clean = evaluate(x);
    // The drop of the metric from clean: positive when the perturbed model is worse (for MSE, its increase).
    const dropOf = (value: number) => (higherIsBetter(metric) ? clean.value - value : value - clean.value);
    Object.assign(result, {
      metric,
      higherIsBetter: higherIsBetter(metric),
      split: opts.split,
      examples: evalSplit.n,
      clean: clean as unknown as Json,
      chance: chanceScore(kind, evalSplit.y, outputs),
      domain: domainJson(domain),
    });
    const steps =
      (sections.has('noise') ? opts.noiseSigmas.length : 0) +
      (sections.has('smearing') ? opts.smearSigmas.length : 0) +
      perturbations.reduce((n, p) => n + strengthsOf(p).length, 0) +
      (sections.has('symmetry') ? (task.symmetries?.length ?? 0) : 0) +
      (sections.has('fgsm') ? opts.epsilons.length : 0) +
      (sections.has('pgd') ? opts.epsilons.length : 0) +
      (sections.has('ibp') ? opts.ibpEpsilons.length : 0) +
      (sections.has('weight-noise') ? opts.weightSigmas.length : 0);
    ctx.progress.start('robustness', steps);

    if (sections.has('noise')) {
      const rows = opts.noiseSigmas.map((sigma) => {
        const r = ctx.rng.split(`noise:${sigma}`);
        const { value, loss, stderr } = averaged(opts.noiseDraws, () =>
          tf.tidy(() => {
            const noise = tf.tensor(r.normalArray(x.size, sigma), x.shape, 'float32');
            return tf.add(x, mask ? tf.mul(noise, mask) : noise);
          }),
        );
        ctx.progress.tick();
        const row = { sigma, value, loss, drop: dropOf(value) };
        drawStderr.set(row, stderr);
        return row;
      });
      result.noise = rows;
      figures.push(
        lineChart('robustness-noise', `${metric} under Gaussian input noise x + σ·N(0, I)${mask ? ' on real values' : ''}`, rows, { field: 'sigma', title: 'σ', scale: 'symlog' }, { field: 'value', title: metric }),
      );
    }

    if (sections.has('smearing')) {
      const scales = featureScales(task.splits.train, trainMask);
      const rows = opts.smearSigmas.map((sigma) => {
        const r = ctx.rng.split(`smear:${sigma}`);
        const { value, loss, stderr } = averaged(opts.smearDraws, () => smear(x, sigma, scales, mask, r));
        ctx.progress.tick();
        const row = { sigma, value, loss, drop: dropOf(value) };
        drawStderr.set(row, stderr);
        return row;
      });
      result.smearing = { featureScales: Array.from(scales), masked: mask !== null, points: rows };
      figures.push(
        lineChart('robustness-smearing', `${metric} under resolution smearing x + σ·s_f·N(0, 1) of the real values (s_f: each feature's spread)`, rows, { field: 'sigma', title: 'σ (relative)', scale: 'symlog' }, { field: 'value', title: metric }),
      );
    }

    if (sections.has('symmetry')) {
      const base = tf.tidy(() => model.apply(params, x));
      const baseOut = (base.dataSync() as Float32Array).slice();
      const width = baseOut.length / x.shape[0];
      const rows = (task.symmetries ?? []).map((sym) => {
        const r = ctx.rng.split(`symmetry:${sym.name}`);
        let value = 0;
        let loss = 0;
        let change = 0;
        const moved: PredictionChange = { absChange: 0, agree: 0, spread: 0, examples: 0 };
        for (let d = 0; d < opts.symmetryDraws; d++) {
          const xs = tf.tidy(() => sym.sample(x, r)); // tidy: a task's sampler may leave intermediates
          const e = evaluate(xs);
          const out = tf.tidy(() => model.apply(params, xs));
          const diff = tf.tidy(() => tf.mean(tf.sum(tf.reshape(tf.square(tf.sub(out, base)), [x.shape[0], -1]), 1)));
          change += (diff.dataSync() as Float32Array)[0] / opts.symmetryDraws;
          const c = predictionChange(kind, baseOut, out.dataSync() as Float32Array, width);
          moved.absChange += c.absChange;
          moved.agree += c.agree;
          moved.spread += c.spread;
          moved.examples += c.examples;
          tf.dispose([xs, out, diff]);
          value += e.value / opts.symmetryDraws;
          loss += e.loss / opts.symmetryDraws;
        }
        // Along the generator: x + t·G·x, the group action to first order in t, for a sweep of t.
        const generator = sym.generator
          ? opts.generatorSteps.map((t) => {
              const xt = tf.tidy(() => {
                const step = tf.mul(sym.generator!(x), t);
                return tf.add(x, mask ? tf.mul(step, mask) : step);
              });
              const e = evaluate(xt);
              xt.dispose();
              return { t, value: e.value, loss: e.loss };
            })
          : null;
        ctx.progress.tick();
        return { name: sym.name, value, loss, drop: dropOf(value), outputChange: change, ...invarianceScores(kind, moved), generator };
      });
      base.dispose();
      result.symmetries = rows;
      if (rows.length > 0) {
        figures.push(
          barChart('robustness-symmetries', `${metric} under random elements of the task's input symmetries`, [{ name: 'clean', value: clean.value }, ...rows.map((r) => ({ name: r.name, value: r.value }))], { field: 'name', title: 'transformation' }, { field: 'value', title: metric }),
        );
        const steps = rows.flatMap((r) => (r.generator ?? []).map((g) => ({ symmetry: r.name, t: g.t, value: g.value })));
        if (steps.length > 0) {
          figures.push(
            lineChart('robustness-symmetry-generator', `${metric} along each symmetry's generator, x + t·G·x`, steps, { field: 't', title: 't', scale: 'log' }, { field: 'value', title: metric }, 'symmetry'),
          );
        }
      }
    }

    if (sections.has('perturbations')) {
      const rows = perturbations.map((p) => {
        const points = strengthsOf(p).map((strength) => {
          const r = ctx.rng.split(`perturbation:${p.name}:${strength}`);
          // tidy: the task's code may leave intermediates
          const { value, loss } = averaged(opts.perturbationDraws, (d) => tf.tidy(() => p.apply(x, strength, r.split(`draw:${d}`))));
          ctx.progress.tick();
          return { strength, value, loss, drop: dropOf(value) };
        });
        return { name: p.name, description: p.description ?? null, maxStrength: p.maxStrength ?? null, points };
      });
      result.perturbations = rows;
      const series = rows.flatMap((r) => r.points.map((pt) => ({ perturbation: r.name, strength: pt.strength, value: pt.value })));
      if (series.length > 0) {
        figures.push(
          lineChart('robustness-perturbations', `${metric} under the task's own input perturbations`, series, { field: 'strength', title: 'strength' }, { field: 'value', title: metric }, 'perturbation'),
        );
      }
    }

    const attackRows: { attack: string; epsilon: number; value: number; loss: number }[] = [];
    for (const attack of ['fgsm', 'pgd'] as const) {
      if (!sections.has(attack)) continue;
      const rows = opts.epsilons.map((epsilon) => {
        const xa =
          attack === 'fgsm'
            ? fgsm(target, x, y, epsilon)
            : pgd(target, x, y, epsilon, { steps: opts.pgdSteps, restarts: opts.pgdRestarts, rng: ctx.rng.split(`pgd:${epsilon}`) });
        const e = evaluate(xa);
        xa.dispose();
        ctx.progress.tick();
        return { epsilon, value: e.value, loss: e.loss, drop: dropOf(e.value) };
      });
      result[attack] = rows;
      attackRows.push(...rows.map((r) => ({ attack, ...r })));
    }
    if (attackRows.length > 0) {
      figures.push(
        lineChart('robustness-attacks', `${metric} under white-box ℓ∞ attacks (FGSM, PGD ${opts.pgdSteps} steps of ε/4)`, attackRows, { field: 'epsilon', title: 'ε (ℓ∞)', scale: 'log' }, { field: 'value', title: metric }, 'attack'),
      );
    }

    if (sections.has('ibp')) {
      const chain = denseChain(model);
      let ibp: Json;
      if (typeof chain === 'string') {
        ibp = { supported: false, reason: chain };
        ctx.progress.tick(opts.ibpEpsilons.length);
      } else {
        const err = checkChain(chain, model, params, x);
        const scale = tf.tidy(() => tf.max(tf.abs(model.apply(params, x))));
        const tol = 1e-4 * (1 + (scale.dataSync() as Float32Array)[0]);
        scale.dispose();
        if (!(err <= tol)) {
          ibp = { supported: false, reason: `reading the parameters as a dense chain does not reproduce the model (max error ${err})` };
          ctx.progress.tick(opts.ibpEpsilons.length);
        } else {
          const rows = opts.ibpEpsilons.map((epsilon) => {
            const row = ibpRow(chain, params, x, y, epsilon, domain, kind, mask);
            ctx.progress.tick();
            return row;
          });
          ibp = { supported: true, activation: chain.activation, layers: chain.layers.length, points: rows };
          figures.push(
            lineChart('robustness-ibp-width', 'Certified output-bound width (interval bound propagation) against the ℓ∞ input radius', rows.map((r) => ({ epsilon: r.epsilon, width: r.meanWidth })), { field: 'epsilon', title: 'ε (ℓ∞)', scale: 'log' }, { field: 'width', title: 'mean width of output bounds', scale: 'log' }),
          );
        }
      }
      result.ibp = ibp;
    }

    let trace: TraceSource | undefined;
    let weightExamples = 0;
    if (sections.has('weight-noise')) {
      const ws = sampleSplit(splitOf(ctx, opts.weightSplit, 'weightSplit'), opts.maxExamples, ctx.rng.split('weight-subset'));
      weightExamples = ws.n;
      const wt = splitTensors(ws);
      try {
        const wanted: TraceWanted = {
          split: opts.weightSplit,
          examples: ws.n,
          subset: ws.n === splitOf(ctx, opts.weightSplit, 'weightSplit').n ? 'all' : 'random',
          fingerprint: parameterFingerprint(params, model.specs),
        };
        const earlier = traceFromHessian(ctx.previous, wanted);
        if (earlier.trace) trace = earlier.trace;
        else {
          // Hutchinson on exactly the examples and parameters the noise is measured with
          const estimated = hutchinsonTrace(ctx, wt.x, wt.y, opts.traceProbes, ctx.rng.split('trace'));
          trace = { ...estimated, reason: `${hutchinsonReason(earlier.rejected)}; ${estimated.reason}`, ...(earlier.rejected.length ? { rejected: earlier.rejected } : {}) };
        }
        const sweep = weightNoiseSweep(ctx, wt.x, wt.y, opts.weightSigmas, opts.weightDraws, trace.value, ctx.rng.split('weight-noise'));
        ctx.progress.tick(opts.weightSigmas.length);
        result.weightNoise = {
          split: opts.weightSplit,
          examples: ws.n,
          baseLoss: sweep.baseLoss,
          trace: trace as unknown as Json,
          points: sweep.points.map((p) => ({ ...p, ratio: p.predicted !== 0 ? p.deltaLoss / p.predicted : null })),
        };
        figures.push(
          lineChart(
            'robustness-weight-noise',
            'Loss increase under weight noise against the curvature prediction ½σ²·tr H',
            sweep.points.flatMap((p) => [
              { sigma: p.sigma, deltaLoss: p.deltaLoss, curve: 'measured' },
              { sigma: p.sigma, deltaLoss: p.predicted, curve: '½σ²·tr H' },
            ]),
            { field: 'sigma', title: 'σ (weights)', scale: 'log' },
            { field: 'deltaLoss', title: 'ΔL' },
            'curve',
          ),
        );
      } finally {
        tf.dispose([wt.x, wt.y]);
      }
    }
    ctx.progress.stop();
    result.headline = headline(result, opts, metric);
    const noiseRow = nearest(result.noise as Row[] | undefined, 'sigma', opts.referenceSigma);
    const smearRow = nearest((result.smearing as { points: Row[] } | undefined)?.points, 'sigma', opts.referenceSmear);

    return {
      result: result as Json,
      headline: robustnessHeadline({
        summary: summaryOf(result.headline),
        higherIsBetter: higherIsBetter(metric),
        split: opts.split,
        examples: evalSplit.n,
        sections,
        drawStderr: { noise: noiseRow ? (drawStderr.get(noiseRow) ?? null) : null, smearing: smearRow ? (drawStderr.get(smearRow) ?? null) : null },
        pgd: { steps: opts.pgdSteps, restarts: opts.pgdRestarts },
      }),
      figures,
      provenance: {
        analysis: 'robustness',
        version: VERSION,
        seed: ctx.seed,
        backend: ctx.backend,
        settings: opts as unknown as Json,
        samples: { split: opts.split, examples: evalSplit.n, weightSplit: opts.weightSplit, weightExamples },
        metric,
        attacks: { norm: 'linf', pgdStepSize: 'epsilon/4', pgdStart: 'uniform in the ball', clip: domain.kind },
        masked: mask !== null,
        trace: trace ? (trace as unknown as Json) : null,
      },
    };
  } finally {
    tf.dispose(mask ? [x, y, mask] : [x, y]);
  }
}

type Row = Record<string, number>;

/**
 * A few scalars a summary across runs reads by stable paths (null where the section did not run):
 * the metric drops (positive = worse) under noise, smearing, FGSM and PGD at the reference σ and ε
 * (the nearest swept value), the invariance score and agreement of every symmetry, and the drop of
 * every task perturbation at its largest strength.
 */
function headline(result: Record<string, Json>, opts: RobustnessOptions, metric: MetricName): Json {
  const noise = nearest(result.noise as Row[] | undefined, 'sigma', opts.referenceSigma);
  const smearing = nearest((result.smearing as { points: Row[] } | undefined)?.points, 'sigma', opts.referenceSmear);
  const fgsmRow = nearest(result.fgsm as Row[] | undefined, 'epsilon', opts.referenceEpsilon);
  const pgdRow = nearest(result.pgd as Row[] | undefined, 'epsilon', opts.referenceEpsilon);
  const symmetries = (result.symmetries as { name: string; invariance: number | null; agreement: number | null }[] | undefined) ?? [];
  const perturbations = (result.perturbations as { name: string; points: Row[] }[] | undefined) ?? [];
  const largest = (points: Row[]) => points.reduce<Row | null>((a, p) => (a === null || p.strength > a.strength ? p : a), null);
  return {
    metric,
    clean: (result.clean as Row).value,
    noiseSigma: noise?.sigma ?? null,
    noiseDrop: noise?.drop ?? null,
    smearSigma: smearing?.sigma ?? null,
    smearDrop: smearing?.drop ?? null,
    epsilon: (pgdRow ?? fgsmRow)?.epsilon ?? null,
    fgsmDrop: fgsmRow?.drop ?? null,
    pgdDrop: pgdRow?.drop ?? null,
    pgdValue: pgdRow?.value ?? null,
    invariance: Object.fromEntries(symmetries.map((s) => [s.name, s.invariance])),
    agreement: Object.fromEntries(symmetries.map((s) => [s.name, s.agreement])),
    perturbationDrop: Object.fromEntries(perturbations.map((p) => [p.name, largest(p.points)?.drop ?? null])),
    perturbationStrength: Object.fromEntries(perturbations.map((p) => [p.name, largest(p.points)?.strength ?? null])),
  };
}

/** IBP at one radius: bound widths, log-volume, and certified accuracy or worst-case error. */
function ibpRow(
  chain: Exclude<ReturnType<typeof denseChain>, string>,
  params: AnalysisContext['params'],
  x: tf.Tensor,
  y: tf.Tensor,
  epsilon: number,
  domain: InputDomain,
  kind: AnalysisContext['task']['outputKind'],
  mask: tf.Tensor | null,
): { epsilon: number; meanWidth: number; maxWidth: number; meanLog10Volume: number; certified: number; certifiedMetric: string } {
  const b = x.shape[0];
  const { lower, upper } = tf.tidy(() => {
    let lo = tf.minimum(clipToDomain(tf.sub(x, epsilon), domain), x);
    let hi = tf.maximum(clipToDomain(tf.add(x, epsilon), domain), x);
    // padding is not perturbed: its interval is the single clean value
    if (mask) [lo, hi] = [onRealValues(x, lo, mask), onRealValues(x, hi, mask)];
    return intervalBounds(chain, params, lo, hi);
  });
  const l = lower.dataSync() as Float32Array;
  const u = upper.dataSync() as Float32Array;
  const t = y.dataSync() as Float32Array;
  tf.dispose([lower, upper]);
  const m = l.length / b;
  let sumW = 0;
  let maxW = 0;
  let logVol = 0;
  for (let i = 0; i < l.length; i++) {
    const w = u[i] - l[i];
    sumW += w;
    if (w > maxW) maxW = w;
  }
  for (let i = 0; i < b; i++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += Math.log10(Math.max(u[i * m + j] - l[i * m + j], 1e-30));
    logVol += s / b;
  }
  let certified = 0;
  let certifiedMetric: string;
  if (kind === 'regression') {
    certifiedMetric = 'worst-case mse bound';
    for (let i = 0; i < l.length; i++) certified += Math.max((u[i] - t[i]) ** 2, (l[i] - t[i]) ** 2) / l.length;
  } else if (kind === 'binary') {
    certifiedMetric = 'certified accuracy';
    for (let i = 0; i < b; i++) if (t[i] > 0.5 ? l[i] > 0 : u[i] < 0) certified += 1 / b;
  } else {
    certifiedMetric = 'certified accuracy';
    for (let i = 0; i < b; i++) {
      let c = 0;
      for (let j = 1; j < m; j++) if (t[i * m + j] > t[i * m + c]) c = j;
      let ok = true;
      for (let j = 0; j < m; j++) if (j !== c && u[i * m + j] >= l[i * m + c]) ok = false;
      if (ok) certified += 1 / b;
    }
  }
  return { epsilon, meanWidth: sumW / l.length, maxWidth: maxW, meanLog10Volume: logVol, certified, certifiedMetric };
}

/** The robustness analysis plugin. */
export const robustness = defineAnalysis({
  name: 'robustness',
  apiVersion: API_VERSION,
  description: "Metric under input noise, resolution smearing, symmetry transformations (with invariance scores), the task's own perturbations, FGSM/PGD attacks; IBP output bounds; weight noise against ½σ²·tr H",
  options: robustnessOptions,
  check: (options, ctx) => robustnessIssues(options, ctx),
  run: (ctx, options) => analyzeRobustness(ctx, options),
});
