import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, createAnalysisContext, disposeParams, splitTensors } from '@goldstone/core';
import type { ModelInstance, Params } from '@goldstone/plugin-api';
import { toyLinearModel, blobsTask, silentProgress, trainedPluginModel } from '@goldstone/testkit';
import { fgsm, perExampleLoss, pgd, type AttackTarget } from './attacks';
import { inputDomain } from './domain';
import { robustness } from './robustness';
import { mlp } from '@goldstone/models';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const NONE = { kind: 'none' as const, lower: null, upper: null };

function linear(inputs: number, outputs: number, seed: number): { model: ModelInstance; params: Params } {
  const model = toyLinearModel.create({ bias: true }, { inputShape: [inputs], outputSize: outputs, outputKind: 'regression' });
  const params = model.init(new Rng(seed));
  params.b.dispose();
  params.b = tf.tensor1d(new Rng(seed + 1).normalArray(outputs), 'float32');
  return { model, params };
}

describe('fgsm', () => {
  it('on a linear binary classifier moves every logit by exactly ε‖w‖₁ towards the wrong class (the analytic worst case)', () => {
    const { model, params } = linear(5, 1, 11);
    const rng = new Rng(4);
    const x = tf.tensor2d(rng.normalArray(40 * 5), [40, 5]);
    const y = tf.tensor2d(Float32Array.from({ length: 40 }, (_, i) => i % 2), [40, 1]);
    const target: AttackTarget = { model, params, loss: 'binary-cross-entropy', domain: NONE };
    const w = params.W.dataSync();
    const l1 = Array.from(w).reduce((s, v) => s + Math.abs(v), 0);
    for (const eps of [0.01, 0.1, 0.5]) {
      const xa = fgsm(target, x, y, eps);
      const z0 = model.apply(params, x);
      const z1 = model.apply(params, xa);
      const a = z0.dataSync();
      const b = z1.dataSync();
      const t = y.dataSync();
      for (let i = 0; i < 40; i++) {
        const expected = a[i] + (t[i] > 0.5 ? -1 : 1) * eps * l1;
        expect(b[i]).toBeCloseTo(expected, 4);
      }
      // and no point of the ℓ∞ ball does worse: the loss at the corners of the worst sign pattern is the maximum
      const dist = tf.max(tf.abs(tf.sub(xa, x))).dataSync()[0];
      expect(dist).toBeCloseTo(eps, 5);
      tf.dispose([xa, z0, z1]);
    }
    tf.dispose([x, y]);
    disposeParams(params);
  });

  it('on linear regression (MSE) raises every absolute residual by ε‖w‖₁, the largest possible in the ℓ∞ ball', () => {
    const { model, params } = linear(4, 1, 21);
    const rng = new Rng(5);
    const x = tf.tensor2d(rng.normalArray(30 * 4), [30, 4]);
    const y = tf.tensor2d(rng.normalArray(30), [30, 1]);
    const target: AttackTarget = { model, params, loss: 'mse', domain: NONE };
    const l1 = Array.from(params.W.dataSync()).reduce((s, v) => s + Math.abs(v), 0);
    const eps = 0.2;
    const xa = fgsm(target, x, y, eps);
    const r0 = tf.sub(model.apply(params, x), y).dataSync();
    const r1 = tf.sub(model.apply(params, xa), y).dataSync();
    for (let i = 0; i < 30; i++) expect(Math.abs(r1[i])).toBeCloseTo(Math.abs(r0[i]) + eps * l1, 4);
    // brute force over random points of the ball: none beats FGSM
    const r = new Rng(9);
    for (let k = 0; k < 20; k++) {
      const xr = tf.add(x, tf.tensor2d(r.uniformArray(30 * 4, -eps, eps), [30, 4]));
      const rr = tf.sub(model.apply(params, xr), y).dataSync();
      for (let i = 0; i < 30; i++) expect(Math.abs(rr[i])).toBeLessThanOrEqual(Math.abs(r1[i]) + 1e-5);
    }
    tf.dispose([x, y, xa]);
    disposeParams(params);
  });

  it('clips to the input domain', () => {
    const { model, params } = linear(3, 1, 31);
    const x = tf.tensor2d([0.5, 0.5, 0.5, 0.9, 0.1, 0.95], [2, 3]);
    const y = tf.tensor2d([1, 0], [2, 1]);
    const domain = { kind: 'box' as const, lower: new Float32Array(3).fill(0), upper: new Float32Array(3).fill(1) };
    const xa = fgsm({ model, params, loss: 'binary-cross-entropy', domain }, x, y, 0.3);
    const v = xa.dataSync();
    for (const e of v) {
      expect(e).toBeGreaterThanOrEqual(0);
      expect(e).toBeLessThanOrEqual(1);
    }
    tf.dispose([x, y, xa]);
    disposeParams(params);
  });
});

describe('pgd', () => {
  const task = blobsTask({ classes: 3, perClass: 30, separation: 1.5 });
  let setting: { model: ModelInstance; params: Params };
  beforeAll(async () => {
    setting = await trainedPluginModel(mlp, task, { hidden: [8], activation: 'tanh' }, { epochs: 15 });
  });
  afterAll(() => disposeParams(setting.params));

  it('is at least as strong as FGSM on a trained tanh MLP, and stays in the ball and the domain', () => {
    const { x, y } = splitTensors(task.splits.test);
    const domain = inputDomain('data', [task.splits.train, task.splits.test]);
    const target: AttackTarget = { ...setting, loss: 'softmax-cross-entropy', domain };
    const meanLoss = (xx: tf.Tensor) => tf.tidy(() => tf.mean(perExampleLoss('softmax-cross-entropy', setting.model.apply(setting.params, xx), y)).dataSync()[0]);
    const before = tf.memory().numTensors;
    for (const eps of [0.05, 0.2, 0.5]) {
      const xf = fgsm(target, x, y, eps);
      const xp = pgd(target, x, y, eps, { steps: 10, restarts: 1, rng: new Rng(1) });
      const lf = tf.tidy(() => perExampleLoss('softmax-cross-entropy', setting.model.apply(setting.params, xf), y).dataSync());
      const lp = tf.tidy(() => perExampleLoss('softmax-cross-entropy', setting.model.apply(setting.params, xp), y).dataSync());
      expect(meanLoss(xp)).toBeGreaterThanOrEqual(meanLoss(xf) - 1e-6);
      expect(meanLoss(xp)).toBeGreaterThan(meanLoss(x));
      // per example, PGD is not weaker than FGSM by more than a sliver on all but a few examples
      let weaker = 0;
      for (let i = 0; i < lf.length; i++) if (lp[i] < lf[i] - 1e-4) weaker++;
      expect(weaker).toBeLessThanOrEqual(Math.ceil(0.05 * lf.length));
      const dist = tf.tidy(() => tf.max(tf.abs(tf.sub(xp, x))).dataSync()[0]);
      expect(dist).toBeLessThanOrEqual(eps + 1e-6);
      const v = xp.dataSync();
      for (let i = 0; i < v.length; i++) {
        expect(v[i]).toBeGreaterThanOrEqual(domain.lower![i % 2] - 1e-6);
        expect(v[i]).toBeLessThanOrEqual(domain.upper![i % 2] + 1e-6);
      }
      tf.dispose([xf, xp]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });
});

/**
 * Known answers on a linear binary classifier, logit z = w·x + b: inside the ℓ∞ ball of radius ε the
 * worst case is the vertex x − s·ε·sign(w) (s = +1 for label 1, −1 for label 0), which lowers every
 * margin s·z by exactly ε‖w‖₁. FGSM takes it in one step; PGD with steps of ε/4 reaches it from any
 * start in the ball after 8 steps. The attacked loss (BCE of z − s·ε‖w‖₁), AUC and accuracy follow
 * in closed form, so an attack that does nothing (or anything else) fails these checks.
 */
describe('closed form on a linear classifier', () => {
  const task = blobsTask({ binary: true, perClass: 40, dim: 5, separation: 1, seed: 3 });
  const w = [0.7, -1.3, 0.4, -0.25, 2.1];
  const bias = 0.2;
  const l1 = w.reduce((s, v) => s + Math.abs(v), 0);
  const model = toyLinearModel.create({ bias: true }, { inputShape: [5], outputSize: 1, outputKind: 'binary' });
  const makeParams = (): Params => ({ W: tf.tensor2d(w, [5, 1]), b: tf.tensor1d([bias]) });
  const { n, x: xs, y: ys } = task.splits.test;

  const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
  /** The logits (float64) of the test inputs moved by `shift(i)` along −s·sign(w) (0: clean). */
  const logits = (shift: number) =>
    Array.from({ length: n }, (_, i) => {
      let z = bias;
      for (let j = 0; j < 5; j++) z += w[j] * xs[i * 5 + j];
      return z - (ys[i] > 0.5 ? 1 : -1) * shift;
    });
  const scores = (z: number[]) => {
    const loss = z.reduce((s, zi, i) => s + softplus(zi) - ys[i] * zi, 0) / n;
    let pairs = 0;
    let wins = 0;
    for (let i = 0; i < n; i++) {
      if (ys[i] < 0.5) continue;
      for (let k = 0; k < n; k++) {
        if (ys[k] > 0.5) continue;
        pairs++;
        wins += z[i] > z[k] ? 1 : z[i] === z[k] ? 0.5 : 0;
      }
    }
    const accuracy = z.filter((zi, i) => zi > 0 === ys[i] > 0.5).length / n;
    return { loss, auc: wins / pairs, accuracy };
  };
  const clean = scores(logits(0));
  const predicted = (eps: number) => scores(logits(eps * l1));

  type Attack = (target: AttackTarget, x: tf.Tensor, y: tf.Tensor, eps: number) => tf.Tensor;
  /** What an attack did, against the closed form: the failed checks (empty: it is the analytic worst case). */
  function closedFormFailures(attack: Attack, eps: number): string[] {
    const params = makeParams();
    const { x, y } = splitTensors(task.splits.test);
    const xa = attack({ model, params, loss: 'binary-cross-entropy', domain: NONE }, x, y, eps);
    const moved = tf.tidy(() => tf.sub(xa, x).dataSync() as Float32Array);
    const z = Array.from(tf.tidy(() => model.apply(params, xa).dataSync() as Float32Array));
    const loss = tf.tidy(() => tf.mean(perExampleLoss('binary-cross-entropy', model.apply(params, xa), y)).dataSync()[0]);
    tf.dispose([x, y, xa]);
    disposeParams(params);
    const want = predicted(eps);
    const failures: string[] = [];
    // the perturbation: the vertex −s·ε·sign(w), coordinate by coordinate (float32 round-off of x + ε)
    let worst = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < 5; j++) worst = Math.max(worst, Math.abs(moved[i * 5 + j] + (ys[i] > 0.5 ? 1 : -1) * eps * Math.sign(w[j])));
    if (!(worst <= 2e-6)) failures.push(`perturbation off the vertex by ${worst}`);
    const margins = logits(eps * l1);
    const offBy = Math.max(...z.map((zi, i) => Math.abs(zi - margins[i])));
    if (!(offBy <= 1e-5)) failures.push(`logits off z − s·ε‖w‖₁ by ${offBy}`);
    if (!(Math.abs(loss - want.loss) <= 1e-6 * (1 + want.loss))) failures.push(`loss ${loss}, closed form ${want.loss}`);
    const s = scores(z);
    if (s.auc !== want.auc) failures.push(`AUC ${s.auc}, closed form ${want.auc}`);
    if (s.accuracy !== want.accuracy) failures.push(`accuracy ${s.accuracy}, closed form ${want.accuracy}`);
    return failures;
  }

  it('the closed form itself: the attacked loss exceeds the clean one by a clear margin at every ε, and no logit sits at a tie', () => {
    for (const eps of [0.05, 0.2, 0.5]) {
      const p = predicted(eps);
      expect(p.loss - clean.loss).toBeGreaterThan(0.05);
      expect(p.accuracy).toBeLessThan(clean.accuracy);
      // no attacked logit within float32 reach of 0, so accuracy is decided the same way in float32
      expect(Math.min(...logits(eps * l1).map(Math.abs))).toBeGreaterThan(1e-4);
    }
    expect(Math.min(...logits(0).map(Math.abs))).toBeGreaterThan(1e-4);
  });

  it('FGSM lands on the vertex: loss, AUC and accuracy equal the closed form', () => {
    for (const eps of [0.05, 0.2, 0.5]) expect(closedFormFailures(fgsm, eps), `ε = ${eps}`).toEqual([]);
  });

  it('PGD (8 steps of ε/4, 2 random starts) reaches the same vertex', () => {
    const attack: Attack = (t, x, y, eps) => pgd(t, x, y, eps, { steps: 8, restarts: 2, rng: new Rng(3) });
    for (const eps of [0.05, 0.2, 0.5]) expect(closedFormFailures(attack, eps), `ε = ${eps}`).toEqual([]);
  });

  it('an attack that does nothing, or only part of the way, fails the same checks', () => {
    const noop: Attack = (_t, x) => tf.clone(x);
    const half: Attack = (t, x, y, eps) => fgsm(t, x, y, eps / 2);
    const shortPgd: Attack = (t, x, y, eps) => pgd(t, x, y, eps, { steps: 1, restarts: 1, rng: new Rng(3) });
    for (const [name, attack] of [['no-op', noop], ['half-way FGSM', half], ['one-step PGD', shortPgd]] as const) {
      const failures = closedFormFailures(attack, 0.2);
      expect(failures.some((f) => f.startsWith('loss')), `${name}: ${failures.join('; ')}`).toBe(true);
      expect(failures.some((f) => f.startsWith('perturbation')), name).toBe(true);
    }
    // the no-op's loss is the clean one: short of the closed form by the whole predicted increase
    const failure = closedFormFailures(noop, 0.2).find((f) => f.startsWith('loss'))!;
    const measured = Number(/^loss (\S+),/.exec(failure)![1]);
    expect(measured).toBeCloseTo(clean.loss, 6);
    expect(predicted(0.2).loss - measured).toBeGreaterThan(0.05);
  });

  it('the analysis reports the closed-form loss and AUC under FGSM and PGD', async () => {
    const params = makeParams();
    const ctx = createAnalysisContext({ task, model, params, seed: 1, backend: 'cpu', analysis: 'robustness', progress: silentProgress });
    const opts = robustness.options.parse({ sections: ['fgsm', 'pgd'], epsilons: [0.05, 0.2], pgdSteps: 8, pgdRestarts: 2, domain: 'none', maxExamples: 10_000 });
    const { result } = (await robustness.run(ctx, opts)) as { result: any };
    disposeParams(params);
    expect(result.clean.loss).toBeCloseTo(clean.loss, 6);
    expect(result.clean.value).toBe(clean.auc);
    for (const attack of ['fgsm', 'pgd']) {
      for (const row of result[attack]) {
        const want = predicted(row.epsilon);
        expect(Math.abs(row.loss - want.loss), `${attack} ε = ${row.epsilon}`).toBeLessThanOrEqual(1e-6 * (1 + want.loss));
        expect(row.value).toBe(want.auc);
        expect(row.drop).toBeCloseTo(clean.auc - want.auc, 12);
      }
    }
  });
});
