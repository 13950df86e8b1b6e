import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, createAnalysisContext, disposeParams } from '@goldstone/core';
import { headlineIssues, type HeadlineNumber, type ModelInstance, type Params, type TaskInstance } from '@goldstone/plugin-api';
import { expectNoLeaks, silentProgress, testPlugin, toyRegressionTask } from '@goldstone/testkit';
import { clt } from '@goldstone/task-clt';
import { blockMlp, mlp } from '@goldstone/models';
import { cumulants, declaredDegree } from './cumulants';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const B = 2;

/**
 * Block maps as pure functions of [rows, N′] inputs for any N′ a multiple of b: y = w·(block sum)
 * + α·w²·(block sum)², with w = 1/√b the exact map when α = 0. Size-agnostic like a shared block map.
 */
function blockMap(alpha: number, sizeAgnostic = true): ModelInstance {
  return {
    specs: [{ name: 'w', shape: [1] }],
    paramCount: 1,
    init: () => ({ w: tf.tensor1d([1 / Math.sqrt(B)]) }),
    apply(params: Params, x: tf.Tensor) {
      return tf.tidy(() => {
        const [rows, n] = x.shape as [number, number];
        const s = tf.mul(tf.sum(tf.reshape(x, [rows, n / B, B]), 2), params.w);
        return alpha === 0 ? s : tf.add(s, tf.mul(alpha, tf.square(s)));
      });
    },
    info: { architecture: `toy block map (α = ${alpha})`, ...(sizeAgnostic ? { sizeAgnostic: true } : {}) },
  };
}

async function cltTask(seed = 1, size = 4000): Promise<TaskInstance> {
  return clt.create(clt.options.parse({ distribution: 'uniform', trainSize: 64, testSize: size, oodSize: size, ood: ['laplace', 'exponential'] }), { rng: new Rng(seed) });
}

function run(task: TaskInstance, model: ModelInstance, params: Params, options: Record<string, unknown> = {}) {
  const ctx = createAnalysisContext({ task, model, params, seed: 7, backend: 'cpu', analysis: 'cumulants', progress: silentProgress });
  return cumulants.run(ctx, cumulants.options.parse(options)) as Promise<{ result: any; headline: HeadlineNumber[]; provenance: any; figures?: any[] }>;
}

const exact = blockMap(0);
const exactParams = exact.init(new Rng(0));
afterAll(() => disposeParams(exactParams));

describe('conformance', async () => {
  const task = await cltTask(2, 256);
  testPlugin(cumulants, { options: { resamples: 50, splits: ['test', 'ood-laplace'] }, badOptions: { resamples: 3 }, context: { task, model: exact, params: exactParams } });
});

describe('cumulants analysis', () => {
  let task: TaskInstance;
  beforeAll(async () => {
    task = await cltTask();
  });

  it('the exact tied linear map: every cumulant error at sampling noise, flow on theory, propagation exact', async () => {
    const { result, headline, figures } = await run(task, exact, exactParams, { splits: ['test', 'ood-laplace', 'ood-exponential'] });
    expect(result.block).toBe(2);
    // the declared headline: the result's numbers with their paired bootstrap intervals; the
    // learned κ₄ on the test split lies within twice its interval of the theory −0.6
    expect(headlineIssues(headline)).toEqual([]);
    const h = Object.fromEntries(headline.map((x) => [x.key, x]));
    expect(headline.map((x) => x.key)).toEqual(['meanOodMse', 'kappa4', 'kappa4Error', 'flowKappa4Error', 'mse']);
    expect(h.meanOodMse).toMatchObject({ value: result.summary.meanOodMse, exact: true, better: 'lower' });
    const k4 = result.splits.test.orders[3];
    expect(h.kappa4).toMatchObject({ value: k4.predicted.value, level: 0.95 });
    expect(h.kappa4.interval).toEqual(k4.predicted.interval);
    expect(Math.abs(h.kappa4.value! - -0.6)).toBeLessThanOrEqual(h.kappa4.interval![1] - h.kappa4.interval![0] + 1e-3);
    expect(h.kappa4Error.value).toBe(k4.error.value);
    expect(h.kappa4Error.interval![0]).toBeLessThanOrEqual(1e-4);
    expect(h.kappa4Error.interval![1]).toBeGreaterThanOrEqual(-1e-4);
    expect(h.flowKappa4Error.value).toBe(result.flow.steps[2].orders[3].error.value);
    expect(h.mse.value).toBe(result.splits.test.mse);
    for (const s of ['test', 'ood-laplace', 'ood-exponential']) {
      for (const o of result.splits[s].orders) {
        // outputs equal the targets up to float32 rounding
        expect(Math.abs(o.error.value)).toBeLessThan(1e-4 * (1 + Math.abs(o.target.value)));
        expect(o.error.coversZero).toBe(true);
        // and the theory b^(1−n/2)κₙ lies in the predicted interval, or close (a 95% interval misses 1 in 20)
        const half = (o.predicted.interval[1] - o.predicted.interval[0]) / 2;
        expect(Math.abs(o.predicted.value - o.theory)).toBeLessThanOrEqual(2 * half + 1e-3);
      }
      expect(result.splits[s].inputCumulants.source).toBe('task-info');
      expect(result.splits[s].mse).toBeLessThan(1e-10);
    }
    expect(result.summary.meanOodMse).toBeLessThan(1e-10);
    expect(result.splits['ood-exponential'].orders[2].theory).toBeCloseTo(2 / Math.SQRT2, 10);
    expect(result.flow.iterable).toBe(true);
    expect(result.flow.sizeAgnostic).toBe(true);
    expect(result.flow.steps.map((s: any) => s.sites)).toEqual([8, 4, 2]);
    expect(result.flow.reason).toBeNull();
    expect((await run(task, exact, exactParams, { splits: ['test'], flowSteps: 1, propagation: false })).result.flow).toMatchObject({ iterable: true, reason: null });
    for (const st of result.flow.steps) {
      for (const o of st.orders) {
        expect(o.error.coversZero).toBe(true);
        const half = (o.predicted.interval[1] - o.predicted.interval[0]) / 2;
        expect(Math.abs(o.predicted.value - o.theory)).toBeLessThanOrEqual(2 * half + 1e-3);
      }
      // theory after k steps: κ₄·2^(−k) for the uniform κ₄ = −6/5
      expect(st.orders[3].theory).toBeCloseTo(-1.2 * Math.pow(2, -st.k), 10);
    }
    expect(result.propagation).toMatchObject({ available: true, method: 'exact', closure: 'none', degree: 1 });
    for (const o of result.propagation.splits['ood-laplace'].orders) expect(o.error.coversZero).toBe(true);
    expect(figures!.map((f) => f.name)).toEqual(['cumulants-flow']);
  });

  it('a quadratic block map: exact propagation to sampling error on every split, errors against the targets resolved', async () => {
    const q = blockMap(0.3);
    const { result } = await run(task, q, exactParams);
    expect(result.propagation).toMatchObject({ method: 'exact', degree: 2 });
    for (const s of Object.keys(task.splits)) {
      for (const o of result.propagation.splits[s].orders) {
        expect(o.error.coversZero, `${s} κ${o.n}: propagated ${o.propagated.value}, Monte Carlo ${o.monteCarlo.value}`).toBe(true);
      }
    }
    // κ₁ = α·κ₂ ≠ 0: the map is wrong and the interval says so
    expect(result.splits.test.orders[0].error.value).toBeCloseTo(0.3, 1);
    expect(result.splits.test.orders[0].error.coversZero).toBe(false);
    // MSE = α²·E[s⁴] with s the normalised block sum of uniform spins: E[s⁴] = κ₄ + 3κ₂² = −0.6 + 3
    expect(result.splits.test.mse).toBeCloseTo(0.09 * 2.4, 1);
  });

  it('a model that rejects other sizes cannot be iterated (not an error); an mlp with tanh gets the Gaussian closure', async () => {
    const model = mlp.create(mlp.options.parse({ hidden: [4], activation: 'tanh' }), { inputShape: task.inputShape, outputSize: task.outputSize, outputKind: 'regression' });
    const params = model.init(new Rng(4));
    const { result } = await run(task, model, params, { splits: ['test'] });
    expect(result.flow.iterable).toBe(false);
    expect(result.flow.reason).toMatch(/^cannot be iterated: /);
    expect(result.flow.steps).toHaveLength(1);
    const once = (await run(task, model, params, { splits: ['test'], flowSteps: 1, propagation: false })).result;
    expect(once.flow.iterable).toBe(false);
    expect(once.flow.reason).toMatch(/^cannot be iterated: .*does not match inputShape/);
    expect(result.propagation).toMatchObject({ available: true, method: 'gaussian-closure', closure: 'gaussian' });
    const rows = result.propagation.splits.test.orders;
    expect(rows[2].propagated.value).toBeNull();
    expect(Math.abs(rows[1].propagated.value - rows[1].monteCarlo.value)).toBeLessThan(0.1 * rows[1].monteCarlo.value);
    disposeParams(params);
  });

  it('a non-iterable model without readable layers: propagation not available, said in the result', async () => {
    const relu: ModelInstance = { ...blockMap(0, false), apply: (p, x) => tf.tidy(() => tf.relu(blockMap(0).apply(p, x))), info: { architecture: 'toy relu', activation: 'relu' } };
    const { result } = await run(task, relu, exactParams, { splits: ['test'], flowSteps: 2 });
    expect(result.propagation.available).toBe(false);
    expect(result.propagation.reason).toMatch(/^propagation not available for this model/);
    // the relu map accepts smaller inputs: it iterates (its flow is simply wrong)
    expect(result.flow.steps).toHaveLength(2);
  });

  it("models' own layers: a one-hidden-layer quadratic mlp is exact against its outputs; two quadratic layers fall back to the closure", async () => {
    const ctx = { inputShape: task.inputShape, outputSize: task.outputSize, outputKind: 'regression' as const };
    const one = mlp.create(mlp.options.parse({ hidden: [6], activation: 'quadratic', init: 'normal', initScale: 0.3 }), ctx);
    const p1 = one.init(new Rng(5));
    const r1 = (await run(task, one, p1)).result;
    expect(r1.propagation).toMatchObject({ method: 'exact', degree: 2 });
    for (const s of Object.keys(task.splits)) for (const o of r1.propagation.splits[s].orders) expect(o.error.coversZero, `${s} κ${o.n}`).toBe(true);
    disposeParams(p1);
    const two = mlp.create(mlp.options.parse({ hidden: [4, 4], activation: 'quadratic', init: 'normal', initScale: 0.3 }), ctx);
    const p2 = two.init(new Rng(6));
    const r2 = (await run(task, two, p2, { splits: ['test'] })).result;
    expect(r2.propagation).toMatchObject({ method: 'gaussian-closure', closure: 'gaussian' });
    disposeParams(p2);
    // a tied block-mlp with identity activation is linear: exact, whatever its weight constraints
    const tied = blockMlp.create(blockMlp.options.parse({ block: 2, tied: true, sign: 'nonnegative' }), ctx);
    const p3 = tied.init(new Rng(7));
    const r3 = (await run(task, tied, p3, { splits: ['ood-exponential'] })).result;
    expect(r3.propagation).toMatchObject({ method: 'exact', degree: 1 });
    for (const o of r3.propagation.splits['ood-exponential'].orders) expect(o.error.coversZero, `κ${o.n}`).toBe(true);
    disposeParams(p3);
  });

  it('an mlp with a learned quadratic α per layer (dense{i}.alpha): exact with one hidden layer, the closure with two', async () => {
    const dims = [16, 4, 4, 8];
    const rng = new Rng(8);
    const make = (d: number[]): [ModelInstance, Params] => {
      const params: Params = {};
      for (let i = 0; i + 1 < d.length; i++) {
        params[`dense${i}.weight`] = tf.tensor2d(rng.split(`w${i}`).normalArray(d[i] * d[i + 1], 0.5 / Math.sqrt(d[i])), [d[i], d[i + 1]]);
        params[`dense${i}.bias`] = tf.tensor1d(rng.split(`b${i}`).normalArray(d[i + 1], 0.1));
        if (i + 2 < d.length) params[`dense${i}.alpha`] = tf.tensor1d([0.15 * (i + 1)]);
      }
      const model: ModelInstance = {
        specs: [],
        paramCount: 0,
        init: () => params,
        apply: (p, x) =>
          tf.tidy(() => {
            let h = x;
            for (let i = 0; i + 1 < d.length; i++) {
              const z = tf.add(tf.matMul(h as tf.Tensor2D, p[`dense${i}.weight`] as tf.Tensor2D), p[`dense${i}.bias`]);
              h = i + 2 < d.length ? tf.add(z, tf.mul(p[`dense${i}.alpha`], tf.square(z))) : z;
            }
            return h;
          }),
        info: { architecture: `mlp ${d.join('-')} (quadratic, learned α)`, activation: 'quadratic', alpha: 'learned' },
      };
      return [model, params];
    };
    const [one, p1] = make([16, 4, 8]);
    expect((await run(task, one, p1, { splits: ['test'] })).result.propagation).toMatchObject({ method: 'exact', degree: 2 });
    const [two, p2] = make(dims);
    const { result } = await run(task, two, p2, { splits: ['test'] });
    expect(result.propagation).toMatchObject({ method: 'gaussian-closure', closure: 'gaussian' });
    expect(result.propagation.description).toMatch(/z \+ αz² \(α = 0\.150, 0\.300\)/);
    const [k1, k2] = result.propagation.splits.test.orders;
    // weakly non-linear (α ≤ 0.3 on pre-activations of s.d. ≈ 0.5): within 3 % plus the Monte Carlo interval
    expect(Math.abs(k1.propagated.value - k1.monteCarlo.value)).toBeLessThan(0.03 * Math.sqrt(k2.monteCarlo.value) + (k1.monteCarlo.interval[1] - k1.monteCarlo.interval[0]));
    expect(Math.abs(k2.propagated.value - k2.monteCarlo.value)).toBeLessThan(0.03 * k2.monteCarlo.value + (k2.monteCarlo.interval[1] - k2.monteCarlo.interval[0]));
    disposeParams(p1);
    disposeParams(p2);
  });

  it('reads the polynomial degree an mlp or block-mlp declares (deep quadratic nets are never taken as quadratic forms)', () => {
    expect(declaredDegree({ architecture: 'mlp 16-8-8-8 (quadratic)', activation: 'quadratic' })).toBe(4);
    expect(declaredDegree({ architecture: 'block-mlp 2-4-1 per block × 8 (quadratic; shared(b=2))', activation: 'quadratic' })).toBe(2);
    expect(declaredDegree({ architecture: 'mlp 16-8-8-8 (identity)', activation: 'identity' })).toBe(1);
    expect(declaredDegree({ architecture: 'mlp 16-8-8 (tanh)', activation: 'tanh' })).toBeUndefined();
    expect(declaredDegree({ architecture: 'gnn gcn 2 layers', activation: 'quadratic' })).toBeUndefined();
  });

  it('leaks no tensors', async () => {
    await expectNoLeaks(() => run(task, blockMap(0.3), exactParams, { splits: ['test'], resamples: 50 }), 2);
  });

  it('names the field when the task has no block size or a split does not exist', async () => {
    const toy = await toyRegressionTask.create(toyRegressionTask.options.parse({}), { rng: new Rng(1) });
    await expect(run(toy, exact, exactParams)).rejects.toThrow(/^task: the cumulants analysis needs a coarse-graining task with a block size/);
    await expect(run(task, exact, exactParams, { splits: ['nope'] })).rejects.toThrow(/splits\[0\]: the task has no split "nope" \(it has: train, test/);
  });
});
