import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, createAnalysisContext, disposeParams, flatLoss, flattenParams, gradientOf, splitTensors, unflattenParams } from '@goldstone/core';
import { headlineIssues, type HeadlineNumber, type ModelInstance, type Params, type TaskInstance } from '@goldstone/plugin-api';
import { mlp } from '@goldstone/models';
import { testPlugin, toyRegressionTask } from '@goldstone/testkit';
import { defineEstimator, registerEstimator, settingsOf } from '@goldstone/curvature';
import { hessian } from './hessian';
import { plugins } from './index';
import { sharpness } from './sharpness';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

testPlugin(hessian, {
  options: { topK: 3, bottomK: 1, traceProbes: 6, densityProbes: 2, densitySteps: 10, lossLines: 1, lossLinePoints: 5 },
  badOptions: { method: 'dense' },
});

async function setting(opts: { hidden: number[]; activation: string; steps: number; lr: number; trainSize?: number }) {
  const rng = new Rng(7);
  const task = await toyRegressionTask.create(toyRegressionTask.options.parse({ trainSize: opts.trainSize ?? 64, inputs: 4, outputs: 2 }), { rng });
  const model = mlp.create(mlp.options.parse({ hidden: opts.hidden, activation: opts.activation }), {
    inputShape: task.inputShape,
    outputSize: task.outputSize,
    outputKind: task.outputKind,
  });
  const init = model.init(rng.split('init'));
  let w = flattenParams(init, model.specs);
  disposeParams(init);
  const { x, y } = splitTensors(task.splits.train);
  const f = flatLoss(model, task.loss, x, y);
  for (let s = 0; s < opts.steps; s++) {
    const g = gradientOf(f, w);
    const next = tf.tidy(() => tf.sub(w, tf.mul(g, opts.lr)) as tf.Tensor1D);
    tf.dispose([g, w]);
    w = next;
  }
  const params = tf.tidy(() => unflattenParams(w, model.specs));
  tf.dispose([w, x, y]);
  return { task, model, params };
}

async function runHessian(s: { task: TaskInstance; model: ModelInstance; params: Params }, raw: Record<string, unknown>) {
  const ctx = createAnalysisContext({ ...s, seed: 5, backend: 'cpu', analysis: 'hessian' });
  return hessian.run(ctx, hessian.options.parse(raw)) as Promise<{ result: any; headline: HeadlineNumber[]; provenance: any; figures?: any[] }>;
}

describe('hessian analysis', () => {
  it('exports the plugin', () => {
    expect(plugins).toEqual([hessian, sharpness]);
    expect(hessian.kind).toBe('analysis');
  });

  it('lanczos mode agrees with exact mode on a tanh MLP (top-5 to 1e-4, trace within 3 stderr, density)', async () => {
    const s = await setting({ hidden: [16], activation: 'tanh', steps: 100, lr: 0.05 });
    const exact = await runHessian(s, { method: 'exact', topK: 5, bottomK: 2 });
    const lz = await runHessian(s, { method: 'lanczos', topK: 5, bottomK: 2, tol: 1e-6, traceProbes: 40, densityProbes: 8, densitySteps: 30 });
    const n = s.model.paramCount;
    expect(exact.result.paramCount).toBe(n);
    expect(exact.result.spectrum).toHaveLength(n);
    expect(exact.result.hvpCount).toBe(n + 2); // one per column + the determinism check (tanh: no declared symmetries)
    const e = exact.result.topEigenvalues as number[];
    const gaps = e.every((v, i) => i === 0 || Math.abs(e[i - 1] - v) > 1e-3 * e[0]);
    expect(gaps).toBe(true);
    (lz.result.topEigenvalues as number[]).forEach((v, i) => expect(Math.abs(v - e[i]) / e[i]).toBeLessThan(1e-4));
    expect(lz.result.eigenpairs.topConverged).toBe(true);
    expect(Math.abs(lz.result.trace.value - exact.result.trace.value)).toBeLessThan(3 * lz.result.trace.stderr);
    // the declared headline: its numbers are the result's, exact in exact mode, the Hutchinson
    // stderr in Lanczos mode, whose bar covers the dense trace
    for (const r of [exact, lz]) {
      expect(headlineIssues(r.headline)).toEqual([]);
      const h = Object.fromEntries(r.headline.map((x) => [x.key, x]));
      expect(r.headline.map((x) => x.key)).toEqual(['lambdaMax', 'trace', 'lambdaMin', 'effectiveDimension', 'nearZeroModes', 'negativeFraction']);
      expect(h.lambdaMax.value).toBe(r.result.topEigenvalues[0]);
      expect(h.lambdaMax.exact).toBe(true);
      expect(h.lambdaMin.value).toBe(r.result.eigenpairs.bottom[0] ? r.result.bottomEigenvalues[0] : null);
      expect(h.trace.value).toBe(r.result.trace.value);
      for (const k of ['effectiveDimension', 'nearZeroModes', 'negativeFraction']) {
        const field = k === 'effectiveDimension' ? 'effectiveDimensionRelative' : k;
        expect(h[k].value).toBe(r.result[field].reliable ? r.result[field].value : null);
      }
    }
    const hx = Object.fromEntries(exact.headline.map((x) => [x.key, x]));
    const hl = Object.fromEntries(lz.headline.map((x) => [x.key, x]));
    expect(hx.trace.exact).toBe(true);
    expect(hx.effectiveDimension.exact).toBe(true);
    expect(hl.trace.stderr).toBe(lz.result.trace.stderr);
    expect(Math.abs(hl.trace.value! - hx.trace.value!)).toBeLessThan(3 * hl.trace.stderr!);
    // SLQ density: unit mass, first moment × n ≈ the trace
    for (const r of [exact.result, lz.result]) {
      const { grid, values } = r.density;
      let mass = 0;
      let moment = 0;
      for (let i = 1; i < grid.length; i++) {
        const h = grid[i] - grid[i - 1];
        mass += 0.5 * h * (values[i] + values[i - 1]);
        moment += 0.5 * h * (grid[i] * values[i] + grid[i - 1] * values[i - 1]);
      }
      expect(mass).toBeCloseTo(1, 3);
      expect(Math.abs(n * moment - exact.result.trace.value)).toBeLessThan(Math.max(3 * lz.result.effectiveDimension.stderr, 0.05 * Math.abs(exact.result.trace.value)) + 1e-3);
    }
    expect(Math.abs(lz.result.effectiveDimension.value - exact.result.effectiveDimension.value)).toBeLessThan(
      3 * lz.result.effectiveDimension.stderr + 1e-6,
    );
    disposeParams(s.params);
  });

  // Every SLQ-derived number against the exact one on real small models: 2 models × 10 seeds =
  // 20 cases × 6 metrics. Measured when written: coverage 1.00 (120 of 120) at level 0.9.
  it('SLQ intervals cover the exact numbers at ≥ their level (tanh and ReLU MLPs × 10 seeds)', async () => {
    const metrics = ['nearZeroModes', 'effectiveDimension', 'logDet', 'effectiveDimensionRelative', 'logDetRelative', 'negativeFraction'];
    let covered = 0;
    let total = 0;
    for (const m of [
      { hidden: [16], activation: 'tanh', steps: 100, lr: 0.05 },
      { hidden: [8], activation: 'relu', steps: 300, lr: 0.05 },
    ]) {
      const s = await setting(m);
      const common = { topK: 3, bottomK: 2, lossLines: 0, figures: false, generators: false, directions: 'none', epsilon: 1e-3 };
      const exact = (await runHessian(s, { ...common, method: 'exact' })).result;
      for (const m of metrics) expect(exact[m].interval[0]).toBe(exact[m].interval[1]);
      for (let seed = 0; seed < 10; seed++) {
        const declared = await runHessian(s, { ...common, method: 'lanczos', seed, densitySteps: 20 });
        const lz = declared.result;
        for (const k of metrics) {
          const e = lz[k];
          const truth = exact[k].value;
          expect(e.level).toBe(0.9);
          expect(e.interval[0]).toBeLessThanOrEqual(e.interval[1]);
          expect(typeof e.reliable).toBe('boolean');
          if (!e.reliable) expect(e.reason).toEqual(expect.any(String));
          const slack = 1e-6 * Math.max(1, Math.abs(truth));
          if (e.interval[0] - slack <= truth && truth <= e.interval[1] + slack) covered++;
          total++;
        }
        // the declared headline states the same SLQ intervals, or null with the reason
        expect(headlineIssues(declared.headline)).toEqual([]);
        for (const h of declared.headline.filter((x) => ['effectiveDimension', 'nearZeroModes', 'negativeFraction'].includes(x.key))) {
          const e = declared.result[h.key === 'effectiveDimension' ? 'effectiveDimensionRelative' : h.key];
          if (e.reliable && e.exact && e.stderr === 0) expect(h).toMatchObject({ value: e.value, exact: true });
          else if (e.reliable) {
            expect(h.value).toBe(e.value);
            expect(h.interval).toEqual(e.interval);
            expect(h.level).toBe(e.level);
          } else expect(h.value === null && h.note).toBeTruthy();
        }
        expect(lz.effectiveDimensionRelative.scale).toBe('relative');
        expect(lz.effectiveDimensionRelative.zRelative).toBeCloseTo(1e-3, 12);
        expect(lz.effectiveDimension.scale).toBe('absolute');
        expect(lz.logDet.z).toBe(1e-3);
      }
      disposeParams(s.params);
    }
    expect(total).toBe(120);
    expect(covered / total).toBeGreaterThanOrEqual(0.9);
  }, 600_000);

  it('stops Lanczos when the top has converged and keeps unconverged bottom values out of the headline', async () => {
    const s = await setting({ hidden: [16], activation: 'tanh', steps: 100, lr: 0.05 });
    const common = { method: 'lanczos', topK: 3, bottomK: 2, lossLines: 0, generators: false, directions: 'none', traceProbes: 4, densityProbes: 2, densitySteps: 10 };
    const lean = await runHessian(s, common);
    const full = await runHessian(s, { ...common, bottomSteps: 100 });
    const ep = lean.result.eigenpairs;
    expect(ep.topConverged).toBe(true);
    const lanczosHvps = (r: any) => r.provenance.estimators.topEigenvalues.hvps;
    expect(lanczosHvps(lean)).toBe(ep.topConvergedAt);
    expect(lanczosHvps(lean)).toBeLessThanOrEqual(lanczosHvps(full));
    expect(lean.provenance.estimators.topEigenvalues.topConvergedAt).toBe(ep.topConvergedAt);
    const excluded = lean.result.headline.excluded.map((x: any) => x.field);
    ep.bottom.forEach((ok: boolean, i: number) => {
      expect(excluded.includes(`bottomEigenvalues[${i}]`)).toBe(!ok);
      // an unconverged bottom Ritz value bounds the true one from above
      if (!ok) expect(lean.result.bottomEigenvalues[i]).toBeGreaterThanOrEqual(full.result.bottomEigenvalues[i] - 1e-9);
    });
    expect(lean.result.headline.topEigenvalues).toHaveLength(3);
    for (const e of lean.result.headline.excluded) expect(e.reason).toEqual(expect.any(String));
    // the declared headline: an unconverged λ_min is null, with the bound it is
    const lambdaMin = lean.headline.find((x) => x.key === 'lambdaMin')!;
    expect(headlineIssues(lean.headline)).toEqual([]);
    if (ep.bottom[0]) expect(lambdaMin.value).toBe(lean.result.bottomEigenvalues[0]);
    else expect(lambdaMin).toMatchObject({ value: null, note: expect.stringMatching(/Lanczos did not converge.*upper bound/) });
    for (const k of ['nearZeroModes', 'effectiveDimensionRelative', 'logDetRelative', 'negativeFraction']) {
      expect(k in lean.result.headline !== excluded.includes(k)).toBe(true);
    }
    disposeParams(s.params);
  }, 240_000);

  it('finds the zero modes a ReLU MLP declares (rescaling symmetries) near a minimum', async () => {
    const s = await setting({ hidden: [5], activation: 'relu', steps: 3000, lr: 0.05, trainSize: 12 });
    const { result } = await runHessian(s, { method: 'exact', epsilon: 1e-3 });
    const sym = result.symmetries.find((x: any) => x.name === 'relu-rescaling');
    expect(sym.directions).toBe(5);
    expect(sym.predictedZeroModes).toBe(5);
    expect(sym.measuredZeroModes).toBe(sym.predictedZeroModes);
    for (const c of sym.relativeCurvatures) expect(Math.abs(c)).toBeLessThan(1e-3);
    // the spectrum has at least those near-zero modes
    expect(result.nearZeroModes.value).toBeGreaterThanOrEqual(5);
    disposeParams(s.params);
  });

  it('restricts to a parameter block and offers the Gauss–Newton operator', async () => {
    const s = await setting({ hidden: [6], activation: 'tanh', steps: 50, lr: 0.05 });
    const block = await runHessian(s, { method: 'exact', params: ['dense1.weight'], lossLines: 1 });
    expect(block.result.paramCount).toBe(12);
    // the output layer of an MSE model: H_block = 2/(N·outputs) Σ hᵀh ⊗ I is positive semi-definite
    expect(Math.min(...block.result.spectrum)).toBeGreaterThan(-1e-6 * block.result.topEigenvalues[0]);
    const ggn = await runHessian(s, { method: 'exact', operator: 'ggn' });
    const full = await runHessian(s, { method: 'exact' });
    expect(Math.min(...ggn.result.spectrum)).toBeGreaterThan(-1e-5 * ggn.result.topEigenvalues[0]);
    expect(ggn.result.trace.value).not.toBeCloseTo(full.result.trace.value, 6);
    expect(ggn.provenance.operator).toBe('ggn');
    disposeParams(s.params);
  });

  it('gives the fields the CLI prints, with provenance on every number', async () => {
    const s = await setting({ hidden: [8], activation: 'tanh', steps: 20, lr: 0.05 });
    const { result, provenance, figures } = await runHessian(s, { method: 'auto', exactMaxParams: 10 });
    expect(result.method).toBe('lanczos');
    const top = result.topEigenvalues as number[];
    expect(top).toEqual([...top].sort((a, b) => b - a));
    expect(result.trace).toEqual({ value: expect.any(Number), stderr: expect.any(Number) });
    expect(result.density.grid.length).toBe(result.density.values.length);
    expect(typeof result.nearZeroModes.value).toBe('number');
    expect(typeof result.effectiveDimension.value).toBe('number');
    expect(result.hvpCount).toBe(provenance.hvpCount);
    const counted =
      2 + provenance.estimators.topEigenvalues.hvps + provenance.estimators.trace.hvps + provenance.estimators.density.hvps;
    expect(result.hvpCount).toBe(counted);
    for (const k of ['topEigenvalues', 'trace', 'density', 'nearZeroModes', 'effectiveDimension', 'logDet']) {
      expect(provenance.estimators[k].estimator).toEqual(expect.any(String));
    }
    expect(provenance.seed).toBe(5);
    expect(provenance.determinism.checked).toBe(true);
    expect(figures!.map((f: any) => f.name)).toEqual(['hessian-spectrum', 'hessian-density', 'hessian-log-density', 'hessian-loss-lines']);
    // the loss profile along u1 is the quadratic model near t = 0
    const line = result.lossLines[0];
    const mid = (line.t.length - 1) / 2;
    expect(line.loss[mid]).toBeCloseTo(line.quadratic[mid], 6);
    disposeParams(s.params);
  });
});

describe('hessian estimators by name', () => {
  it('refuses an unknown trace estimator before anything runs, naming the field and the known names', async () => {
    const parsed = hessian.options.safeParse({ traceEstimator: 'hutchinsn' });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0].path).toEqual(['traceEstimator']);
    expect(parsed.error!.issues[0].message).toBe('unknown trace estimator, expected one of "dense", "hutchinson", "hutch++"');
    expect(hessian.options.safeParse({ traceEstimator: 'slq' }).success).toBe(false);
    // called directly with unchecked options: a usage error on the field
    const s = await setting({ hidden: [4], activation: 'tanh', steps: 1, lr: 0.05 });
    const bad = { ...hessian.options.parse({}), traceEstimator: 'slq' };
    const ctx = createAnalysisContext({ ...s, seed: 5, backend: 'cpu', analysis: 'hessian' });
    await expect(hessian.run(ctx, bad)).rejects.toThrow('hessian.traceEstimator: estimator "slq" estimates density, not trace');
    disposeParams(s.params);
  });

  it('takes every quantity of exact mode from the dense estimator, run once', async () => {
    const s = await setting({ hidden: [6], activation: 'tanh', steps: 20, lr: 0.05 });
    const { result, provenance } = await runHessian(s, { method: 'exact', figures: false });
    const n = s.model.paramCount;
    for (const k of ['topEigenvalues', 'bottomEigenvalues', 'trace', 'density', 'nearZeroModes', 'effectiveDimension', 'logDet']) {
      expect(provenance.estimators[k]).toMatchObject({ estimator: 'dense', hvps: n });
    }
    expect(provenance.estimators.topEigenvalues.settings).toEqual({ topK: 5, bottomK: 2, vectors: 3 });
    expect(result.ritzResiduals).toBeNull();
    expect(result.lossLines).toHaveLength(3);
    disposeParams(s.params);
  });

  it('takes the extreme eigenpairs from block Lanczos with lanczosBlock ≥ 2 (1, the default: single-vector Lanczos)', async () => {
    const s = await setting({ hidden: [8], activation: 'tanh', steps: 50, lr: 0.05 });
    const base = { method: 'lanczos', topK: 3, bottomK: 1, tol: 1e-6, traceProbes: 4, densityProbes: 2, densitySteps: 10, lossLines: 1, figures: false };
    const exact = await runHessian(s, { method: 'exact', lossLines: 0, figures: false });
    const single = await runHessian(s, base);
    expect(single.provenance.estimators.topEigenvalues.estimator).toBe('lanczos');
    const block = await runHessian(s, { ...base, lanczosBlock: 3, lanczosSteps: 120 });
    const from = block.provenance.estimators.topEigenvalues;
    expect(from).toMatchObject({ estimator: 'block-lanczos', blockSize: 3, settings: { blockSize: 3, maxSteps: 120 } });
    expect(from.blocks).toBe(from.hvps / 3);
    // the top converged (the bottom, with bottomSteps 0, is reported as a bound)
    expect(from.topConverged).toBe(true);
    block.result.topEigenvalues.forEach((t: number, i: number) => expect(Math.abs(t - exact.result.topEigenvalues[i])).toBeLessThan(1e-4 * exact.result.topEigenvalues[0]));
    expect(hessian.options.parse({ lanczosBlock: 0 }).lanczosBlock).toBe(0);
    expect(() => hessian.options.parse({ lanczosBlock: -1 })).toThrow();
    disposeParams(s.params);
  });

  it('uses the trace estimator it is given by name: hutch++, dense, or one registered from outside', async () => {
    const s = await setting({ hidden: [8], activation: 'tanh', steps: 50, lr: 0.05 });
    const base = { method: 'lanczos', topK: 3, bottomK: 1, traceProbes: 30, densityProbes: 3, densitySteps: 20, lossLines: 0, figures: false };
    const exact = await runHessian(s, { method: 'exact', lossLines: 0, figures: false });
    const hpp = await runHessian(s, { ...base, traceEstimator: 'hutch++' });
    expect(hpp.provenance.estimators.trace).toMatchObject({ estimator: 'hutch++', settings: { probes: 30, products: 30 }, probes: 10 });
    expect(hpp.provenance.estimators.topEigenvalues.estimator).toBe('lanczos');
    expect(hpp.provenance.estimators.density.estimator).toBe('slq');
    expect(Math.abs(hpp.result.trace.value - exact.result.trace.value)).toBeLessThan(3 * hpp.result.trace.stderr);
    const dense = await runHessian(s, { ...base, traceEstimator: 'dense' });
    expect(dense.result.trace).toEqual(exact.result.trace);
    expect(dense.result.hvpCount).toBe(2 + dense.provenance.estimators.topEigenvalues.hvps + s.model.paramCount + 3 * 20);

    // a trace estimator defined outside the package: one definition, one registration
    const unregister = registerEstimator(
      defineEstimator({
        name: 'diagonal',
        kinds: ['trace'],
        description: 'tr A = Σ eᵢᵀ A eᵢ: n products, exact',
        products: (dim) => dim,
        run(op, settings) {
          settingsOf('diagonal', settings, 'trace');
          const before = op.products;
          let value = 0;
          const e = new Float64Array(op.dim);
          for (let i = 0; i < op.dim; i++) {
            e[i] = 1;
            value += op.apply(e)[i];
            e[i] = 0;
          }
          return { trace: { value, stderr: 0 }, provenance: { estimator: 'diagonal', settings: {}, hvps: op.products - before } };
        },
      }),
    );
    try {
      const mine = await runHessian(s, { ...base, traceEstimator: 'diagonal' });
      expect(mine.provenance.estimators.trace).toEqual({ estimator: 'diagonal', settings: {}, hvps: s.model.paramCount });
      expect(Math.abs(mine.result.trace.value - exact.result.trace.value)).toBeLessThan(1e-9 * Math.abs(exact.result.topEigenvalues[0]));
    } finally {
      unregister();
    }
    expect(hessian.options.safeParse({ traceEstimator: 'diagonal' }).success).toBe(false);
    disposeParams(s.params);
  });
});
