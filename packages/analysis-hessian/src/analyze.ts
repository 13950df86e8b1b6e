import * as tf from '@tensorflow/tfjs-core';
import { packageInfo, UsageError, type AnalysisContext, type AnalysisResult, type Json, type Rng } from '@goldstone/plugin-api';
import { flatLoss, flattenParams, sampleIndices, splitTensors } from '@goldstone/core';
import { checkDeterministic, curvatureOperator, effectiveDimension, exactQuadrature, exactSpectrum, hutchPlusPlus, hutchinson, lanczos, logAbsDensity, logDet, nearZeroModes, paramRanges, smoothedDensity, stochasticLanczosQuadrature, symmetryZeroModes, type DataBatch, type LinearOperator, type Quadrature } from '@goldstone/curvature';
import { hessianFigures } from './figures';
import type { HessianOptions } from './options';

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

/** Mean loss over the batches at w (size-weighted), as a number. */
function meanLoss(fs: ((w: tf.Tensor1D) => tf.Scalar)[], weights: number[], w: tf.Tensor1D): number {
  return tf.tidy(() => fs.reduce((s, f, i) => s + f(w).dataSync()[0] * weights[i], 0));
}

/** Run the Hessian analysis (the `hessian` plugin's `run`). */
export async function analyzeHessian(ctx: AnalysisContext, opts: HessianOptions): Promise<AnalysisResult> {
  const started = Date.now();
  const rng = opts.seed ? ctx.rng.split(`seed:${opts.seed}`) : ctx.rng;
  const { model } = ctx;
  const { batches, examples, subset } = selectData(ctx, opts, rng.split('subset'));
  const estimators: Record<string, Json> = {};
  let op: LinearOperator | undefined;
  try {
    op = curvatureOperator({ model, loss: ctx.task.loss, params: ctx.params, data: batches, kind: opts.operator, restrictTo: opts.params });
    const n = op.dim;
    const determinism = checkDeterministic(op, rng.split('determinism'));
    const method = opts.method === 'auto' ? (n <= opts.exactMaxParams ? 'exact' : 'lanczos') : opts.method;

    let top: number[];
    let bottom: number[];
    let residuals: { top: number[]; bottom: number[] } | null = null;
    let topVectors: Float64Array[];
    let trace: { value: number; stderr: number };
    let quadratures: Quadrature[];
    let spectrum: number[] | null = null;
    let converged = true;

    if (method === 'exact') {
      ctx.progress.start('hessian: dense matrix', n);
      const before = op.products;
      const { matrix, eigen } = exactSpectrum(op, () => ctx.progress.tick());
      ctx.progress.stop();
      const asc = eigen.values;
      spectrum = [...asc].reverse();
      top = spectrum.slice(0, opts.topK);
      bottom = asc.slice(0, opts.bottomK);
      topVectors = Array.from({ length: Math.min(opts.lossLines, n) }, (_, i) => eigen.vector(n - 1 - i));
      trace = { value: asc.reduce((s, v) => s + v, 0), stderr: 0 };
      quadratures = [exactQuadrature(asc)];
      const exact = { estimator: 'dense', hvps: op.products - before, asymmetry: matrix.asymmetry, eigensolver: 'Householder tridiagonalisation + implicit QL; eigenvectors by inverse iteration (core symmetricEigenDecomposition)' };
      for (const k of ['topEigenvalues', 'bottomEigenvalues', 'trace', 'density', 'nearZeroModes', 'effectiveDimension', 'logDet']) {
        estimators[k] = exact;
      }
    } else {
      ctx.progress.start('hessian: lanczos', opts.lanczosSteps);
      let lzBefore = op.products;
      const lz = lanczos(op, {
        topK: opts.topK,
        bottomK: opts.bottomK,
        maxSteps: opts.lanczosSteps,
        tol: opts.tol,
        vectors: opts.lossLines > 0,
        rng: rng.split('lanczos'),
      });
      ctx.progress.stop();
      converged = lz.converged;
      top = lz.top.map((p) => p.value);
      bottom = lz.bottom.map((p) => p.value);
      residuals = { top: lz.top.map((p) => p.residual), bottom: lz.bottom.map((p) => p.residual) };
      topVectors = lz.top.slice(0, opts.lossLines).flatMap((p) => (p.vector ? [p.vector] : []));
      const eig = {
        estimator: 'lanczos (full reorthogonalisation)',
        steps: lz.steps,
        tol: opts.tol,
        converged: lz.converged,
        stopping: 'Ritz residual |β_m s_m,i| ≤ tol·|λ_max|',
        hvps: op.products - lzBefore,
      };
      estimators.topEigenvalues = eig;
      estimators.bottomEigenvalues = eig;

      ctx.progress.start('hessian: trace', opts.traceProbes);
      lzBefore = op.products;
      const tr =
        opts.traceEstimator === 'hutch++'
          ? hutchPlusPlus(op, { products: Math.max(6, opts.traceProbes), rng: rng.split('trace') })
          : hutchinson(op, { probes: opts.traceProbes, rng: rng.split('trace') });
      ctx.progress.stop();
      trace = { value: tr.value, stderr: tr.stderr };
      estimators.trace = { estimator: tr.estimator, probes: tr.probes, probe: 'rademacher', hvps: tr.products, stderr: tr.stderr };

      ctx.progress.start('hessian: density', opts.densityProbes);
      const slq = stochasticLanczosQuadrature(op, { probes: opts.densityProbes, steps: opts.densitySteps, rng: rng.split('density') });
      ctx.progress.stop();
      quadratures = slq.quadratures;
      const slqInfo = { estimator: 'stochastic lanczos quadrature', probes: opts.densityProbes, steps: slq.steps, probe: 'rademacher', hvps: slq.products };
      estimators.density = { ...slqInfo, smoothing: `gaussian, sigma = ${opts.sigma} × spectral range` };
      estimators.nearZeroModes = slqInfo;
      estimators.effectiveDimension = slqInfo;
      estimators.logDet = slqInfo;
    }

    const lambdaMax = top[0];
    const source = { quadratures, dim: n, lambdaMax };
    const density = smoothedDensity(quadratures, { sigma: opts.sigma, points: opts.gridPoints });
    const logDensity = logAbsDensity(quadratures, { sigma: opts.logSigma, points: opts.gridPoints });
    const nz = nearZeroModes(source, opts.epsilon);
    const neff = effectiveDimension(source, opts.z);
    const ld = logDet(source, opts.z);

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
        const res = symmetryZeroModes(op, dirs, { lambdaMax, epsilon: opts.epsilon });
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
      const fs = kept.map((b) => flatLoss(model, ctx.task.loss, b.x, b.y));
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
      paramCount: n,
      examples,
      topEigenvalues: top,
      bottomEigenvalues: bottom,
      ritzResiduals: residuals,
      converged,
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
      symmetries,
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
      figures: opts.figures ? hessianFigures(result) : undefined,
      provenance: provenance as unknown as AnalysisResult['provenance'],
    };
  } finally {
    op?.dispose();
    for (const b of batches) tf.dispose([b.x, b.y]);
  }
}
