import * as tf from '@tensorflow/tfjs-core';
import { packageInfo, UsageError, type AnalysisContext, type AnalysisResult, type Json, type Progress, type Rng } from '@goldstone/plugin-api';
import { flatLoss, flattenParams, sampleIndices, splitTensors, unflattenParams } from '@goldstone/core';
import {
  checkDeterministic,
  curvatureOperator,
  effectiveDimension,
  estimator,
  ESTIMATOR_KINDS,
  logAbsDensity,
  logDet,
  nearZeroModes,
  negativeFraction,
  paramRanges,
  smoothedDensity,
  symmetryZeroModes,
  type DataBatch,
  type Estimate,
  type Estimator,
  type IntervalEstimate,
  type EstimatorKind,
  type EstimatorProvenance,
  type EstimatorResult,
  type EstimatorSettings,
  type ExtremeEigenpairs,
  type LinearOperator,
  type SpectralQuadratures,
} from '@goldstone/curvature';
import { hessianFigures } from './figures';
import { hessianHeadline } from './headline';
import { generatorCurvatures, type GeneratorEntry } from './generators';
import { estimatorsFor, type HessianOptions } from './options';

/** This package's version, for provenance (read from its package.json). */
export const VERSION = packageInfo(import.meta.url).version;

/** The examples the curvature is averaged over: the split, or a seeded subset, in fixed batches. */
function selectData(ctx: AnalysisContext, opts: HessianOptions, rng: Rng): { batches: DataBatch[]; examples: number; subset: string } {
  const split = ctx.task.splits[opts.split];
  if (!split) {
    throw new UsageError(`hessian.split: the task has no split "${opts.split}" (it has: ${Object.keys(ctx.task.splits).join(', ')})`, {
      field: 'hessian.split',
    });
  }
  const { indices, subset } = sampleIndices(split.n, opts.maxExamples, rng);
  const size = opts.batchSize > 0 ? opts.batchSize : indices.length;
  const batches: DataBatch[] = [];
  for (let s = 0; s < indices.length; s += size) batches.push(splitTensors(split, indices.slice(s, s + size)));
  return { batches, examples: indices.length, subset };
}

/**
 * The random stream each kind draws from (`rng.split(…)`): the names this analysis has always
 * used, so that the same seed gives the same numbers.
 */
const STREAMS: Record<EstimatorKind, string> = { eigenpairs: 'lanczos', trace: 'trace', density: 'density' };

/** The operator, ticking `onProduct` after every product (progress bars); a block product (kept, with its size) ticks once per vector. */
function ticking(op: LinearOperator, onProduct: () => void): LinearOperator {
  const block = op.applyBlock?.bind(op);
  return {
    dim: op.dim,
    apply(v) {
      const out = op.apply(v);
      onProduct();
      return out;
    },
    ...(block
      ? {
          blockSize: op.blockSize,
          applyBlock(vs: readonly Float64Array[]) {
            const out = block(vs);
            for (let i = 0; i < vs.length; i++) onProduct();
            return out;
          },
        }
      : {}),
    get products() {
      return op.products;
    },
    dispose: () => op.dispose(),
  };
}

/** What the estimators measured: one answer per kind, and where each came from. */
interface Measured {
  eigenpairs: ExtremeEigenpairs;
  trace: Estimate;
  density: SpectralQuadratures;
  provenance: Record<EstimatorKind, EstimatorProvenance>;
}

/**
 * Run the named estimators on the operator: each kind's settings from the options, each
 * estimator once for all the kinds it is named for (`dense` answers all three from one
 * eigendecomposition), each kind on its own random stream. The estimators let the event loop turn
 * between products, so a Ctrl-C is handled during a long one.
 */
async function measure(op: LinearOperator, names: Record<EstimatorKind, string>, opts: HessianOptions, rng: Rng, progress: Progress): Promise<Measured> {
  const settings: Required<EstimatorSettings> = {
    eigenpairs: {
      topK: opts.topK,
      bottomK: opts.bottomK,
      vectors: opts.lossLines,
      maxSteps: opts.lanczosSteps,
      bottomSteps: opts.bottomSteps,
      tol: opts.tol,
      // block-lanczos: the block size asked for (0: the estimator's default, the operator's own)
      ...(opts.lanczosBlock >= 2 ? { blockSize: opts.lanczosBlock } : {}),
    },
    trace: { probes: opts.traceProbes },
    density: { probes: opts.densityProbes, steps: opts.densitySteps },
  };
  const runs = new Map<Estimator, EstimatorKind[]>();
  for (const kind of ESTIMATOR_KINDS) {
    const e = estimator(kind, names[kind]);
    runs.set(e, [...(runs.get(e) ?? []), kind]);
  }
  const answers: Partial<Record<EstimatorKind, EstimatorResult>> = {};
  for (const [e, kinds] of runs) {
    const asked: EstimatorSettings = Object.fromEntries(kinds.map((k) => [k, settings[k]]));
    progress.start(`hessian: ${e.name} (${kinds.join(', ')})`, e.products?.(op.dim, asked) ?? 0);
    const out = await e.run(ticking(op, () => progress.tick()), asked, rng.split(STREAMS[kinds[0]]));
    progress.stop();
    for (const k of kinds) {
      if (!out[k]) throw new Error(`hessian: estimator "${e.name}" returned no ${k} result`);
      answers[k] = out;
    }
  }
  const { eigenpairs, trace, density } = answers as Record<EstimatorKind, EstimatorResult>;
  return {
    eigenpairs: eigenpairs.eigenpairs!,
    trace: trace.trace!,
    density: density.density!,
    provenance: { eigenpairs: eigenpairs.provenance, trace: trace.provenance, density: density.provenance },
  };
}

/** Per-pair and per-end convergence of the extreme eigenpairs (an exact method: all converged). */
function eigenpairConvergence(eig: ExtremeEigenpairs) {
  const flag = (p: { converged?: boolean }) => p.converged ?? eig.converged;
  return {
    top: eig.top.map(flag),
    bottom: eig.bottom.map(flag),
    topConverged: eig.topConverged ?? eig.converged,
    bottomConverged: eig.bottomConverged ?? eig.converged,
    topConvergedAt: eig.topConvergedAt ?? null,
    bottomConvergedAt: eig.bottomConvergedAt ?? null,
  };
}

/** A headline number: its value and, where it has one, its interval. */
interface HeadlineEntry {
  value: number;
  stderr?: number;
  interval?: [number, number];
  level?: number;
  residual?: number;
}

/**
 * The numbers fit to quote: converged eigenvalues, the trace, and the SLQ-derived numbers flagged
 * reliable (N_eff and log det at the relative z), each with its interval; everything left out is
 * listed in `excluded` with the reason.
 */
function headlineOf(r: {
  top: number[];
  bottom: number[];
  residuals: { top: number[]; bottom: number[] } | null;
  eigenpairs: ReturnType<typeof eigenpairConvergence>;
  trace: Estimate;
  nz: IntervalEstimate;
  neffRel: IntervalEstimate | null;
  ldRel: IntervalEstimate | null;
  negative: IntervalEstimate;
}) {
  const numbers: Record<string, HeadlineEntry | HeadlineEntry[]> = {};
  const excluded: { field: string; reason: string }[] = [];
  const pairs = (values: number[], flags: boolean[], res: number[] | undefined, field: string, bound: string) => {
    const kept: HeadlineEntry[] = [];
    values.forEach((value, i) => {
      if (flags[i]) kept.push(res ? { value, residual: res[i] } : { value });
      else excluded.push({ field: `${field}[${i}]`, reason: `Lanczos did not converge: ${value} is ${bound}` });
    });
    return kept;
  };
  numbers.topEigenvalues = pairs(r.top, r.eigenpairs.top, r.residuals?.top, 'topEigenvalues', 'a lower bound θ ≤ λ');
  numbers.bottomEigenvalues = pairs(r.bottom, r.eigenpairs.bottom, r.residuals?.bottom, 'bottomEigenvalues', 'an upper bound θ ≥ λ');
  numbers.trace = { ...r.trace };
  const slq: [string, IntervalEstimate | null][] = [
    ['nearZeroModes', r.nz],
    ['effectiveDimensionRelative', r.neffRel],
    ['logDetRelative', r.ldRel],
    ['negativeFraction', r.negative],
  ];
  for (const [field, e] of slq) {
    if (!e) excluded.push({ field, reason: 'λ_max ≤ 0: no relative scale' });
    else if (!e.reliable) excluded.push({ field, reason: e.reason ?? 'unreliable' });
    else numbers[field] = { value: e.value, stderr: e.stderr, interval: e.interval, level: e.level };
  }
  return { ...numbers, excluded };
}

/** Mean loss over the batches at w (size-weighted), as a number. */
function meanLoss(fs: ((w: tf.Tensor1D) => tf.Scalar)[], weights: number[], w: tf.Tensor1D): number {
  return tf.tidy(() => fs.reduce((s, f, i) => s + f(w).dataSync()[0] * weights[i], 0));
}

/** Run the Hessian analysis (the `hessian` plugin's `run`). */
export async function analyzeHessian(ctx: AnalysisContext, opts: HessianOptions): Promise<AnalysisResult> {
  const started = Date.now();
  try {
    estimator('trace', opts.traceEstimator);
  } catch (e) {
    throw new UsageError(`hessian.traceEstimator: ${(e as Error).message}`, { field: 'hessian.traceEstimator' });
  }
  if (opts.objective === 'total' && opts.operator !== 'hessian') {
    throw new UsageError(`hessian.objective: total has a Hessian only, but operator is "${opts.operator}"; use operator: hessian or objective: data`, { field: 'hessian.objective' });
  }
  const rng = opts.seed ? ctx.rng.split(`seed:${opts.seed}`) : ctx.rng;
  const total = opts.objective === 'total' ? ctx.objective.total : undefined;
  const { model } = ctx;
  const { batches, examples, subset } = selectData(ctx, opts, rng.split('subset'));
  let op: LinearOperator | undefined;
  try {
    op = curvatureOperator({ model, loss: ctx.task.loss, params: ctx.params, data: batches, kind: opts.operator, restrictTo: opts.params, objective: total });
    const n = op.dim;
    const determinism = checkDeterministic(op, rng.split('determinism'));
    const method = opts.method === 'auto' ? (n <= opts.exactMaxParams ? 'exact' : 'lanczos') : opts.method;

    // Each quantity from the estimator the method names for it, each estimator run once.
    const { eigenpairs: eig, trace: tr, density: dens, provenance: from } = await measure(op, estimatorsFor(method, opts), opts, rng, ctx.progress);
    const top = eig.top.map((p) => p.value);
    const bottom = eig.bottom.map((p) => p.value);
    const residuals = [...eig.top, ...eig.bottom].every((p) => p.residual !== undefined)
      ? { top: eig.top.map((p) => p.residual as number), bottom: eig.bottom.map((p) => p.residual as number) }
      : null;
    const topVectors = eig.top.slice(0, opts.lossLines).flatMap((p) => (p.vector ? [p.vector] : []));
    const converged = eig.converged;
    const spectrum = eig.spectrum ?? null;
    const trace = { value: tr.value, stderr: tr.stderr };
    const quadratures = dens.quadratures;
    // every number's provenance is its estimator's
    const estimators: Record<string, EstimatorProvenance> = {
      topEigenvalues: from.eigenpairs,
      bottomEigenvalues: from.eigenpairs,
      trace: from.trace,
      density: { ...from.density, smoothing: `gaussian, sigma = ${opts.sigma} × spectral range` },
      nearZeroModes: from.density,
      effectiveDimension: from.density,
      logDet: from.density,
      effectiveDimensionRelative: from.density,
      logDetRelative: from.density,
      negativeFraction: from.density,
    };

    const lambdaMax = top[0];
    // θ_{m+1} ≥ λ_max for the quadrature brackets: exact, or the converged top Ritz value plus its
    // residual (valid unless Lanczos missed an eigenvalue above its top Ritz value); none otherwise
    const topConverged = eig.topConverged ?? eig.converged;
    const lambdaMaxBound = spectrum ? spectrum[0] : topConverged && residuals ? lambdaMax + residuals.top[0] : undefined;
    const source = { quadratures, dim: n, lambdaMax, lambdaMaxBound, level: opts.level, maxRelativeBracket: opts.maxRelativeBracket };
    const density = smoothedDensity(quadratures, { sigma: opts.sigma, points: opts.gridPoints });
    const logDensity = logAbsDensity(quadratures, { sigma: opts.logSigma, points: opts.gridPoints });
    const nz = nearZeroModes(source, opts.epsilon);
    const neff = effectiveDimension(source, opts.z, 'absolute');
    const ld = logDet(source, opts.z, 'absolute');
    const negative = negativeFraction(source);
    // the same at a scale relative to λ_max (comparable across runs whose curvature scales differ): the headline
    const zRel = lambdaMax > 0 ? opts.zRelative * lambdaMax : null;
    const neffRel = zRel === null ? null : effectiveDimension(source, zRel, 'relative');
    const ldRel = zRel === null ? null : logDet(source, zRel, 'relative');
    const eigenpairs = eigenpairConvergence(eig);
    const headline = headlineOf({ top, bottom, residuals, eigenpairs, trace: { value: tr.value, stderr: tr.stderr }, nz, neffRel, ldRel, negative });

    // Curvature along the directions that realise the task's input-symmetry generators.
    const generators: GeneratorEntry[] = opts.generators
      ? generatorCurvatures(
          ctx,
          op,
          { method, lambdaMax, quadratures, spectrum, eigenvector: eig.eigenvector },
          batches,
          { bottomOverlapK: opts.bottomOverlapK, bottomOverlapBy: opts.bottomOverlapBy, checkExamples: opts.generatorCheckExamples, ranges: opts.params ? paramRanges(model.specs, opts.params) : null },
        )
      : [];

    // Curvature along the model's declared parameter symmetries: predicted vs measured zero modes.
    const symmetries: Json[] = [];
    if (opts.directions === 'symmetries' && model.symmetries) {
      const declared = model.symmetries(ctx.params);
      const ranges = opts.params ? paramRanges(model.specs, opts.params) : null;
      for (const sym of declared) {
        const dirs = sym.directions.map((d) => {
          const full = d.dataSync() as Float32Array;
          d.dispose();
          if (!ranges) return Float64Array.from(full);
          return Float64Array.from(ranges.flatMap((r) => Array.from(full.subarray(r.offset, r.offset + r.size))));
        });
        if (dirs.length === 0) continue;
        const before = op.products;
        const res = await symmetryZeroModes(op, dirs, { lambdaMax, epsilon: opts.epsilon });
        symmetries.push({
          name: sym.name,
          directions: dirs.length,
          predictedZeroModes: res.predicted,
          measuredZeroModes: res.measured,
          curvatures: res.curvatures.map((c) => c.value),
          relativeCurvatures: res.curvatures.map((c) => c.relative ?? null),
          restrictedEigenvalues: res.restrictedEigenvalues,
          provenance: { estimator: 'vᵀHv/‖v‖² and eigenvalues of QᵀHQ on the span', epsilon: opts.epsilon, hvps: op.products - before },
        });
      }
    }

    // Loss along the top eigenvectors: L(w + t·u), t over ±3/√λ (where the quadratic model rises by 4.5).
    const lossLines: { index: number; eigenvalue: number; t: number[]; loss: number[]; quadratic: number[] }[] = [];
    if (opts.lossLines > 0 && topVectors.length > 0) {
      const kept = batches;
      const fs = kept.map((b) =>
        total ? (w: tf.Tensor1D) => tf.tidy(() => total(unflattenParams(w, model.specs), b.x, b.y)) : flatLoss(model, ctx.task.loss, b.x, b.y),
      );
      const weights = kept.map((b) => b.x.shape[0] / examples);
      const w0 = flattenParams(ctx.params, model.specs);
      const ranges = opts.params ? paramRanges(model.specs, opts.params) : null;
      try {
        const l0 = meanLoss(fs, weights, w0);
        topVectors.forEach((u, i) => {
          const lambda = top[i];
          const radius = 3 / Math.sqrt(Math.max(Math.abs(lambda), 1e-12));
          const full = new Float32Array(model.paramCount);
          if (ranges) {
            let k = 0;
            for (const r of ranges) for (let j = 0; j < r.size; j++) full[r.offset + j] = u[k++];
          } else full.set(u);
          const dir = tf.tensor1d(full);
          const ts: number[] = [];
          const ls: number[] = [];
          const qs: number[] = [];
          for (let p = 0; p < opts.lossLinePoints; p++) {
            const t = -radius + (2 * radius * p) / (opts.lossLinePoints - 1);
            const w = tf.tidy(() => tf.add(w0, tf.mul(dir, t)) as tf.Tensor1D);
            ts.push(t);
            ls.push(meanLoss(fs, weights, w));
            qs.push(l0 + 0.5 * lambda * t * t);
            w.dispose();
          }
          dir.dispose();
          lossLines.push({ index: i, eigenvalue: lambda, t: ts, loss: ls, quadratic: qs });
        });
      } finally {
        w0.dispose();
      }
    }

    const hvpCount = op.products;
    const result = {
      method,
      operator: opts.operator,
      objective: opts.objective,
      paramCount: n,
      examples,
      topEigenvalues: top,
      bottomEigenvalues: bottom,
      ritzResiduals: residuals,
      converged,
      eigenpairs,
      trace,
      density: { grid: density.grid, values: density.values, sigma: density.sigma },
      logDensity: {
        grid: logDensity.grid,
        values: logDensity.values,
        sigma: logDensity.sigma,
        floor: logDensity.floor,
        negativeFraction: logDensity.negativeFraction,
      },
      nearZeroModes: nz,
      effectiveDimension: neff,
      logDet: ld,
      zRelative: opts.zRelative,
      zRelativeValue: zRel,
      effectiveDimensionRelative: neffRel,
      logDetRelative: ldRel,
      negativeFraction: negative,
      lambdaMaxBound: lambdaMaxBound ?? null,
      headline,
      symmetries,
      generators,
      lossLines,
      spectrum,
      hvpCount,
    };
    const provenance = {
      analysis: 'hessian',
      version: VERSION,
      seed: ctx.seed,
      seedOffset: opts.seed,
      backend: ctx.backend,
      method,
      operator: opts.operator,
      objective: opts.objective,
      objectiveTerms: opts.objective === 'total' ? ctx.objective.terms : { data: ctx.task.loss },
      trainedObjective: { penalised: ctx.objective.penalised, terms: ctx.objective.terms },
      params: opts.params ?? null,
      data: { split: opts.split, examples, subset, batches: batches.length },
      determinism: { checked: true, maxAbsDiff: determinism.maxAbsDiff },
      estimators,
      hvpCount,
    };
    // wall time goes to the log, not the result: same seed, same numbers
    ctx.progress.log(`hessian: ${method}, ${n} parameters, ${hvpCount} HVPs, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return {
      result: result as unknown as Json,
      headline: hessianHeadline({ ...result, split: opts.split, traceEstimator: opts.traceEstimator, traceProbes: opts.traceProbes }),
      figures: opts.figures ? hessianFigures(result) : undefined,
      provenance: provenance as unknown as AnalysisResult['provenance'],
    };
  } finally {
    op?.dispose();
    for (const b of batches) tf.dispose([b.x, b.y]);
  }
}
