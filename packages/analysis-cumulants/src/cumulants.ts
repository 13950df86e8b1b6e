import * as tf from '@tensorflow/tfjs-core';
import { API_VERSION, packageInfo, UsageError, defineAnalysis, type AnalysisContext, type AnalysisResult, type Figure, type Json, type ModelInstance, type Params, type Rng } from '@goldstone/plugin-api';
import { ACTIVATIONS, activation as activationOf, lineChart, predictSplit, sampleSplit, type ActivationName } from '@goldstone/core';
import { blockSumArray, sampleCumulants } from '@goldstone/task-clt';
import { compileQuadraticForm, evaluateCompiled, gaussianClosure, pooledCumulants, type CompiledForm, type DenseLayer } from './propagation';
import { cumulantsHeadline, type CumulantsHeadlineSource } from './headline';
import { summarizeCumulants } from './summary';
import { blockOf, cumulantsIssues, cumulantsOptions, type CumulantsOptions } from './options';
import { coversZero, estimate, gatherRows, plugInCumulants, resampleRows, roundingTolerance, rowKStatistics, type Estimate } from './stats';

/** This package's version, for provenance (read from its package.json). */
export const VERSION = packageInfo(import.meta.url).version;

const ORDERS = [1, 2, 3, 4] as const;
/** Activations whose networks are not polynomials (no exact propagation; the Gaussian closure for mlps). */
const NON_POLYNOMIAL = new Set(['relu', 'tanh', 'sigmoid', 'softplus', 'gelu', 'elu', 'leaky-relu']);

/** Apply the model to `n` rows of `width` values (batched, no leaks); returns the outputs and their width. */
export function applyRows(model: ModelInstance, params: Params, x: Float32Array, width: number, batch = 2048): { out: Float32Array; width: number } {
  const n = x.length / width;
  const chunks: Float32Array[] = [];
  let outWidth = 0;
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const data = tf.tidy(() => {
      const y = model.apply(params, tf.tensor2d(x.subarray(start * width, (start + m) * width), [m, width], 'float32'));
      outWidth = y.size / m;
      return y.dataSync() as Float32Array;
    });
    chunks.push(Float32Array.from(data));
  }
  const out = new Float32Array(n * outWidth);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return { out, width: outWidth };
}

/** Mean squared error of the outputs against the targets (float64 sums). */
function meanSquaredError(pred: Float32Array, y: Float32Array): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += (pred[i] - y[i]) ** 2;
  return pred.length ? s / pred.length : 0;
}

function isKappa(v: unknown): v is number[] {
  return Array.isArray(v) && v.length >= 4 && v.slice(0, 4).every((k) => typeof k === 'number' && Number.isFinite(k));
}

/** κ₁…κ₄ of a split's input distribution from the task's info (`splits[name].exact.input`, `oodCumulants[name].input`, `cumulants.input`). */
export function infoInputCumulants(info: Record<string, unknown> | undefined, split: string): number[] | undefined {
  const get = (o: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
  const candidates = [get(info, 'splits', split, 'exact', 'input'), get(info, 'oodCumulants', split, 'input'), split.startsWith('ood') ? undefined : get(info, 'cumulants', 'input')];
  const found = candidates.find(isKappa);
  return found ? found.slice(0, 4) : undefined;
}

interface OrderRow {
  n: number;
  predicted: Estimate;
  target: Estimate;
  theory: number;
  error: Estimate & { coversZero: boolean };
  theoryError: number;
}

/**
 * Bootstrap replicates of two per-order quantities measured on the same resampled rows, and of
 * their difference a − b (orders where a is null are left out of a and of the difference).
 */
function pairedBootstrap(n: number, resamples: number, rng: Rng, measure: (rows: Int32Array) => [readonly (number | null)[], readonly number[]]): { a: number[]; b: number[]; d: number[] }[] {
  const reps = ORDERS.map(() => ({ a: [] as number[], b: [] as number[], d: [] as number[] }));
  for (let r = 0; r < resamples; r++) {
    const [a, b] = measure(resampleRows(n, rng));
    for (let i = 0; i < 4; i++) {
      reps[i].b.push(b[i]);
      const ai = a[i];
      if (ai === null) continue;
      reps[i].a.push(ai);
      reps[i].d.push(ai - b[i]);
    }
  }
  return reps;
}

/** Per-order rows of predicted vs target k-statistics with paired bootstrap intervals. */
function compareOrders(pred: Float32Array, target: Float32Array, width: number, targetWidth: number, theory: readonly number[], resamples: number, confidence: number, rng: Rng): OrderRow[] {
  const n = pred.length / width;
  const kp = sampleCumulants(pred);
  const kt = sampleCumulants(target);
  const sp = new Float64Array(n * width);
  const st = new Float64Array(n * targetWidth);
  const reps = pairedBootstrap(n, resamples, rng, (rows) => [rowKStatistics(pred, width, rows, sp), rowKStatistics(target, targetWidth, rows, st)]);
  return ORDERS.map((order, i) => {
    const err = estimate(kp[i] - kt[i], reps[i].d, confidence);
    return {
      n: order,
      predicted: estimate(kp[i], reps[i].a, confidence),
      target: estimate(kt[i], reps[i].b, confidence),
      theory: theory[i],
      error: { ...err, coversZero: coversZero(err.interval, roundingTolerance(kt, order)) },
      theoryError: kp[i] - theory[i],
    };
  });
}

/** The propagation the model admits: exact (a quadratic form per output, probed and verified), the Gaussian closure (mlp), or none. */
type Propagator =
  | { kind: 'exact'; forms: CompiledForm[]; degree: 1 | 2; maxResidual: number }
  | { kind: 'gaussian'; layers: DenseLayer[]; activation: string; phi: ((z: Float64Array) => Float64Array)[] }
  | { kind: 'none'; reason: string };

/**
 * Read c, a, B of y = c + aᵀx + xᵀBx for every output from the model's values at 0, ±eᵢ and
 * eᵢ + eⱼ (exact for a polynomial of degree ≤ 2), then verify the forms on `check` rows.
 */
export function probeQuadraticForms(model: ModelInstance, params: Params, sites: number, check: Float32Array): { forms: { c: number; a: Float64Array; B: Float64Array }[]; maxResidual: number; scale: number } {
  const N = sites;
  const points: number[][] = [new Array<number>(N).fill(0)];
  for (let i = 0; i < N; i++) {
    const p = new Array<number>(N).fill(0);
    p[i] = 1;
    points.push(p);
    const q = new Array<number>(N).fill(0);
    q[i] = -1;
    points.push(q);
  }
  const pairIndex = new Map<number, number>();
  for (let i = 0; i < N; i++) {
    for (let j = i + 1; j < N; j++) {
      const p = new Array<number>(N).fill(0);
      p[i] = 1;
      p[j] = 1;
      pairIndex.set(i * N + j, points.length);
      points.push(p);
    }
  }
  const { out, width } = applyRows(model, params, Float32Array.from(points.flat()), N);
  const f = (pt: number, o: number) => out[pt * width + o];
  const forms = Array.from({ length: width }, (_, o) => {
    const c = f(0, o);
    const a = new Float64Array(N);
    const B = new Float64Array(N * N);
    for (let i = 0; i < N; i++) {
      const plus = f(1 + 2 * i, o);
      const minus = f(2 + 2 * i, o);
      a[i] = (plus - minus) / 2;
      B[i * N + i] = (plus + minus) / 2 - c;
    }
    for (let i = 0; i < N; i++) {
      for (let j = i + 1; j < N; j++) {
        const v = (f(pairIndex.get(i * N + j)!, o) - f(1 + 2 * i, o) - f(1 + 2 * j, o) + c) / 2;
        B[i * N + j] = v;
        B[j * N + i] = v;
      }
    }
    return { c, a, B };
  });
  const { out: y } = applyRows(model, params, check, N);
  const rows = check.length / N;
  let maxResidual = 0;
  let scale = 0;
  for (let r = 0; r < rows; r++) {
    const x = check.subarray(r * N, (r + 1) * N);
    forms.forEach((F, o) => {
      let v = F.c;
      for (let i = 0; i < N; i++) {
        v += F.a[i] * x[i];
        let s = 0;
        for (let j = 0; j < N; j++) s += F.B[i * N + j] * x[j];
        v += x[i] * s;
      }
      const m = y[r * width + o];
      maxResidual = Math.max(maxResidual, Math.abs(v - m));
      scale = Math.max(scale, Math.abs(m));
    });
  }
  return { forms, maxResidual, scale };
}

/**
 * The dense layers of an mlp (`dense{i}.weight` [in, out], optional `dense{i}.bias`, and the learned
 * α of a quadratic activation z + αz², `dense{i}.alpha` [1]), or undefined for other models.
 */
export function mlpLayers(model: ModelInstance, params: Params): (DenseLayer & { alpha?: number })[] | undefined {
  const arch = model.info?.architecture;
  if (typeof arch !== 'string' || !arch.startsWith('mlp ')) return undefined;
  const layers: (DenseLayer & { alpha?: number })[] = [];
  for (let i = 0; params[`dense${i}.weight`]; i++) {
    const w = params[`dense${i}.weight`];
    if (w.rank !== 2) return undefined;
    const b = params[`dense${i}.bias`];
    const a = params[`dense${i}.alpha`];
    layers.push({ W: w.dataSync() as Float32Array, b: b ? (b.dataSync() as Float32Array) : undefined, din: w.shape[0]!, dout: w.shape[1]!, ...(a ? { alpha: a.dataSync()[0] } : {}) });
  }
  const known = new Set(layers.flatMap((_, i) => [`dense${i}.weight`, `dense${i}.bias`, `dense${i}.alpha`]));
  if (layers.length === 0 || Object.keys(params).some((k) => !known.has(k))) return undefined;
  return layers;
}

/**
 * The hidden activations of an mlp for the closure: z + αz² when the model says `activation:
 * quadratic` with an `alpha` (a number, or learned: the layer's `dense{i}.alpha`), else core's named
 * activation; undefined when neither is known.
 */
function mlpActivations(model: ModelInstance, layers: (DenseLayer & { alpha?: number })[]): { label: string; phi: ((z: Float64Array) => Float64Array)[] } | undefined {
  const act = model.info?.activation;
  const alpha = model.info?.alpha;
  if (typeof act !== 'string') return undefined;
  const hidden = layers.slice(0, -1);
  if (act === 'quadratic' && alpha !== undefined) {
    const alphas = hidden.map((l) => (typeof alpha === 'number' ? alpha : l.alpha));
    if (alphas.some((a) => typeof a !== 'number')) return undefined;
    return { label: `z + αz² (α = ${alphas.map((a) => a!.toPrecision(3)).join(', ')})`, phi: alphas.map((a) => (z: Float64Array) => z.map((v) => v + a! * v * v)) };
  }
  if (!(ACTIVATIONS as readonly string[]).includes(act)) return undefined;
  const f = activationOf(act as ActivationName);
  const phi = (z: Float64Array) => Float64Array.from(tf.tidy(() => f(tf.tensor1d(Float32Array.from(z))).dataSync()));
  return { label: act, phi: hidden.map(() => phi) };
}

/**
 * The polynomial degree of an mlp or block-mlp from its info (`architecture: 'mlp 16-8-8-8 (…)'`,
 * `activation`): 1 with the identity, 2^(hidden layers) with a quadratic activation; undefined when
 * unknown. A near-linear deep quadratic network can pass the probe's tolerance; this keeps it out.
 */
export function declaredDegree(info: Record<string, unknown> | undefined): number | undefined {
  const m = typeof info?.architecture === 'string' ? /^(?:block-)?mlp (\d+(?:-\d+)*)/.exec(info.architecture) : null;
  if (!m) return undefined;
  const hidden = m[1].split('-').length - 2;
  if (info?.activation === 'identity') return 1;
  if (info?.activation === 'quadratic') return Math.pow(2, hidden);
  return undefined;
}

function propagatorFor(model: ModelInstance, params: Params, sites: number, check: Float32Array): Propagator {
  const act = model.info?.activation;
  const declared = declaredDegree(model.info);
  const polynomialCandidate = (typeof act !== 'string' || !NON_POLYNOMIAL.has(act)) && !(declared !== undefined && declared > 2);
  let probeNote = declared !== undefined && declared > 2 ? `a polynomial of degree ${declared} in the inputs` : '';
  if (polynomialCandidate) {
    try {
      const probe = probeQuadraticForms(model, params, sites, check);
      if (probe.maxResidual <= 1e-3 * (1 + probe.scale)) {
        const degree = probe.forms.every((F) => F.B.every((v) => Math.abs(v) <= 1e-6 * (1 + probe.scale))) ? 1 : 2;
        if (degree === 1) for (const F of probe.forms) F.B.fill(0);
        return { kind: 'exact', forms: probe.forms.map((F) => compileQuadraticForm(F, sites)), degree, maxResidual: probe.maxResidual };
      }
      probeNote = `its outputs are not a polynomial of degree ≤ 2 in the inputs (residual ${probe.maxResidual.toPrecision(3)} on ${check.length / sites} rows)`;
    } catch (e) {
      probeNote = `probing it failed: ${(e as Error).message}`;
    }
  }
  const layers = mlpLayers(model, params);
  const acts = layers && mlpActivations(model, layers);
  if (layers && acts) return { kind: 'gaussian', layers, activation: acts.label, phi: acts.phi };
  return { kind: 'none', reason: `propagation not available for this model${probeNote ? ` (${probeNote}; the Gaussian closure reads mlp layers only)` : ' (the Gaussian closure reads mlp layers only)'}` };
}

interface PropagationRow {
  n: number;
  propagated: Estimate | { value: number | null; interval: null };
  monteCarlo: Estimate;
  error: (Estimate & { coversZero: boolean }) | null;
}

/** Propagated κ₁…κ₄ of the pooled outputs beside the network's own outputs (Monte Carlo on the split), paired bootstrap. */
function propagateSplit(prop: Exclude<Propagator, { kind: 'none' }>, x: Float32Array, sites: number, pred: Float32Array, width: number, resamples: number, confidence: number, rng: Rng): { rows: PropagationRow[]; inputCumulants: number[] } {
  const n = x.length / sites;
  const order = prop.kind === 'exact' ? prop.forms.reduce((m, F) => Math.max(m, F.maxOrder), 4) : 2;
  const predictExact = (forms: CompiledForm[], kappa: number[]) => pooledCumulants(forms.map((F) => evaluateCompiled(F, kappa)));
  const predictGaussian = (kappa: number[]) => {
    const p = prop as Extract<Propagator, { kind: 'gaussian' }>;
    const g = gaussianClosure(p.layers, p.phi, kappa[0], kappa[1]);
    const m1 = g.mean.reduce((a, b) => a + b, 0) / g.mean.length;
    let m2 = 0;
    for (let j = 0; j < g.mean.length; j++) m2 += (g.variance[j] + g.mean[j] ** 2) / g.mean.length;
    return [m1, m2 - m1 * m1, null, null];
  };
  const inputKappa = plugInCumulants(x, order);
  const point = prop.kind === 'exact' ? predictExact(prop.forms, inputKappa) : predictGaussian(inputKappa);
  const mc = sampleCumulants(pred);
  const sx = new Float64Array(n * sites);
  const sp = new Float64Array(n * width);
  // the exact propagation re-estimates the inputs' cumulants on every replicate (cheap); the closure keeps its point value
  const reps = pairedBootstrap(n, resamples, rng, (rows) => [
    prop.kind === 'exact' ? predictExact(prop.forms, plugInCumulants(gatherRows(x, sites, rows, sx), order)) : point,
    rowKStatistics(pred, width, rows, sp),
  ]);
  const rows = ORDERS.map((o, i): PropagationRow => {
    const pv = point[i];
    const monteCarlo = estimate(mc[i], reps[i].b, confidence);
    if (pv === null) return { n: o, propagated: { value: null, interval: null }, monteCarlo, error: null };
    const err = estimate(pv - mc[i], reps[i].d, confidence);
    return { n: o, propagated: estimate(pv, reps[i].a, confidence), monteCarlo, error: { ...err, coversZero: coversZero(err.interval, roundingTolerance(mc, o)) } };
  });
  return { rows, inputCumulants: inputKappa };
}

export async function analyzeCumulants(ctx: AnalysisContext, opts: CumulantsOptions): Promise<AnalysisResult> {
  const { task, model, params } = ctx;
  const issues = cumulantsIssues(opts, { task });
  if (issues.length) throw new UsageError(`${issues[0].field}: ${issues[0].message}`, { field: issues[0].field });
  const b = blockOf(task.info)!;
  const sites = task.inputShape.reduce((p, q) => p * q, 1);
  const names = (opts.splits ?? Object.keys(task.splits)).filter((s) => task.splits[s].n > 0);
  ctx.progress.start('cumulants', names.length + 2);

  const subsets = Object.fromEntries(names.map((s) => [s, sampleSplit(task.splits[s], opts.maxExamples, ctx.rng.split(`subset:${s}`))]));
  const theoryInput = (s: string, x: Float32Array) => {
    const info = infoInputCumulants(task.info, s);
    return info ? { source: 'task-info', value: info } : { source: 'input-k-statistics', value: sampleCumulants(x) };
  };

  // the propagation is set up once, probed on rows of the first split
  const first = subsets[names[0]];
  const prop: Propagator = opts.propagation ? propagatorFor(model, params, sites, first.x.subarray(0, Math.min(64, first.n) * sites)) : { kind: 'none', reason: 'propagation: false' };

  const splits: Record<string, Json> = {};
  const propagationSplits: Record<string, Json> = {};
  for (const s of names) {
    const split = subsets[s];
    const pred = predictSplit(model, params, split);
    const width = pred.length / split.n;
    const targetWidth = split.y.length / split.n;
    const input = theoryInput(s, split.x);
    const theory = input.value.map((k, i) => k * Math.pow(b, 1 - (i + 1) / 2));
    splits[s] = {
      examples: split.n,
      values: pred.length,
      mse: width === targetWidth ? meanSquaredError(pred, split.y) : null,
      inputCumulants: input as unknown as Json,
      inputKStatistics: sampleCumulants(split.x),
      orders: compareOrders(pred, split.y, width, targetWidth, theory, opts.resamples, opts.confidence, ctx.rng.split(`bootstrap:${s}`)) as unknown as Json,
    };
    if (prop.kind !== 'none') {
      const p = propagateSplit(prop, split.x, sites, pred, width, opts.resamples, opts.confidence, ctx.rng.split(`propagation:${s}`));
      propagationSplits[s] = { inputCumulants: p.inputCumulants, orders: p.rows as unknown as Json };
    }
    ctx.progress.tick();
  }

  // RG flow: the learned map applied k = 1…flowSteps times
  const flowSplit = sampleSplit(task.splits[opts.flowSplit], opts.maxExamples, ctx.rng.split(`subset:${opts.flowSplit}`));
  const flowInput = theoryInput(opts.flowSplit, flowSplit.x);
  const steps: Json[] = [];
  let reason: string | null = null;
  let cur = flowSplit.x;
  let target = flowSplit.x;
  let curSites = sites;
  const flowRng = ctx.rng.split(`flow:${opts.flowSplit}`);
  for (let k = 1; k <= opts.flowSteps; k++) {
    if (curSites % b !== 0 || curSites / b < 1) {
      reason = `stopped after ${k - 1} steps: ${curSites} sites are not a multiple of the block size ${b}`;
      break;
    }
    let next: { out: Float32Array; width: number };
    try {
      next = applyRows(model, params, cur, curSites);
    } catch (e) {
      reason = `cannot be iterated: ${(e as Error).message}`;
      break;
    }
    if (next.width !== curSites / b) {
      reason = `cannot be iterated: on ${curSites} sites the model gives ${next.width} outputs, expected ${curSites / b}`;
      break;
    }
    target = blockSumArray(target, curSites, b);
    const theory = flowInput.value.map((kn, i) => kn * Math.pow(b, k * (1 - (i + 1) / 2)));
    const orders = compareOrders(next.out, target, next.width, next.width, theory, opts.resamples, opts.confidence, flowRng.split(`step:${k}`));
    steps.push({ k, sites: next.width, orders: orders as unknown as Json });
    cur = next.out;
    curSites = next.width;
  }
  ctx.progress.tick();
  const sizeAgnostic = model.info?.sizeAgnostic === true;
  let iterable = steps.length >= 2;
  if (steps.length === 1 && reason === null && curSites % b === 0) {
    // flowSteps = 1: whether the map takes its own outputs, tried on two rows
    try {
      const t = applyRows(model, params, cur.subarray(0, Math.min(2, flowSplit.n) * curSites), curSites);
      if (t.width === curSites / b) iterable = true;
      else reason = `cannot be iterated: on ${curSites} sites the model gives ${t.width} outputs, expected ${curSites / b}`;
    } catch (e) {
      reason = `cannot be iterated: ${(e as Error).message}`;
    }
  }
  const flow = {
    split: opts.flowSplit,
    sizeAgnostic,
    iterable,
    reason: iterable ? (reason?.startsWith('cannot') ? reason : null) : reason ?? 'cannot be iterated: no step ran',
    inputCumulants: flowInput as unknown as Json,
    steps,
  };

  const propagation: Json =
    prop.kind === 'none'
      ? { available: false, reason: prop.reason }
      : prop.kind === 'exact'
        ? {
            available: true,
            method: 'exact',
            closure: 'none',
            description: `the outputs are ${prop.degree === 1 ? 'affine' : 'quadratic forms'} in the inputs (read off the model at 0, ±eᵢ, eᵢ + eⱼ and verified to ${prop.maxResidual.toExponential(2)}); κ₁…κ₄ exact for i.i.d. inputs, from the inputs' plug-in cumulants up to order ${prop.degree === 1 ? 4 : 8}`,
            degree: prop.degree,
            splits: propagationSplits,
          }
        : {
            available: true,
            method: 'gaussian-closure',
            closure: 'gaussian',
            description: `pre-activations taken as jointly Gaussian with their propagated mean and covariance; ${prop.activation} moments under that Gaussian (Gauss–Hermite); κ₁, κ₂ only`,
            splits: propagationSplits,
          };

  const ordersOf = (s: string) => (splits[s] as unknown as { orders: OrderRow[] }).orders;
  const errorsOf = (s: string) => ordersOf(s).map((o) => o.error.value);
  const ood = names.filter((s) => s.startsWith('ood'));
  const mseOf = (s: string) => (splits[s] as unknown as { mse: number | null }).mse;
  const oodMse = ood.map(mseOf);
  const summary = {
    mse: Object.fromEntries(names.map((s) => [s, mseOf(s)])),
    meanOodMse: ood.length && oodMse.every((m) => m !== null) ? (oodMse as number[]).reduce((a, m) => a + m, 0) / ood.length : null,
    errors: Object.fromEntries(names.map((s) => [s, errorsOf(s)])),
    coversZero: Object.fromEntries(names.map((s) => [s, ordersOf(s).map((o) => o.error.coversZero)])),
    meanAbsOodError: ood.length ? ORDERS.map((_, i) => ood.reduce((a, s) => a + Math.abs(errorsOf(s)[i]), 0) / ood.length) : null,
  };

  const figures: Figure[] = [];
  if (steps.length > 0) {
    const rows = (steps as unknown as { k: number; orders: OrderRow[] }[]).flatMap((st) =>
      st.orders.filter((o) => o.n >= 2).flatMap((o) => [
        { k: st.k, value: o.predicted.value, series: `κ${o.n} learned` },
        { k: st.k, value: o.theory, series: `κ${o.n} theory` },
      ]),
    );
    const start = flowInput.value.slice(1).map((v, i) => [{ k: 0, value: v, series: `κ${i + 2} learned` }, { k: 0, value: v, series: `κ${i + 2} theory` }]).flat();
    figures.push(lineChart('cumulants-flow', `RG flow of κₙ (${opts.flowSplit}), learned map iterated against b^(k(1−n/2))κₙ`, [...start, ...rows], { field: 'k', title: 'steps k' }, { field: 'value', title: 'κₙ' }, 'series'));
  }
  ctx.progress.stop();

  const headSplit = names.includes('test') ? 'test' : names[0];
  const headRow = splits[headSplit] as unknown as { examples: number; mse: number | null; orders: OrderRow[] };
  const headline = cumulantsHeadline({
    confidence: opts.confidence,
    resamples: opts.resamples,
    split: headSplit,
    orders: headRow.orders,
    mse: headRow.mse,
    examples: headRow.examples,
    meanOodMse: summary.meanOodMse,
    oodSplits: ood.length,
    flow: flow as unknown as CumulantsHeadlineSource['flow'],
  });

  return {
    result: {
      block: b,
      sites,
      confidence: opts.confidence,
      resamples: opts.resamples,
      splits,
      flow: flow as unknown as Json,
      propagation,
      summary: summary as unknown as Json,
    },
    headline,
    figures,
    provenance: {
      analysis: 'cumulants',
      version: VERSION,
      seed: ctx.seed,
      backend: ctx.backend,
      settings: opts as unknown as Json,
      samples: Object.fromEntries(names.map((s) => [s, subsets[s].n])),
      method: {
        estimator: 'k-statistics k₁…k₄ of all output values of a split (unbiased for κ₁…κ₄)',
        intervals: `percentile bootstrap over examples, ${opts.resamples} resamples, ${opts.confidence} coverage; predicted − target paired on the same resample`,
        theory: 'b^(k(1−n/2)) κₙ of the inputs (κₙ from the task info when given, else the inputs\' k-statistics)',
      },
    },
  };
}

/** The cumulants analysis plugin. */
export const cumulants = defineAnalysis({
  name: 'cumulants',
  apiVersion: API_VERSION,
  description: 'k-statistics κ₁…κ₄ of the learned coarse-graining map on every split against targets and b^(1−n/2)κₙ, the iterated RG flow, and analytic cumulant propagation, with bootstrap intervals',
  options: cumulantsOptions,
  check: (options, ctx) => cumulantsIssues(options, ctx),
  run: (ctx, options) => analyzeCumulants(ctx, options),
  summarize: (results, options) => summarizeCumulants(results, cumulantsOptions.parse(options ?? {})),
});
