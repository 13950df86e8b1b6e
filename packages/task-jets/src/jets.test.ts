/* eslint-disable no-console -- the measured numbers (AUCs, p-values, jets/s) are printed to the test log on purpose */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, generatorMatrix } from '@goldstone/core';
import { expectNoLeaks, usageErrorOf } from '@goldstone/testkit';
import type { Rng as RngLike, Split, TaskInstance } from '@goldstone/plugin-api';
import { jets, jetsOptions, makeJetSplit, tau21OfInputs, type JetsOptions } from './jets';
import { channelsOf, isPadding, type FeatureName } from './features';
import { generateClasses } from './generate';
import { fractionSums } from './symmetries';
import { ksTwoSample, ksUniform } from './stats.test-helpers';

const DEFAULT_C = channelsOf(['logz', 'deta', 'dphi']);
const N = 32;

async function build(options: Partial<JetsOptions>, seed = 1): Promise<TaskInstance> {
  return jets.create(jetsOptions.parse(options), { rng: new Rng(seed) });
}

/** The hardest constituent's angle atan2(Δφ, Δη) of every jet: independent across jets. */
function hardestAngles(split: Split, c = DEFAULT_C): number[] {
  const out: number[] = [];
  for (let r = 0; r < split.n; r++) {
    const o = r * N * c.width;
    const e = split.x[o + c.deta];
    const p = split.x[o + c.dphi];
    if (e !== 0 || p !== 0) out.push(Math.atan2(p, e));
  }
  return out;
}

/** Σ z·Δη² of every jet: not rotation-invariant jet by jet, but its distribution is when the generator is. */
function etaSpread(x: ArrayLike<number>, rows: number, c = DEFAULT_C): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < N; j++) {
      const o = (r * N + j) * c.width;
      if (!isPadding(x, r * N + j, c.width)) s += Math.exp(x[o + c.logz]) * x[o + c.deta] ** 2;
    }
    out.push(s);
  }
  return out;
}

function rotate(task: TaskInstance, split: Split, seed: number): Float32Array {
  const x = tf.tensor(split.x, [split.n, ...split.xShape]);
  const rx = task.symmetries![0].sample(x, new Rng(seed));
  const out = rx.dataSync() as Float32Array;
  x.dispose();
  rx.dispose();
  return out;
}

/** An Rng whose uniforms are all `u` (to apply one fixed rotation angle 2πu). */
function fixedRng(u: number): RngLike {
  const r = new Rng(0);
  return Object.assign(Object.create(r) as RngLike, { uniform: () => u });
}

describe('the shower', () => {
  it('peaks the signal jet mass at 80 within its width; counts constituents in 20–40', () => {
    const s = { momentum: 400, tCut: 4, signalMass: 80, signalWidth: 2, signalRootRate: 3, rate: 1.5, massWindow: [40, 120] as [number, number], constituents: N };
    const { signal, background } = generateClasses(s, 4000, 4000, new Rng(3));
    const hist = new Float64Array(80);
    for (const m of signal.mass) hist[Math.floor(m - 40)]++;
    const mode = 40 + hist.indexOf(Math.max(...hist)) + 0.5;
    const sorted = Float64Array.from(signal.mass).sort();
    console.log(`signal jet mass: mode ${mode}, median ${sorted[2000].toFixed(2)}`);
    expect(Math.abs(mode - 80)).toBeLessThanOrEqual(2);
    expect(Math.abs(sorted[2000] - 80)).toBeLessThanOrEqual(2);
    for (const jetsOf of [signal, background]) {
      const totals = Int32Array.from(jetsOf.total).sort();
      const mean = totals.reduce((a, b) => a + b, 0) / totals.length;
      console.log(`constituents: mean ${mean.toFixed(1)}, median ${totals[2000]}, min ${totals[0]}, max ${totals[3999]}`);
      expect(mean).toBeGreaterThanOrEqual(20);
      expect(mean).toBeLessThanOrEqual(40);
      expect(totals[2000]).toBeGreaterThanOrEqual(20);
      expect(totals[2000]).toBeLessThanOrEqual(40);
    }
  });

  it('matches the background jet-mass histogram to the signal one (mass alone is useless)', async () => {
    const task = await build({ trainSize: 2, testSize: 4000, oodSize: 2 });
    const baselines = task.info!.baselines as Record<string, number>;
    console.log(`test split: jet-mass AUC ${baselines.massAuc.toFixed(3)}, τ21 AUC ${baselines.tau21Auc.toFixed(3)}`);
    expect(Math.abs(baselines.massAuc - 0.5)).toBeLessThan(0.03);
  });

  it('generates 50,000 jets in seconds (jets/s in the log)', () => {
    const o = jetsOptions.parse({});
    const t0 = performance.now();
    const { split } = makeJetSplit({ ...o, momentum: o.momentum }, { epsilon: 0, resolutionEta: 0, resolutionPhi: 0 }, o.features, 50_000, new Rng(5));
    const seconds = (performance.now() - t0) / 1000;
    console.log(`50,000 jets in ${seconds.toFixed(2)} s: ${Math.round(50_000 / seconds)} jets/s`);
    expect(split.n).toBe(50_000);
  });
});

describe('τ21', () => {
  it('separates signal from background', async () => {
    const atDefaults = await build({ trainSize: 2, testSize: 6000, oodSize: 2 });
    const a3 = (atDefaults.info!.baselines as Record<string, number>).tau21Auc;
    const harder = await build({ trainSize: 2, testSize: 6000, oodSize: 2, signalRootRate: 5 });
    const a5 = (harder.info!.baselines as Record<string, number>).tau21Auc;
    console.log(`τ21 AUC: ${a3.toFixed(3)} at the defaults (signalRootRate 3), ${a5.toFixed(3)} at signalRootRate 5`);
    expect(a3).toBeGreaterThan(0.55);
    expect(a5).toBeGreaterThan(0.6);
  });

  it('is invariant under the rotation symmetry', async () => {
    const task = await build({ trainSize: 2, testSize: 500, oodSize: 2 });
    const t = task.splits.test;
    const before = tau21OfInputs(t.x, t.n, N, DEFAULT_C);
    const after = tau21OfInputs(rotate(task, t, 9), t.n, N, DEFAULT_C);
    for (let i = 0; i < t.n; i++) expect(after[i]).toBeCloseTo(before[i], 4);
  });
});

describe('the rotation symmetry', () => {
  let exact: TaskInstance;
  beforeAll(async () => {
    exact = await build({ trainSize: 2, testSize: 6000, oodSize: 2 });
  });

  it('is exact at ε = 0 with equal resolutions: uniform angles (KS), same Σ z·Δη² distribution after rotations (two-sample KS)', () => {
    const t = exact.splits.test;
    const p = ksUniform(hardestAngles(t), -Math.PI, Math.PI);
    const half = t.n / 2;
    const spread = etaSpread(t.x, t.n);
    const rotated = etaSpread(rotate(exact, t, 11), t.n);
    const p2 = ksTwoSample(spread.slice(0, half), rotated.slice(half));
    console.log(`ε = 0: KS p of the angles ${p.toFixed(3)}; two-sample KS p of Σ z·Δη², original vs rotated halves, ${p2.toFixed(3)}`);
    expect(p).toBeGreaterThan(0.01);
    expect(p2).toBeGreaterThan(0.01);
  });

  it('is broken by pixelisation (ε = 0.1) and by anisotropic resolution', async () => {
    const pixel = await build({ trainSize: 2, testSize: 6000, oodSize: 2, epsilon: 0.1 });
    const pPixel = ksUniform(hardestAngles(pixel.splits.test), -Math.PI, Math.PI);
    const aniso = await build({ trainSize: 2, testSize: 6000, oodSize: 2, resolutionEta: 0.1, resolutionPhi: 0 });
    const t = aniso.splits.test;
    const pAniso = ksUniform(hardestAngles(t), -Math.PI, Math.PI);
    const half = t.n / 2;
    const pSpread = ksTwoSample(etaSpread(t.x, t.n).slice(0, half), etaSpread(rotate(aniso, t, 11), t.n).slice(half));
    console.log(`KS p of the angles: ε = 0.1 ${pPixel.toExponential(2)}, σ_η = 0.1 ${pAniso.toExponential(2)}; Σ z·Δη² vs rotated ${pSpread.toExponential(2)}`);
    expect(pPixel).toBeLessThan(1e-4);
    expect(pAniso).toBeLessThan(1e-4);
    expect(pSpread).toBeLessThan(1e-4);
  });

  it('has a generator equal to the derivative of the sampled rotation (finite difference), zero on padding and log z', () => {
    const rot = exact.symmetries!.find((s) => s.name === 'rotation')!;
    const t = exact.splits.test;
    const rows = 20;
    const x = tf.tensor(t.x.subarray(0, rows * N * 3), [rows, N, 3]);
    const h = 1e-3;
    const plus = rot.sample(x, fixedRng(h / (2 * Math.PI)));
    const minus = rot.sample(x, fixedRng(1 - h / (2 * Math.PI)));
    const gx = rot.generator!(x);
    const fd = tf.div(tf.sub(plus, minus), 2 * h);
    const err = tf.max(tf.abs(tf.sub(fd, gx))).dataSync()[0];
    const g = gx.dataSync();
    const xs = x.dataSync();
    for (let row = 0; row < rows * N; row++) {
      expect(g[3 * row]).toBe(0);
      if (isPadding(xs, row, 3)) expect([g[3 * row + 1], g[3 * row + 2]]).toEqual([0, 0]);
      else {
        expect(g[3 * row + 1]).toBeCloseTo(-xs[3 * row + 2], 6);
        expect(g[3 * row + 2]).toBeCloseTo(xs[3 * row + 1], 6);
      }
    }
    tf.dispose([x, plus, minus, gx, fd]);
    expect(err).toBeLessThan(1e-3);
    const G = generatorMatrix(rot.generator!, [N, 3]);
    expect(G.filter((v) => v !== 0).length).toBe(2 * N);
  });

  it('permutation keeps each jet’s multiset of rows', () => {
    const perm = exact.symmetries!.find((s) => s.name === 'permutation')!;
    expect(perm.generator).toBeUndefined();
    const t = exact.splits.test;
    const x = tf.tensor(t.x.subarray(0, 10 * N * 3), [10, N, 3]);
    const px = perm.sample(x, new Rng(4));
    const a = x.dataSync();
    const b = px.dataSync();
    const key = (v: ArrayLike<number>, r: number) =>
      Array.from({ length: N }, (_, j) => Array.from(v).slice((r * N + j) * 3, (r * N + j + 1) * 3).join(',')).sort().join(';');
    for (let r = 0; r < 10; r++) expect(key(b, r)).toBe(key(a, r));
    expect(Array.from(b)).not.toEqual(Array.from(a));
    tf.dispose([x, px]);
  });
});

describe('inputs', () => {
  it('inputMask is 1 on every channel of real constituents, 0 on padding', async () => {
    const task = await build({ trainSize: 2, testSize: 50, oodSize: 2 });
    const t = task.splits.test;
    const x = tf.tensor(t.x, [t.n, N, 3]);
    const m = task.inputMask!(x);
    expect(m.shape).toEqual(x.shape);
    const mv = m.dataSync();
    let real = 0;
    for (let row = 0; row < t.n * N; row++) {
      const want = isPadding(t.x, row, 3) ? 0 : 1;
      real += want;
      for (let k = 0; k < 3; k++) expect(mv[3 * row + k]).toBe(want);
    }
    expect(real).toBeGreaterThan(t.n * 10);
    expect(real).toBeLessThan(t.n * N);
    tf.dispose([x, m]);
  });

  it('puts the energy fraction in the z channel when asked, padding still all zero', async () => {
    const features: FeatureName[] = ['z', 'deta', 'dphi'];
    const task = await build({ trainSize: 2, testSize: 50, oodSize: 2, features });
    const c = channelsOf(features);
    expect(task.inputShape).toEqual([N, 3]);
    for (const s of fractionSums(task.splits.test.x, 50, N, c)) expect(s).toBeCloseTo(1, 5);
  });

  it('soft-particles fills only padding rows and keeps each jet’s Σ z', async () => {
    const task = await build({ trainSize: 2, testSize: 200, oodSize: 2 });
    const soft = task.perturbations!.find((p) => p.name === 'soft-particles')!;
    const t = task.splits.test;
    const x = tf.tensor(t.x, [t.n, N, 3]);
    const y = soft.apply(x, 3, new Rng(8));
    const a = t.x;
    const b = y.dataSync();
    const before = fractionSums(a, t.n, N, DEFAULT_C);
    const after = fractionSums(b, t.n, N, DEFAULT_C);
    let added = 0;
    let expected = 0;
    for (let r = 0; r < t.n; r++) {
      expect(after[r]).toBeCloseTo(before[r], 4);
      let pads = 0;
      for (let j = 0; j < N; j++) {
        const row = r * N + j;
        if (isPadding(a, row, 3)) {
          pads++;
          if (!isPadding(b, row, 3)) {
            added++;
            expect(Math.exp(b[3 * row])).toBeLessThanOrEqual(0.0100001);
          }
        } else {
          expect(b[3 * row + 1]).toBe(a[3 * row + 1]);
          expect(b[3 * row + 2]).toBe(a[3 * row + 2]);
          expect(b[3 * row]).toBeLessThanOrEqual(a[3 * row]);
        }
      }
      expected += Math.min(3, pads);
    }
    expect(added).toBe(expected);
    const same = soft.apply(x, 0, new Rng(8));
    expect(Array.from(same.dataSync())).toEqual(Array.from(a));
    tf.dispose([x, y, same]);
  });

  it('leaks no tensors (symmetries, generator, mask, perturbation, metrics)', async () => {
    const task = await build({ trainSize: 2, testSize: 16, oodSize: 2 });
    const t = task.splits.test;
    const x = tf.tensor(t.x, [t.n, N, 3]);
    const y = tf.tensor(t.y, [t.n, 1]);
    const pred = tf.randomNormal([t.n, 1], 0, 1, 'float32', 3);
    const rng = new Rng(2);
    for (const s of task.symmetries!) await expectNoLeaks(() => s.sample(x, rng));
    await expectNoLeaks(() => task.symmetries![0].generator!(x));
    await expectNoLeaks(() => task.inputMask!(x));
    await expectNoLeaks(() => task.perturbations![0].apply(x, 2.5, rng));
    await expectNoLeaks(() => task.metrics(pred, y));
    const metrics = task.metrics(pred, y);
    expect(Object.keys(metrics).sort()).toEqual(['accuracy', 'auc']);
    tf.dispose([x, y, pred]);
  });
});

describe('splits and options', () => {
  it('has train, test, ood-momentum and ood-epsilon, balanced, with binary labels', async () => {
    const task = await build({ trainSize: 40, testSize: 20, oodSize: 10 });
    expect(Object.keys(task.splits)).toEqual(['train', 'test', 'ood-momentum', 'ood-epsilon']);
    expect(task.outputKind).toBe('binary');
    expect(task.loss).toBe('binary-cross-entropy');
    for (const s of Object.values(task.splits)) {
      expect(s.yShape).toEqual([1]);
      expect(s.xShape).toEqual([N, 3]);
      expect(s.y.reduce((a, b) => a + b, 0)).toBe(Math.floor(s.n / 2));
    }
    const info = task.info!.splits as Record<string, { momentum: number; epsilon: number }>;
    expect(info['ood-momentum'].momentum).toBe(800);
    expect(info['ood-epsilon'].epsilon).toBe(0.1);
  });

  it('is deterministic per seed', async () => {
    const o = { trainSize: 30, testSize: 10, oodSize: 10, resolutionEta: 0.01, epsilon: 0.02 };
    const a = await build(o, 4);
    const b = await build(o, 4);
    const c = await build(o, 5);
    for (const name of Object.keys(a.splits)) {
      expect(Array.from(b.splits[name].x)).toEqual(Array.from(a.splits[name].x));
      expect(Array.from(b.splits[name].y)).toEqual(Array.from(a.splits[name].y));
    }
    expect(Array.from(c.splits.train.x)).not.toEqual(Array.from(a.splits.train.x));
    expect(b.info).toEqual(a.info);
  });

  it.each([
    [{ signalMass: -80 }, 'signalMass'],
    [{ tCut: 6400 }, 'tCut'],
    [{ massWindow: [90, 70] }, 'massWindow'],
    [{ massWindow: [100, 120] }, 'massWindow.0'],
    [{ massWindow: [0, 1] }, 'massWindow.1'],
    [{ constituents: 0 }, 'constituents'],
    [{ momentum: 0 }, 'momentum'],
    [{ epsilon: -0.1 }, 'epsilon'],
    [{ oodEpsilon: -1 }, 'oodEpsilon'],
    [{ features: ['logz', 'deta'] }, 'features'],
    [{ features: ['deta', 'dphi'] }, 'features'],
    [{ features: ['logz', 'deta', 'dphi', 'deta'] }, 'features.3'],
    [{ constituents: 1 }, 'constituents'],
  ])('rejects %j at %s', (bad, field) => {
    const r = jetsOptions.safeParse(bad);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain(field);
  });

  it('names massWindow when the window keeps no jets of a class', async () => {
    const err = await usageErrorOf(Promise.resolve().then(() => build({ trainSize: 4, testSize: 2, oodSize: 2, massWindow: [0, 5] })));
    expect(err.field).toBe('massWindow');
    expect(err.message).toMatch(/mass window \[0, 5\]/);
  });
});
