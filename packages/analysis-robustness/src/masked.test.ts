import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, createAnalysisContext, scoreTensors, splitTensors } from '@goldstone/core';
import { headlineIssues, type HeadlineNumber, type InputPerturbation, type InputSymmetry, type ModelInstance, type Params, type Split, type TaskInstance } from '@goldstone/plugin-api';
import { expectNoLeaks, silentProgress, toyLinearModel } from '@goldstone/testkit';
import { fgsm, pgd } from './attacks';
import { inputDomain } from './domain';
import { featureScales, smear } from './smearing';
import { robustness } from './robustness';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// A padded set task: each example is up to P = 6 particles (pT, η, φ); example i has 2 + i mod 5 real
// particles in its first rows and zero rows after them (padding).
const P = 6;
const F = 3;
const realRows = (i: number) => 2 + (i % 5);
const score = (x: Float32Array, i: number) => {
  let s = 0;
  for (let p = 0; p < P; p++) s += x[(i * P + p) * F] * (x[(i * P + p) * F + 1] ** 2 + x[(i * P + p) * F + 2] ** 2);
  return s;
};

function makeSplit(n: number, rng: Rng, threshold: number): Split {
  const x = new Float32Array(n * P * F);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < realRows(i); p++) {
      x[(i * P + p) * F] = 0.5 + 1.5 * rng.uniform();
      x[(i * P + p) * F + 1] = rng.normal();
      x[(i * P + p) * F + 2] = rng.normal();
    }
  }
  const y = Float32Array.from({ length: n }, (_, i) => (score(x, i) > threshold ? 1 : 0));
  return { n, x, y, xShape: [P, F], yShape: [1] };
}

/** Rotations of every example's (η, φ) plane by a random angle; generator G(pT, η, φ) = (0, −φ, η). */
const rotation: InputSymmetry = {
  name: 'rotation',
  sample: (x, rng) =>
    tf.tidy(() => {
      const b = x.shape[0];
      const angle = tf.tensor(rng.uniformArray(b, 0, 2 * Math.PI), [b, 1, 1], 'float32');
      const [pt, eta, phi] = tf.split(x, 3, -1);
      const c = tf.cos(angle);
      const s = tf.sin(angle);
      return tf.concat([pt, tf.sub(tf.mul(c, eta), tf.mul(s, phi)), tf.add(tf.mul(s, eta), tf.mul(c, phi))], -1);
    }),
  generator: (x) =>
    tf.tidy(() => {
      const [pt, eta, phi] = tf.split(x, 3, -1);
      return tf.concat([tf.zerosLike(pt), tf.neg(phi), eta], -1);
    }),
};

function paddedTask(calls: number[] = []): TaskInstance {
  const rng = new Rng(3);
  const threshold = 3;
  const softScale: InputPerturbation = {
    name: 'soft-scale',
    description: "scales every real particle's pT by 1 − strength",
    maxStrength: 0.5,
    apply: (x, strength) => {
      calls.push(strength);
      return tf.tidy(() => {
        const [pt, rest] = tf.split(x, [1, 2], -1);
        return tf.concat([tf.mul(pt, 1 - strength), rest], -1);
      });
    },
  };
  return {
    inputShape: [P, F],
    outputSize: 1,
    outputKind: 'binary',
    loss: 'binary-cross-entropy',
    splits: { train: makeSplit(50, rng.split('train'), threshold), test: makeSplit(40, rng.split('test'), threshold) },
    metrics: (pred, y) => scoreTensors('binary', pred, y),
    symmetries: [rotation],
    inputMask: (x) => tf.tidy(() => tf.broadcastTo(tf.cast(tf.greater(tf.sum(tf.abs(x), -1, true), 0), 'float32'), x.shape)),
    perturbations: [softScale],
  };
}

/**
 * logit = a·Σ pT·h(η, φ) − c with h = η² + φ² (a function of ‖(η, φ)‖ only: rotation-invariant) or
 * h = η² + 0.3·η·φ (not invariant). `seen` gets every batch the model is applied to.
 */
function setModel(invariant: boolean, seen?: (x: tf.Tensor) => void): { model: ModelInstance; params: Params } {
  const model: ModelInstance = {
    specs: [
      { name: 'a', shape: [1] },
      { name: 'c', shape: [1] },
    ],
    paramCount: 2,
    init: () => ({ a: tf.tensor1d([1.2]), c: tf.tensor1d([3]) }),
    apply: (params, x) => {
      seen?.(x);
      return tf.tidy(() => {
        const [pt, eta, phi] = tf.split(x, 3, -1);
        const h = invariant ? tf.add(tf.square(eta), tf.square(phi)) : tf.add(tf.square(eta), tf.mul(0.3, tf.mul(eta, phi)));
        const s = tf.sum(tf.reshape(tf.mul(pt, h), [x.shape[0], -1]), 1, true);
        return tf.sub(tf.mul(s, params.a), params.c);
      });
    },
  };
  return { model, params: model.init(new Rng(1)) };
}

function run(task: TaskInstance, m: { model: ModelInstance; params: Params }, options: Record<string, unknown>) {
  const ctx = createAnalysisContext({ task, model: m.model, params: m.params, seed: 5, backend: 'cpu', analysis: 'robustness', progress: silentProgress });
  return robustness.run(ctx, robustness.options.parse(options)) as Promise<{ result: any; headline: HeadlineNumber[]; provenance: any; figures?: any[] }>;
}

/** The padding values of a batch [B, P, F] of the task's examples in index order that are not exactly 0. */
function paddingViolations(v: Float32Array, b: number): number {
  let bad = 0;
  for (let i = 0; i < b; i++) for (let p = realRows(i); p < P; p++) for (let f = 0; f < F; f++) if (v[(i * P + p) * F + f] !== 0) bad++;
  return bad;
}

const FAST = { noiseDraws: 1, smearDraws: 1, symmetryDraws: 2, perturbationDraws: 1, pgdSteps: 3, pgdRestarts: 2, weightSigmas: [0.01], weightDraws: 2, traceProbes: 2 };

describe('mask-aware perturbations on a padded set task', () => {
  it('every perturbation of the analysis (noise, smearing, generator steps, FGSM, PGD, clipping) leaves padding exactly zero and moves real values', async () => {
    const task = paddedTask();
    const clean = task.splits.test.x;
    let batches = 0;
    let violations = 0;
    let moved = 0;
    const m = setModel(true, (x) => {
      if (x.shape[0] !== task.splits.test.n) return;
      const v = x.dataSync() as Float32Array;
      batches++;
      violations += paddingViolations(v, x.shape[0]);
      for (let i = 0; i < v.length; i++) if (v[i] !== clean[i]) moved++;
    });
    // the data domain is the range of the real values: pT ≥ 0.5 > 0, so clipping alone would move padding pT
    const { result } = await run(task, m, { ...FAST, sections: ['noise', 'smearing', 'symmetry', 'fgsm', 'pgd'], noiseSigmas: [0.3, 1], smearSigmas: [0.5], epsilons: [0.2, 1] });
    expect(result.domain.kind).toBe('data');
    expect(result.domain.min).toBeLessThan(0);
    expect(batches).toBeGreaterThan(10);
    expect(moved).toBeGreaterThan(0);
    expect(violations).toBe(0);
    expect(result.smearing.masked).toBe(true);
  });

  it('FGSM and PGD with a mask move only real values, also against a box domain that excludes the padding value', () => {
    const task = paddedTask();
    const { x, y } = splitTensors(task.splits.test);
    const mask = task.inputMask!(x);
    const m = setModel(false);
    const domain = inputDomain({ min: 0.25, max: 2 }, [task.splits.train]);
    const target = { ...m, loss: 'binary-cross-entropy' as const, domain, mask };
    const before = tf.memory().numTensors;
    const xf = fgsm(target, x, y, 0.3);
    const xp = pgd(target, x, y, 0.3, { steps: 3, restarts: 2, rng: new Rng(2) });
    const c = task.splits.test.x;
    const mv = mask.dataSync();
    for (const xa of [xf, xp]) {
      const v = xa.dataSync() as Float32Array;
      expect(paddingViolations(v, task.splits.test.n)).toBe(0);
      let moved = 0;
      for (let i = 0; i < v.length; i++) {
        if (mv[i] === 0) continue;
        if (v[i] !== c[i]) moved++;
        if (xa === xf) {
          // FGSM's step is clipped into the box (PGD keeps the clean input where no iterate beats it)
          expect(v[i]).toBeGreaterThanOrEqual(0.25 - 1e-6);
          expect(v[i]).toBeLessThanOrEqual(2 + 1e-6);
          expect(Math.abs(v[i] - Math.min(2, Math.max(0.25, c[i])))).toBeLessThanOrEqual(0.3 + 1e-5);
        } else {
          expect(Math.abs(v[i] - c[i])).toBeLessThanOrEqual(Math.max(0.3, Math.abs(c[i] - Math.min(2, Math.max(0.25, c[i])))) + 1e-5);
        }
      }
      expect(moved).toBeGreaterThan(0);
    }
    // without a mask the same box clips padding 0 up to 0.25
    const xu = fgsm({ ...target, mask: null }, x, y, 0.3);
    expect(paddingViolations(xu.dataSync() as Float32Array, task.splits.test.n)).toBeGreaterThan(0);
    tf.dispose([xf, xp, xu]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y, mask]);
  });

  it('smearing at σ = 0 returns the inputs unchanged; at σ > 0 it moves real values by their feature scale only', () => {
    const task = paddedTask();
    const train = task.splits.train;
    const trainMask = tf.tidy(() => task.inputMask!(tf.tensor(train.x, [train.n, P, F])).dataSync() as Float32Array);
    const scales = featureScales(train, trainMask);
    expect(scales.length).toBe(F);
    // pT is uniform on [0.5, 2] on real particles: standard deviation 1.5/√12 ≈ 0.433; η, φ ≈ 1
    expect(scales[0]).toBeGreaterThan(0.3);
    expect(scales[0]).toBeLessThan(0.55);
    // counting padding as values would shrink the mean and inflate nothing but skew: the masked scale differs from the unmasked
    expect(featureScales(train, null)[0]).not.toBeCloseTo(scales[0], 3);
    const { x } = splitTensors(task.splits.test);
    const mask = task.inputMask!(x);
    const same = smear(x, 0, scales, mask, new Rng(1));
    expect(Array.from(same.dataSync())).toEqual(Array.from(x.dataSync()));
    const moved = smear(x, 0.1, scales, mask, new Rng(1));
    const v = moved.dataSync() as Float32Array;
    expect(paddingViolations(v, task.splits.test.n)).toBe(0);
    let changed = 0;
    for (let i = 0; i < v.length; i++) if (v[i] !== task.splits.test.x[i]) changed++;
    // every real value gets its own draw (a few may round back to the same float32)
    expect(changed).toBeGreaterThan(0.95 * Array.from(mask.dataSync()).filter((e) => e === 1).length);
    tf.dispose([x, mask, same, moved]);
  });

  it('the invariance score is 1 for a rotation-invariant model and lower for one that is not', async () => {
    const task = paddedTask();
    const inv = await run(task, setModel(true), { ...FAST, sections: ['symmetry'], symmetryDraws: 4 });
    const non = await run(task, setModel(false), { ...FAST, sections: ['symmetry'], symmetryDraws: 4 });
    const a = inv.result.symmetries[0];
    const b = non.result.symmetries[0];
    expect(a.name).toBe('rotation');
    expect(a.invariance).toBeCloseTo(1, 5);
    expect(a.agreement).toBe(1);
    expect(a.meanAbsChange).toBeLessThan(1e-5);
    expect(a.value).toBeCloseTo(inv.result.clean.value, 5);
    expect(b.invariance).toBeLessThan(0.99);
    expect(b.invariance).toBeGreaterThan(0);
    expect(b.agreement).toBeLessThan(1);
    expect(b.meanAbsChange).toBeCloseTo(1 - b.invariance, 12);
    // the headline carries the same numbers by stable paths
    expect(inv.result.headline.invariance.rotation).toBe(a.invariance);
    expect(non.result.headline.agreement.rotation).toBe(b.agreement);
    // along the generator x + t·G·x an invariant model's metric moves only at second order in t
    expect(a.generator.map((g: any) => g.t)).toEqual([0.01, 0.03, 0.1, 0.3]);
  });

  it("runs the task's own perturbations at fractions of maxStrength (or the given strengths) and reports the drop", async () => {
    const calls: number[] = [];
    const task = paddedTask(calls);
    const m = setModel(true);
    const { result, figures } = await run(task, m, { ...FAST, sections: ['perturbations'], perturbationDraws: 2 });
    expect(calls).toEqual([0.125, 0.125, 0.25, 0.25, 0.5, 0.5]);
    const [p] = result.perturbations;
    expect(p).toMatchObject({ name: 'soft-scale', maxStrength: 0.5, description: expect.stringContaining('pT') });
    expect(p.points.map((q: any) => q.strength)).toEqual([0.125, 0.25, 0.5]);
    for (const q of p.points) expect(q.drop).toBeCloseTo(result.clean.value - q.value, 12);
    expect(result.headline.perturbationDrop['soft-scale']).toBe(p.points[2].drop);
    expect(result.headline.perturbationStrength['soft-scale']).toBe(0.5);
    expect(result.headline.noiseDrop).toBeNull();
    expect(figures!.map((f) => f.name)).toEqual(['robustness-perturbations']);
    calls.length = 0;
    const given = await run(task, m, { ...FAST, sections: ['perturbations'], perturbationStrengths: [0, 0.3] });
    expect(calls).toEqual([0, 0.3]);
    expect(given.result.perturbations[0].points[0].drop).toBe(0);
  });

  it('fills the headline from the reference σ and ε (the nearest swept value)', async () => {
    const task = paddedTask();
    const { result, headline } = await run(task, setModel(false), { ...FAST, sections: ['noise', 'smearing', 'fgsm', 'pgd'], noiseSigmas: [0, 0.05, 0.2], smearSigmas: [0, 0.3], epsilons: [0.1, 0.3], referenceSigma: 0.15, referenceEpsilon: 0.3 });
    const h = result.headline;
    expect(h.metric).toBe('auc');
    expect(h.clean).toBe(result.clean.value);
    expect(h.noiseSigma).toBe(0.2);
    expect(h.noiseDrop).toBe(result.noise[2].drop);
    expect(h.smearSigma).toBe(0.3);
    expect(h.smearDrop).toBe(result.smearing.points[1].drop);
    expect(h.epsilon).toBe(0.3);
    expect(h.pgdDrop).toBe(result.clean.value - result.pgd[1].value);
    expect(h.pgdValue).toBe(result.pgd[1].value);
    expect(h.fgsmDrop).toBe(result.fgsm[1].drop);
    expect(h.invariance).toEqual({});
    // the declared headline: the same numbers; AUC of a fixed split and one-draw drops are exact, with a note
    expect(headlineIssues(headline)).toEqual([]);
    const d = Object.fromEntries(headline.map((x) => [x.key, x]));
    expect(d.clean).toMatchObject({ value: h.clean, exact: true, better: 'higher' });
    expect(d.pgdDrop.value).toBe(h.pgdDrop);
    expect(d.fgsmDrop.value).toBe(h.fgsmDrop);
    expect(d.noiseDrop).toMatchObject({ value: h.noiseDrop, exact: true, note: expect.stringMatching(/one draw/) });
    expect(d.smearDrop.value).toBe(h.smearDrop);
  });

  it("IBP boxes leave padding at its value: a linear model's bound width is 2ε·Σ|W| over the real inputs only", async () => {
    const task = paddedTask();
    const model = toyLinearModel.create({ bias: true }, { inputShape: [P, F], outputSize: 1, outputKind: 'binary' });
    const params = model.init(new Rng(4));
    const eps = 0.1;
    const { result } = await run(task, { model, params }, { sections: ['ibp'], ibpEpsilons: [eps], domain: 'none' });
    expect(result.ibp.supported).toBe(true);
    const w = params.W.dataSync();
    let expected = 0;
    const n = task.splits.test.n;
    for (let i = 0; i < n; i++) for (let j = 0; j < realRows(i) * F; j++) expected += (2 * eps * Math.abs(w[j])) / n;
    expect(result.ibp.points[0].meanWidth).toBeCloseTo(expected, 4);
    let all = 0;
    for (let j = 0; j < P * F; j++) all += 2 * eps * Math.abs(w[j]);
    expect(result.ibp.points[0].meanWidth).toBeLessThan(all - 1e-3);
    tf.dispose(Object.values(params));
  });

  it('leaks no tensors with every section on a masked task', async () => {
    const task = paddedTask();
    const m = setModel(true);
    await expectNoLeaks(() => run(task, m, { ...FAST, noiseSigmas: [0.1], smearSigmas: [0.1], epsilons: [0.1], ibpEpsilons: [0.01], generatorSteps: [0.1], perturbationStrengths: [0.2] }), 2);
  });

  it('rejects an unknown section and bad smearing or strength options in the schema', () => {
    for (const bad of [{ sections: ['noise', 'jitter'] }, { smearSigmas: [-0.1] }, { smearSigmas: [] }, { perturbationStrengths: [-1] }, { referenceEpsilon: 0 }, { smearDraws: 0 }]) {
      const r = robustness.options.safeParse(bad);
      expect(r.success, JSON.stringify(bad)).toBe(false);
    }
    expect(robustness.options.parse({}).sections).toEqual(['noise', 'smearing', 'symmetry', 'perturbations', 'fgsm', 'pgd', 'ibp', 'weight-noise']);
    expect(robustness.options.parse({}).perturbationStrengths).toBeUndefined();
  });
});
