import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, createAnalysisContext, disposeParams, paramsFromArray, paramsToArray, splitTensors } from '@goldstone/core';
import { symmetricEigenDecomposition } from '@goldstone/curvature';
import { mlp } from '@goldstone/models';
import { saveCheckpoint } from '@goldstone/run-store';
import { headlineIssues, type HeadlineNumber, type ModelInstance, type Params, type TaskInstance } from '@goldstone/plugin-api';
import { blobsTask, expectNoLeaks, testPlugin, toyRegressionTask, usageErrorOf } from '@goldstone/testkit';
import { dot } from './directions';
import { hessianDirections } from './hessian-directions';
import { plugins } from './index';
import { landscape } from './landscape';
import { quadraticSetting } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

testPlugin(landscape, {
  options: { directions: ['random', 'hessian'], interpolate: [], points1d: 5, points2d: 4, lanczosSteps: 12, timing: false },
  badOptions: { directions: ['sideways'] },
});

type Setting = { task: TaskInstance; model: ModelInstance; params: Params };

async function runLandscape(s: Setting, raw: Record<string, unknown>) {
  const ctx = createAnalysisContext({ ...s, seed: 5, backend: 'cpu', analysis: 'landscape' });
  return landscape.run(ctx, landscape.options.parse({ timing: false, ...raw })) as Promise<{ result: any; headline: HeadlineNumber[]; provenance: any; figures?: any[] }>;
}

function maxRelErr(a: number[], b: number[], floor: number): number {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.max(Math.abs(b[i]), floor)));
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'landscape-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('landscape analysis', () => {
  it('exports the plugin', () => {
    expect(plugins).toEqual([landscape]);
    expect(landscape.kind).toBe('analysis');
  });

  it('filter normalisation makes slices invariant to ReLU rescaling of a layer (and without it they change)', async () => {
    const task = await toyRegressionTask.create(toyRegressionTask.options.parse({ trainSize: 48, inputs: 4, outputs: 2 }), { rng: new Rng(2) });
    const model = mlp.create(mlp.options.parse({ hidden: [6, 5], activation: 'relu' }), { inputShape: task.inputShape, outputSize: task.outputSize, outputKind: task.outputKind });
    const params = model.init(new Rng(3));
    const c = 3.5;
    // layer 0's outgoing weights (and bias) × c, layer 1's incoming weights × 1/c: the same function
    const scaled: Params = { ...params, 'dense0.weight': tf.mul(params['dense0.weight'], c), 'dense0.bias': tf.mul(params['dense0.bias'], c), 'dense1.weight': tf.div(params['dense1.weight'], c) };
    const { x } = splitTensors(task.splits.train);
    const same = tf.tidy(() => tf.max(tf.abs(tf.sub(model.apply(params, x), model.apply(scaled, x)))).dataSync()[0]);
    expect(same).toBeLessThan(1e-4);
    const opts = { directions: ['random'], interpolate: [], points1d: 9, points2d: 7, zeroBiases: false };
    for (const normalization of ['filter', 'none'] as const) {
      const a = await runLandscape({ task, model, params }, { ...opts, normalization });
      const b = await runLandscape({ task, model, params: scaled }, { ...opts, normalization });
      const la = [...a.result.slices[0].plane.loss.flat(), ...a.result.slices[0].lines.flatMap((l: any) => l.loss)];
      const lb = [...b.result.slices[0].plane.loss.flat(), ...b.result.slices[0].lines.flatMap((l: any) => l.loss)];
      if (normalization === 'filter') expect(maxRelErr(lb, la, 1e-3)).toBeLessThan(1e-4);
      else expect(maxRelErr(lb, la, 1e-3)).toBeGreaterThan(1e-2);
    }
    tf.dispose([x, scaled['dense0.weight'], scaled['dense0.bias'], scaled['dense1.weight']]);
    disposeParams(params);
  });

  it('Hessian directions of a known quadratic: the eigenvectors of H = 2XᵀX/n, and slices along them match ½(λ₁a² + λ₂b²)', async () => {
    // dense check: a Gaussian design, compared with the dense eigendecomposition of the analytic H
    const g = quadraticSetting({ n: 30, d: 8, seed: 4 });
    const { x, y } = splitTensors(g.task.splits.train);
    const h = await hessianDirections(g.model, 'mse', g.params, { x, y }, { count: 2, maxSteps: 8, tol: 1e-8, rng: new Rng(1) });
    const eig = symmetricEigenDecomposition(g.hessian, 8);
    [7, 6].forEach((idx, k) => {
      expect(h.values[k]).toBeCloseTo(eig.values[idx], 3);
      expect(Math.abs(dot(h.vectors[k], eig.vector(idx)))).toBeGreaterThan(1 - 1e-5);
    });
    tf.dispose([x, y]);
    disposeParams(g.params);

    // at the minimum of a diagonal quadratic: λ = 2·c²/n, the slices are exactly ½(λ₁a² + λ₂b²)
    const q = quadraticSetting({ n: 6, d: 4, seed: 2, columns: [3, 2, 1.5, 1], exact: true });
    const r = await runLandscape(q, { directions: ['hessian'], interpolate: [], range: 1, points1d: 7, points2d: 5, tol: 1e-8 });
    const s = r.result.slices[0];
    expect(s.info.eigenvalues[0]).toBeCloseTo(3, 4);
    expect(s.info.eigenvalues[1]).toBeCloseTo(4 / 3, 4);
    const want = s.plane.b.flatMap((b: number) => s.plane.a.map((a: number) => 0.5 * (3 * a * a + (4 / 3) * b * b)));
    expect(maxRelErr(s.plane.loss.flat(), want, 1e-3)).toBeLessThan(1e-4);
    expect(s.lines[0].loss.map((v: number, i: number) => v - 1.5 * s.lines[0].t[i] ** 2).every((e: number) => Math.abs(e) < 1e-5)).toBe(true);
    expect(r.result.cost.hvps).toBeGreaterThan(0);
    expect(r.result.cost.batched).toBe(true);
    // the declared headline: the loss at the minimum and λ₁ = 3 of the known quadratic, exact
    expect(headlineIssues(r.headline)).toEqual([]);
    expect(r.headline.map((h) => h.key)).toEqual(['loss', 'lambdaMax']);
    expect(r.headline[0]).toMatchObject({ value: r.result.loss, exact: true, better: 'lower' });
    expect(r.headline[1]).toMatchObject({ value: s.info.eigenvalues[0], exact: true });
    expect(r.headline[1].value).toBeCloseTo(3, 4);
    disposeParams(q.params);
  });

  it('PCA directions from a trajectory recorded by the train hooks: the plane of the trajectory, projected where recorded', async () => {
    const q = quadraticSetting({ n: 20, d: 10, seed: 6 });
    const rng = new Rng(7);
    const p = rng.normalArray(10);
    const u = rng.normalArray(10);
    const opts = landscape.options.parse({ directions: ['pca'], interpolate: ['init'], every: 2, points1d: 5, points2d: 5, timing: false });
    const hooks = landscape.trainHooks!(opts, { model: q.model, task: q.task, rng });
    const at = (t: number) => paramsFromArray(Float32Array.from(q.w0, (w, i) => w + (1 - t) * p[i] + 0.3 * Math.sin(6 * t) * u[i]), q.model.specs);
    const init = at(0);
    await hooks.onStart!({ params: init, model: q.model, task: q.task });
    for (let step = 1; step <= 21; step++) {
      const ps = at(step / 21);
      await hooks.onStep!({ step, epoch: 0, params: ps, loss: 0 });
      if (step === 21) await hooks.onEnd!({ params: ps, status: 'completed' });
      disposeParams(ps);
    }
    const final = at(1);
    const r = await runLandscape({ task: q.task, model: q.model, params: final }, opts);
    const s = r.result.slices[0];
    expect(s.info.snapshots).toBe(12); // step 0, 2, …, 20, and the last step 21
    expect(s.info.explained[0] + s.info.explained[1]).toBeGreaterThan(0.9999);
    expect(s.trajectory.inPlane).toBeGreaterThan(0.9999);
    expect(s.trajectory.coords[s.trajectory.coords.length - 1].every((v: number) => Math.abs(v) < 1e-5)).toBe(true);
    expect(s.ranges[0]).toBeGreaterThan(Math.max(...s.trajectory.coords.map((c: number[]) => Math.abs(c[0]))));
    expect(r.figures!.map((f) => f.name)).toEqual(expect.arrayContaining(['pca-heatmap', 'pca-contour', 'pca-lines', 'interpolation-1-loss']));
    // interpolation init → trained: its endpoints are the losses at both ends
    const ctx = createAnalysisContext({ task: q.task, model: q.model, params: final, seed: 5, backend: 'cpu' });
    const { x, y } = splitTensors(q.task.splits.train);
    const lossAt = (ps: Params) => tf.tidy(() => ctx.loss(ps, x, y).dataSync()[0]);
    const ip = r.result.interpolations[0];
    expect([ip.from, ip.to]).toEqual(['init', 'trained']);
    expect(ip.train.loss[0]).toBeCloseTo(lossAt(init), 4);
    expect(ip.train.loss[ip.train.loss.length - 1]).toBeCloseTo(lossAt(final), 4);
    // the declared headline: the in-plane share and the barrier, read off the same numbers
    expect(headlineIssues(r.headline)).toEqual([]);
    const h = Object.fromEntries(r.headline.map((x) => [x.key, x]));
    expect(h.trajectoryInPlane).toMatchObject({ value: s.trajectory.inPlane, exact: true });
    const ends = Math.max(ip.train.loss[0], ip.train.loss[ip.train.loss.length - 1]);
    expect(h.barrier).toMatchObject({ value: Math.max(...ip.train.loss) - ends, exact: true, better: 'lower' });
    expect(h.barrier.value).toBeGreaterThanOrEqual(0);
    tf.dispose([x, y]);
    disposeParams(init);
    disposeParams(final);
    disposeParams(q.params);
  });

  it('interpolates to another run’s checkpoint (mode connectivity) with train and test loss and accuracy at both ends', async () => {
    const task = blobsTask({ classes: 3, perClass: 20, dim: 4, seed: 1 });
    const model = mlp.create(mlp.options.parse({ hidden: [8], activation: 'tanh' }), { inputShape: task.inputShape, outputSize: task.outputSize, outputKind: task.outputKind });
    const a = model.init(new Rng(1));
    const b = model.init(new Rng(2));
    const dir = path.join(tmp, 'other-run', 'checkpoints', 'last');
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    await saveCheckpoint(dir, b, model.specs);
    const r = await runLandscape({ task, model, params: a }, { directions: [], interpolate: [path.join(tmp, 'other-run')], interpolationPoints: 5 });
    const ip = r.result.interpolations[0];
    const metricsAt = (ps: Params, split: 'train' | 'test') => {
      const { x, y } = splitTensors(task.splits[split]);
      const out = tf.tidy(() => model.apply(ps, x));
      const m: Record<string, number> = { ...task.metrics(out, y), loss: tf.tidy(() => createAnalysisContext({ task, model, params: ps, seed: 1, backend: 'cpu' }).loss(ps, x, y).dataSync()[0]) };
      tf.dispose([x, y, out]);
      return m;
    };
    for (const split of ['train', 'test'] as const) {
      const [ma, mb] = [metricsAt(a, split), metricsAt(b, split)];
      expect(ip[split].loss[0]).toBeCloseTo(ma.loss, 4);
      expect(ip[split].loss[4]).toBeCloseTo(mb.loss, 4);
      expect(ip[split].accuracy[0]).toBeCloseTo(ma.accuracy, 6);
      expect(ip[split].accuracy[4]).toBeCloseTo(mb.accuracy, 6);
    }
    // no slices: the headline is the barrier of the path alone
    expect(headlineIssues(r.headline)).toEqual([]);
    expect(r.headline.map((h) => h.key)).toEqual(['barrier']);
    expect(ip.distance).toBeCloseTo(Math.hypot(...Array.from(paramsToArray(a, model.specs), (v, i) => v - paramsToArray(b, model.specs)[i])), 3);
    expect(r.figures!.map((f) => f.name)).toEqual(['interpolation-1-loss', 'interpolation-1-accuracy']);
    await expectNoLeaks(() => runLandscape({ task, model, params: a }, { directions: ['random'], dims: [2], points2d: 3, interpolate: [path.join(tmp, 'other-run')], interpolationPoints: 3 }));
    disposeParams(a);
    disposeParams(b);
  });

  it('refuses what it cannot do with usage errors naming the field, before any work', async () => {
    const q = quadraticSetting({ n: 8, d: 3, seed: 1 });
    const missing = path.join(tmp, 'nowhere');
    const e1 = await usageErrorOf(runLandscape(q, { directions: [], interpolate: [missing] }));
    expect(e1.message).toMatch(/interpolate\[0\].*nowhere/);
    const e2 = await usageErrorOf(runLandscape(q, { directions: ['pca'], interpolate: [] }));
    expect(e2.message).toMatch(/landscape\.trajectory/);
    const e3 = await usageErrorOf(runLandscape(q, { directions: [], interpolate: ['init'] }));
    expect(e3.message).toMatch(/interpolate\[0\]: init/);
    const other = quadraticSetting({ n: 8, d: 4, seed: 1 });
    const dir = path.join(tmp, 'wrong-shape');
    await saveCheckpoint(dir, other.params, other.model.specs);
    const e4 = await usageErrorOf(runLandscape(q, { directions: [], interpolate: [dir] }));
    expect(e4.message).toMatch(/expected the parameters of this model/);
    disposeParams(q.params);
    disposeParams(other.params);
  });

  it('check reports a bad split, a missing target, an empty trajectory and one too large, by field', () => {
    const q = quadraticSetting({ n: 100, d: 3, seed: 1 });
    const check = (raw: Record<string, unknown>, epochs = 10) =>
      (landscape.check!(landscape.options.parse(raw), { task: q.task, model: q.model, train: { epochs, batchSize: 10, optimizer: 'sgd' }, memoryLimit: 2 ** 32 }) ?? []).map((i) => i.field);
    expect(check({})).toEqual([]);
    expect(check({ split: 'ood' })).toEqual(['split']);
    expect(check({ interpolate: ['init', path.join(tmp, 'nowhere')] })).toEqual(['interpolate[1]']);
    expect(check({ interpolationRange: [1, 0] })).toEqual(['interpolationRange']);
    expect(check({ directions: ['pca'], trajectory: 'record', every: 100 }, 1)).toEqual(['every']);
    expect(check({ directions: ['pca'], every: 1 }, 1000)).toEqual(['every']);
    disposeParams(q.params);
  });
});
