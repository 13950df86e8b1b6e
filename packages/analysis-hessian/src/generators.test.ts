import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, createAnalysisContext, disposeParams, flattenParams, generatorMatrix, gradientOf, hvp, mse, unflattenParams } from '@goldstone/core';
import { symmetricEigenDecomposition } from '@goldstone/curvature';
import type { InputSymmetry, ModelInstance, Params, TaskInstance, TrainedObjective } from '@goldstone/plugin-api';
import { createDeepSets, createMlp, deepSetsOptions, mlpOptions } from '@goldstone/models';
import { hessian } from './hessian';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const N = 4;
const F = 3;

/** Rotation of channels (a, b) of [B, N, F] inputs by angle t: the group; its generator (Gx)_a = −x_b, (Gx)_b = x_a. */
function rotationSymmetry(a: number, b: number, name = 'rotation'): InputSymmetry {
  const rotate = (x: tf.Tensor, c: number, s: number) =>
    tf.tidy(() => {
      const [B] = x.shape;
      const xa = tf.slice(x, [0, 0, a], [B, N, 1]);
      const xb = tf.slice(x, [0, 0, b], [B, N, 1]);
      const parts = Array.from({ length: F }, (_, k) => (k === a ? tf.sub(tf.mul(xa, c), tf.mul(xb, s)) : k === b ? tf.add(tf.mul(xa, s), tf.mul(xb, c)) : tf.slice(x, [0, 0, k], [B, N, 1])));
      return tf.concat(parts, 2);
    });
  return {
    name,
    sample: (x, rng) => {
      const t = 2 * Math.PI * rng.uniform();
      return rotate(x, Math.cos(t), Math.sin(t));
    },
    generator: (x) =>
      tf.tidy(() => {
        const [B] = x.shape;
        const parts = Array.from({ length: F }, (_, k) =>
          k === a ? tf.neg(tf.slice(x, [0, 0, b], [B, N, 1])) : k === b ? tf.slice(x, [0, 0, a], [B, N, 1]) : tf.zeros([B, N, 1]),
        );
        return tf.concat(parts, 2);
      }),
  };
}

/**
 * A synthetic set task: 48 sets of N = 4 elements (the last one padding in half of them),
 * channel 0 a positive weight, channels 1, 2 a 2-vector; the target Σᵢ wᵢ·|vᵢ|² is invariant
 * under rotations of (1, 2).
 */
function setTask(symmetries: InputSymmetry[]): TaskInstance {
  const rng = new Rng(21);
  const n = 48;
  const x = new Float32Array(n * N * F);
  const y = new Float32Array(n);
  for (let e = 0; e < n; e++) {
    const present = e % 2 ? N : N - 1;
    for (let i = 0; i < present; i++) {
      const o = (e * N + i) * F;
      x[o] = 0.2 + 0.8 * rng.uniform();
      x[o + 1] = rng.normal();
      x[o + 2] = rng.normal();
      y[e] += x[o] * (x[o + 1] ** 2 + x[o + 2] ** 2);
    }
  }
  const split = { n, x, y, xShape: [N, F], yShape: [1] };
  return { inputShape: [N, F], outputSize: 1, outputKind: 'regression', loss: 'mse', splits: { train: split, test: split }, metrics: () => ({}), symmetries };
}

/** Full-batch gradient descent on `objective` (steps × lr), from the model's initialisation. */
function train(model: ModelInstance, task: TaskInstance, objective: (p: Params, x: tf.Tensor, y: tf.Tensor) => tf.Scalar, steps: number, lr: number): Params {
  const init = model.init(new Rng(4));
  let w = flattenParams(init, model.specs);
  disposeParams(init);
  const { x: xs, y: ys, n } = task.splits.train;
  const x = tf.tensor(xs, [n, N, F]);
  const y = tf.tensor(ys, [n, 1]);
  const f = (v: tf.Tensor1D) => objective(unflattenParams(v, model.specs), x, y);
  for (let s = 0; s < steps; s++) {
    const g = gradientOf(f, w);
    const next = tf.tidy(() => tf.sub(w, tf.mul(g, lr)) as tf.Tensor1D);
    tf.dispose([g, w]);
    w = next;
  }
  const params = tf.tidy(() => unflattenParams(w, model.specs));
  tf.dispose([w, x, y]);
  return params;
}

const dataLoss = (model: ModelInstance) => (p: Params, x: tf.Tensor, y: tf.Tensor) => tf.tidy(() => mse(model.apply(p, x), y));

/** The dense Hessian of f(θ) = objective(θ, all training examples), one core `hvp` per column, symmetrised. */
function denseHessian(model: ModelInstance, task: TaskInstance, params: Params, objective: (p: Params, x: tf.Tensor, y: tf.Tensor) => tf.Scalar) {
  const { x: xs, y: ys, n: m } = task.splits.train;
  const x = tf.tensor(xs, [m, N, F]);
  const y = tf.tensor(ys, [m, 1]);
  const w = flattenParams(params, model.specs);
  const n = model.paramCount;
  const H = new Float64Array(n * n);
  const f = (v: tf.Tensor1D) => objective(unflattenParams(v, model.specs), x, y);
  for (let j = 0; j < n; j++) {
    const basis = new Float32Array(n);
    basis[j] = 1;
    const e = tf.tensor1d(basis);
    const col = hvp(f, w, e);
    const c = col.dataSync();
    for (let i = 0; i < n; i++) H[i * n + j] = c[i];
    tf.dispose([e, col]);
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) H[i * n + j] = H[j * n + i] = 0.5 * (H[i * n + j] + H[j * n + i]);
  tf.dispose([x, y, w]);
  const evd = symmetricEigenDecomposition(H, n);
  return { H, n, values: Array.from(evd.values), vector: (i: number) => evd.vector(i) };
}

function quad(H: Float64Array, n: number, v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += v[i] * H[i * n + j] * v[j];
  return s;
}

const dotOf = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, ai, i) => s + ai * b[i], 0);

async function run(task: TaskInstance, model: ModelInstance, params: Params, raw: Record<string, unknown>, objective?: TrainedObjective) {
  const ctx = createAnalysisContext({ task, model, params, seed: 3, backend: 'cpu', analysis: 'hessian', objective });
  return hessian.run(ctx, hessian.options.parse({ lossLines: 0, ...raw })) as Promise<{ result: any; provenance: any; figures?: any[] }>;
}

describe('hessian: curvature along generator directions', () => {
  const sym = rotationSymmetry(1, 2);
  const task = setTask([sym, { name: 'reflect', sample: (x) => tf.neg(x) }]);
  const model = createDeepSets(deepSetsOptions.parse({ phi: [5], rho: [3], activation: 'tanh', weightChannel: 0 }), { inputShape: [N, F], outputSize: 1 });
  let params: Params;
  beforeAll(() => {
    params = train(model, task, dataLoss(model), 300, 0.02);
  });

  it('exact mode: Rayleigh quotient, ratio to λ_max, percentile and bottom overlap equal the dense ground truth', async () => {
    const before = tf.memory().numTensors;
    const { result, figures } = await run(task, model, params, { method: 'exact', bottomOverlapK: 6 });
    expect(tf.memory().numTensors).toBe(before);
    const truth = denseHessian(model, task, params, dataLoss(model));
    const d = model.generatorDirection!(params, generatorMatrix(sym.generator!, [N, F]));
    if ('unsupported' in d) throw new Error(d.unsupported);
    const v = d.direction;
    const vv = dotOf(v, v);
    const rq = quad(truth.H, truth.n, v) / vv;
    const lambdaMax = truth.values[truth.n - 1];
    const below = truth.values.filter((l) => l < rq).length / truth.n;
    // the 6 eigenvectors of smallest |λ|
    const idx = truth.values.map((_, i) => i).sort((a, b) => Math.abs(truth.values[a]) - Math.abs(truth.values[b])).slice(0, 6);
    const overlap = idx.reduce((s, i) => s + dotOf(truth.vector(i), v) ** 2 / vv, 0);

    const g = result.generators.find((e: any) => e.name === 'rotation');
    expect(g.params).toEqual(['phi.dense0.weight']);
    expect(g.norm).toBeCloseTo(Math.sqrt(vv), 4);
    expect(Math.abs(g.rayleighQuotient - rq)).toBeLessThan(1e-4 * lambdaMax);
    expect(Math.abs(g.relativeToLambdaMax - rq / lambdaMax)).toBeLessThan(1e-4);
    expect(g.absRelativeToLambdaMax).toBe(Math.abs(g.relativeToLambdaMax));
    expect(Math.abs(g.percentile - below)).toBeLessThanOrEqual(1 / truth.n + 1e-12);
    expect(g.percentileMethod).toMatch(/^exact/);
    expect(g.bottomOverlap.k).toBe(6);
    expect(g.bottomOverlap.by).toBe('abs');
    expect(Math.abs(g.bottomOverlap.value - overlap)).toBeLessThan(1e-3);
    expect(g.functionalCheck.agrees).toBe(true);
    expect(g.functionalCheck.relative).toBeLessThan(1e-3);
    expect(g.provenance.hvps).toBe(1);
    expect(g.restriction).toBeNull();
    // a symmetry without a generator is listed as such, not an error
    expect(result.generators.find((e: any) => e.name === 'reflect').unsupported).toMatch(/no generator/);
    // the generator's curvature is marked on the spectrum plot
    const spec = figures!.find((f) => f.name === 'hessian-spectrum').spec;
    expect(spec.layer[1].data.values).toEqual([{ generator: 'generator rotation (vᵀHv/‖v‖²)', value: g.rayleighQuotient }]);
  });

  it('N_eff and log det at z relative to λ_max are the exact spectral sums, beside the absolute ones', async () => {
    const { result } = await run(task, model, params, { method: 'exact', zRelative: 1e-2, z: 1e-3 });
    const spec = result.spectrum as number[];
    const lmax = spec[0];
    const z = 1e-2 * lmax;
    expect(result.zRelativeValue).toBeCloseTo(z, 12);
    expect(result.zRelative).toBe(1e-2);
    const neff = spec.reduce((s, l) => s + (l > 0 ? l / (l + z) : 0), 0);
    const ld = spec.reduce((s, l) => s + (l > 0 ? Math.log1p(l / z) : 0), 0);
    expect(result.effectiveDimensionRelative.value).toBeCloseTo(neff, 8);
    expect(result.effectiveDimensionRelative.z).toBeCloseTo(z, 12);
    expect(result.logDetRelative.value).toBeCloseTo(ld, 8);
    expect(result.effectiveDimension.z).toBe(1e-3);
    expect(result.effectiveDimension.value).not.toBeCloseTo(neff, 3);
  });

  it('lanczos mode: the same Rayleigh quotient, an approximate percentile, no overlap (with the reason)', async () => {
    const exact = await run(task, model, params, { method: 'exact' });
    const lz = await run(task, model, params, { method: 'lanczos', densityProbes: 6, densitySteps: 20 });
    const e = exact.result.generators[0];
    const l = lz.result.generators[0];
    expect(Math.abs(l.rayleighQuotient - e.rayleighQuotient)).toBeLessThan(1e-5 * exact.result.topEigenvalues[0]);
    expect(l.percentileMethod).toMatch(/approximate/);
    expect(Math.abs(l.percentile - e.percentile)).toBeLessThan(0.25);
    expect(l.bottomOverlap).toBeNull();
    expect(l.bottomOverlapReason).toMatch(/exact mode/);
  });

  it('restricted parameters: the part of v inside them, or why there is none', async () => {
    const inside = await run(task, model, params, { method: 'exact', params: ['phi.dense0.weight'] });
    const g = inside.result.generators[0];
    expect(g.restriction.fractionOfNormSquared).toBeCloseTo(1, 6);
    const truth = denseHessian(model, task, params, dataLoss(model));
    const d = model.generatorDirection!(params, generatorMatrix(sym.generator!, [N, F]));
    if ('unsupported' in d) throw new Error(d.unsupported);
    expect(Math.abs(g.rayleighQuotient - quad(truth.H, truth.n, d.direction) / dotOf(d.direction, d.direction))).toBeLessThan(1e-4 * truth.values[truth.n - 1]);
    const outside = await run(task, model, params, { method: 'exact', params: ['rho.dense0.weight'] });
    expect(outside.result.generators[0]).toEqual({ name: 'rotation', unsupported: expect.stringMatching(/moves only phi\.dense0\.weight, none of the parameters .*rho\.dense0\.weight/) });
  });

  it('models without the hook, generators the model cannot realise and tasks without generators give unsupported entries', async () => {
    const { generatorDirection: _, ...bare } = model;
    const noHook = await run(task, bare, params, { method: 'exact', bottomK: 1 });
    expect(noHook.result.generators[0]).toEqual({ name: 'rotation', unsupported: expect.stringMatching(/declares no generator direction/) });
    const touching = await run(setTask([rotationSymmetry(0, 1, 'weight-rotation')]), model, params, { method: 'exact' });
    expect(touching.result.generators[0]).toEqual({ name: 'weight-rotation', unsupported: expect.stringMatching(/cannot realise .*weight channel 0/) });
    const none = await run(setTask([]), model, params, { method: 'exact' });
    expect(none.result.generators).toEqual([{ name: '*', unsupported: 'the task declares no input symmetries' }]);
    // a hook that returns the wrong direction fails the first-order check
    const wrong: ModelInstance = {
      ...model,
      generatorDirection: (p, G) => {
        const r = model.generatorDirection!(p, G);
        return 'direction' in r ? { ...r, direction: r.direction.map((a) => -a) } : r;
      },
    };
    const bad = await run(task, wrong, params, { method: 'exact' });
    expect(bad.result.generators[0].functionalCheck.agrees).toBe(false);
    expect(bad.result.generators[0].functionalCheck.relative).toBeGreaterThan(1);
    const off = await run(task, model, params, { method: 'exact', generators: false });
    expect(off.result.generators).toEqual([]);
  });
});

describe('hessian: objective total', () => {
  it('takes the curvature of the trained objective (data + penalty + weight decay), equal to its dense Hessian', async () => {
    const sym = rotationSymmetry(1, 2);
    const task = setTask([sym]);
    const model = createMlp(mlpOptions.parse({ hidden: [5], activation: 'tanh' }), { inputShape: [N, F], outputSize: 1 });
    const lambda = 0.5;
    const wd = 0.01;
    const angle = 0.7;
    // penalty: mean (f(Rx) − f(x))² for a fixed rotation R (deterministic), weight decay (wd/2)‖θ‖²
    const rotated = (x: tf.Tensor) =>
      tf.tidy(() => {
        const g1 = sym.generator!(x);
        const g2 = sym.generator!(g1);
        return tf.add(tf.add(x, tf.mul(g1, Math.sin(angle))), tf.mul(g2, 1 - Math.cos(angle)));
      });
    const total = (p: Params, x: tf.Tensor, y: tf.Tensor): tf.Scalar =>
      tf.tidy(() => {
        const data = mse(model.apply(p, x), y);
        const pen = tf.mean(tf.square(tf.sub(model.apply(p, rotated(x)), model.apply(p, x))));
        const decay = model.specs.reduce((s: tf.Tensor, sp) => tf.add(s, tf.sum(tf.square(p[sp.name]))), tf.scalar(0));
        return tf.add(tf.add(data, tf.mul(pen, lambda)), tf.mul(decay, wd / 2)) as tf.Scalar;
      });
    const objective: TrainedObjective = {
      total,
      penalised: true,
      terms: { data: 'mse', symmetryPenalty: { form: 'fixed rotation', lambda }, weightDecay: { values: { all: wd } } },
    };
    const params = train(model, task, total, 200, 0.02);
    const before = tf.memory().numTensors;
    const t = await run(task, model, params, { method: 'exact' }, objective);
    const totalRun = await run(task, model, params, { method: 'exact', objective: 'total' }, objective);
    expect(tf.memory().numTensors).toBe(before);
    const d = t.result;
    const r = totalRun.result;
    const truth = denseHessian(model, task, params, total);
    const n = truth.n;
    const desc = [...truth.values].reverse();
    const scale = desc[0];
    (r.spectrum as number[]).forEach((l: number, i: number) => expect(Math.abs(l - desc[i])).toBeLessThan(1e-4 * scale));
    expect(Math.abs(r.trace.value - desc.reduce((s, l) => s + l, 0))).toBeLessThan(1e-4 * scale * n);
    // the penalty and the decay change the curvature: total ≠ data
    expect(Math.abs(r.trace.value - d.trace.value)).toBeGreaterThan(wd * n * 0.5);
    expect(Math.abs(r.topEigenvalues[0] - d.topEigenvalues[0]) / d.topEigenvalues[0]).toBeGreaterThan(1e-3);
    // the generator's Rayleigh quotient on the total objective
    const dir = model.generatorDirection!(params, generatorMatrix(sym.generator!, [N, F]));
    if ('unsupported' in dir) throw new Error(dir.unsupported);
    const rq = quad(truth.H, n, dir.direction) / dotOf(dir.direction, dir.direction);
    expect(Math.abs(r.generators[0].rayleighQuotient - rq)).toBeLessThan(1e-4 * scale);
    expect(r.objective).toBe('total');
    expect(totalRun.provenance.objective).toBe('total');
    expect(totalRun.provenance.objectiveTerms).toEqual(objective.terms);
    expect(t.provenance.objective).toBe('data');
    expect(t.provenance.objectiveTerms).toEqual({ data: 'mse' });
    disposeParams(params);
  });

  it('refuses objective total with the Gauss–Newton operator, naming the field', async () => {
    const task = setTask([]);
    const model = createMlp(mlpOptions.parse({ hidden: [3] }), { inputShape: [N, F], outputSize: 1 });
    const params = model.init(new Rng(1));
    expect(hessian.check!(hessian.options.parse({ objective: 'total', operator: 'ggn' }), { task, model, train: { epochs: 1, batchSize: 8, optimizer: 'sgd' }, memoryLimit: 1e9 })).toEqual([
      { field: 'objective', message: expect.stringMatching(/Hessian only/) },
    ]);
    await expect(run(task, model, params, { objective: 'total', operator: 'ggn' })).rejects.toThrow(/hessian\.objective/);
    disposeParams(params);
  });
});
