import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_VERSION, type Split } from '@goldstone/plugin-api';
import { Rng } from '@goldstone/core';
import { clt, cltOptions, type CltInstance } from './clt';
import { DISTRIBUTIONS, exactCumulants } from './distributions';
import { sampleCumulants } from './cumulants';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function make(options: Record<string, unknown> = {}, seed = 1): Promise<CltInstance> {
  return (await clt.create(cltOptions.parse(options), { rng: new Rng(seed) })) as CltInstance;
}

/** The exact solution as a dense [N, N/b] weight matrix: 1/√b where site i lies in block j. */
function exactWeights(sites: number, block: number): tf.Tensor2D {
  const w = new Float32Array(sites * (sites / block));
  for (let i = 0; i < sites; i++) w[i * (sites / block) + Math.floor(i / block)] = 1 / Math.sqrt(block);
  return tf.tensor2d(w, [sites, sites / block]);
}

function tensors(s: Split): [tf.Tensor2D, tf.Tensor2D] {
  return [tf.tensor2d(s.x, [s.n, s.xShape[0]]), tf.tensor2d(s.y, [s.n, s.yShape[0]])];
}

function bytes(s: Split): Buffer {
  return Buffer.concat([Buffer.from(s.x.buffer), Buffer.from(s.y.buffer)]);
}

describe('clt task', () => {
  it('declares itself as a task plugin', () => {
    expect(clt.kind).toBe('task');
    expect(clt.name).toBe('clt');
    expect(clt.apiVersion).toBe(API_VERSION);
  });

  it('has defaults: 16 sites, blocks of 2, centred exponential spins, mse regression', async () => {
    const t = await make();
    expect(t.inputShape).toEqual([16]);
    expect(t.outputSize).toBe(8);
    expect(t.outputKind).toBe('regression');
    expect(t.loss).toBe('mse');
    expect(t.info?.distribution).toBe('exponential');
    expect(t.splits.train.n).toBe(2048);
    expect(t.splits.test.n).toBe(1024);
  });

  it('targets are the block sums / √b of the inputs', async () => {
    for (const [sites, block] of [
      [16, 2],
      [12, 3],
      [8, 8],
      [6, 1],
    ]) {
      const t = await make({ sites, block, trainSize: 50, testSize: 10 });
      for (const s of Object.values(t.splits)) {
        expect(s.x.length).toBe(s.n * sites);
        expect(s.y.length).toBe(s.n * (sites / block));
        for (let r = 0; r < s.n; r++)
          for (let j = 0; j < sites / block; j++) {
            let sum = 0;
            for (let i = 0; i < block; i++) sum += s.x[r * sites + j * block + i];
            expect(s.y[r * (sites / block) + j]).toBeCloseTo(sum / Math.sqrt(block), 5);
          }
      }
    }
  });

  it('the exact linear solution (tied weights 1/√b, no bias) has zero loss on every split', async () => {
    const t = await make({ sites: 12, block: 3, trainSize: 256, testSize: 256 });
    const w = exactWeights(12, 3);
    for (const [name, s] of Object.entries(t.splits)) {
      const [x, y] = tensors(s);
      const pred = tf.matMul(x, w);
      const m = t.metrics(pred, y);
      expect(m.mse, name).toBeLessThan(1e-11);
      expect(m.r2, name).toBeGreaterThan(1 - 1e-9);
      tf.dispose([x, y, pred]);
    }
    const info = t.info?.exactSolution as { weight: number; bias: number };
    expect(info.weight).toBeCloseTo(1 / Math.sqrt(3), 12);
    expect(info.bias).toBe(0);
    w.dispose();
  });

  it('a wrong solution has a positive loss and r2 below 1 (the metrics can tell)', async () => {
    const t = await make({ trainSize: 64, testSize: 256 });
    const [x, y] = tensors(t.splits.test);
    const w = exactWeights(16, 2);
    const pred = tf.mul(tf.matMul(x, w), 0.9);
    const m = t.metrics(pred, y);
    // mse of 0.9·y against y is 0.01·E[y²] = 0.01 (κ₂ = 1 is kept by the map)
    expect(m.mse).toBeGreaterThan(0.008);
    expect(m.mse).toBeLessThan(0.012);
    expect(m.r2).toBeCloseTo(0.99, 2);
    expect(m.rmse).toBeCloseTo(Math.sqrt(m.mse), 10);
    tf.dispose([x, y, w, pred]);
  });

  it('target cumulants follow κn′ = b^(1−n/2) κn, as recorded in info', async () => {
    const t = await make({ sites: 16, block: 4, trainSize: 8192, testSize: 16 });
    const cumulants = t.info?.cumulants as { input: number[]; target: number[] };
    expect(cumulants.input).toEqual(exactCumulants('exponential'));
    expect(cumulants.target[2]).toBeCloseTo(2 / 2, 12); // κ₃ / √4
    expect(cumulants.target[3]).toBeCloseTo(6 / 4, 12); // κ₄ / 4
    const [k1, k2, k3, k4] = sampleCumulants(t.splits.train.y);
    // 32768 correlated-free target values; generous bounds at ≈ 5 standard errors
    expect(Math.abs(k1)).toBeLessThan(0.03);
    expect(Math.abs(k2 - 1)).toBeLessThan(0.05);
    expect(Math.abs(k3 - 1)).toBeLessThan(0.15);
    expect(Math.abs(k4 - 1.5)).toBeLessThan(0.6);
    // the metrics report the same cumulants of a perfect prediction
    const [x, y] = tensors(t.splits.train);
    const w = exactWeights(16, 4);
    const pred = tf.matMul(x, w);
    const m = t.metrics(pred, y);
    expect(m.predK3).toBeCloseTo(k3, 3);
    expect(m.predK4).toBeCloseTo(k4, 2);
    tf.dispose([x, y, w, pred]);
  });

  it('is deterministic per seed (bytes) and differs across seeds', async () => {
    const a = await make({ trainSize: 64, testSize: 32 }, 42);
    const b = await make({ trainSize: 64, testSize: 32 }, 42);
    const c = await make({ trainSize: 64, testSize: 32 }, 43);
    for (const name of Object.keys(a.splits)) {
      expect(bytes(a.splits[name]).equals(bytes(b.splits[name])), name).toBe(true);
      expect(bytes(a.splits[name]).equals(bytes(c.splits[name])), name).toBe(false);
    }
    // train and test are independent draws
    expect(bytes(a.splits.train).subarray(0, 128).equals(bytes(a.splits.test).subarray(0, 128))).toBe(false);
  });

  it('names out-of-distribution splits ood-<distribution>, all others by default', async () => {
    const t = await make({ trainSize: 8, testSize: 8 });
    expect(Object.keys(t.splits).sort()).toEqual(
      ['train', 'test', ...DISTRIBUTIONS.filter((d) => d !== 'exponential').map((d) => `ood-${d}`)].sort(),
    );
    const u = await make({ distribution: 'gaussian', ood: ['spins', 'laplace'], oodSize: 20, trainSize: 8, testSize: 8 });
    expect(Object.keys(u.splits).sort()).toEqual(['ood-laplace', 'ood-spins', 'test', 'train']);
    expect(u.splits['ood-spins'].n).toBe(20);
    expect(new Set(u.splits['ood-spins'].x)).toEqual(new Set([1, -1]));
    expect((u.info?.oodCumulants as Record<string, { input: number[] }>)['ood-spins'].input).toEqual([0, 1, 0, -2]);
    const none = await make({ ood: [], trainSize: 8, testSize: 8 });
    expect(Object.keys(none.splits).sort()).toEqual(['test', 'train']);
  });

  it('oodScales adds ood-<training>-x<a> splits: the training spins multiplied by a, exact κₙ·aⁿ', async () => {
    const t = await make({ distribution: 'gaussian', ood: ['student-t'], oodScales: [2, 0.5], trainSize: 64, testSize: 64, oodSize: 40_000 });
    expect(Object.keys(t.splits).sort()).toEqual(['ood-gaussian-x0.5', 'ood-gaussian-x2', 'ood-student-t', 'test', 'train']);
    const info = t.info?.splits as Record<string, { distribution: string; scale: number; exact: { input: number[]; target: number[] } }>;
    expect(info['ood-gaussian-x2']).toMatchObject({ distribution: 'gaussian', scale: 2, exact: { input: [0, 4, 0, 0], target: [0, 4, 0, 0] } });
    expect(info['ood-student-t'].exact).toEqual({ input: [0, 1, 0, 6], target: [0, 1, 0, 3] });
    expect(t.info?.studentNu).toBe(5);
    // variance 4 within 5 standard errors (√(2·4²/n) for Gaussian values)
    const [, k2] = sampleCumulants(t.splits['ood-gaussian-x2'].x);
    expect(Math.abs(k2 - 4)).toBeLessThan(5 * Math.sqrt(32 / t.splits['ood-gaussian-x2'].x.length));
    // the targets are still the exact map of the (scaled) inputs
    const s = t.splits['ood-gaussian-x0.5'];
    expect(s.y[0]).toBeCloseTo((s.x[0] + s.x[1]) / Math.SQRT2, 5);
    expect(cltOptions.safeParse({ oodScales: [2, 2] }).error?.issues[0].path).toEqual(['oodScales', 1]);
    expect(cltOptions.safeParse({ oodScales: [0] }).error?.issues[0].path).toEqual(['oodScales', 0]);
    expect(cltOptions.safeParse({ studentNu: 4 }).error?.issues[0].path).toEqual(['studentNu']);
  });

  it('records every split\'s own k-statistics of inputs and targets, equal to a direct computation', async () => {
    const t = await make({ oodScales: [2], trainSize: 512, testSize: 256, oodSize: 300, noise: 0.1 });
    const info = t.info?.splits as Record<string, { n: number; scale: number; exact: { target: number[] }; kStatistics: { input: number[]; target: number[] } }>;
    expect(Object.keys(info).sort()).toEqual(Object.keys(t.splits).sort());
    for (const [name, s] of Object.entries(t.splits)) {
      expect(info[name].n, name).toBe(s.n);
      // a direct float64 computation of k₁…k₄ from the split's values (formulas written out again here)
      for (const [part, values] of [['input', s.x], ['target', s.y]] as const) {
        const v = Array.from(values);
        const n = v.length;
        const mean = v.reduce((a, b) => a + b, 0) / n;
        const m = [2, 3, 4].map((p) => v.reduce((a, b) => a + (b - mean) ** p, 0) / n);
        const direct = [
          mean,
          (n / (n - 1)) * m[0],
          (n * n * m[1]) / ((n - 1) * (n - 2)),
          (n * n * ((n + 1) * m[2] - 3 * (n - 1) * m[0] * m[0])) / ((n - 1) * (n - 2) * (n - 3)),
        ];
        info[name].kStatistics[part].forEach((k, i) => expect(k, `${name} ${part} k${i + 1}`).toBeCloseTo(direct[i], 9));
      }
    }
    // the training split's exact target variance includes the label noise
    expect(info.train.exact.target[1]).toBeCloseTo(1 + 0.01, 12);
    expect(info.test.exact.target[1]).toBe(1);
    // input κₙ·2ⁿ = [0, 4, 16, 96], then κₙ′ = 2^(1−n/2)κₙ
    expect(info['ood-exponential-x2'].exact.target).toEqual([0, 4, 16 / Math.SQRT2, 96 / 2]);
    // a split too small for k-statistics (fewer than 4 values) records null rather than failing
    const tiny = await make({ sites: 2, block: 2, trainSize: 3, testSize: 8, ood: [] });
    expect((tiny.info?.splits as Record<string, { kStatistics: unknown }>).train.kStatistics).toEqual({ input: sampleCumulants(tiny.splits.train.x), target: null });
  });

  it('adds noise of the requested size to the training targets only', async () => {
    const clean = await make({ trainSize: 4096, testSize: 64 }, 9);
    const noisy = await make({ trainSize: 4096, testSize: 64, noise: 0.5 }, 9);
    expect(bytes(noisy.splits.test).equals(bytes(clean.splits.test))).toBe(true);
    expect(Buffer.from(noisy.splits.train.x.buffer).equals(Buffer.from(clean.splits.train.x.buffer))).toBe(true);
    const diff = noisy.splits.train.y.map((v, i) => v - clean.splits.train.y[i]);
    const [m, v] = sampleCumulants(diff);
    expect(Math.abs(m)).toBeLessThan(0.02);
    expect(Math.sqrt(v)).toBeCloseTo(0.5, 1);
  });

  it('rejects a block that does not divide the sites, naming the field', () => {
    const r = cltOptions.safeParse({ sites: 10, block: 4 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].path).toEqual(['block']);
    expect(r.error?.issues[0].message).toMatch(/block \(4\) must divide sites \(10\).*1, 2, 5, 10/);
    expect(() => cltOptions.parse({ block: 3 })).toThrow(/block \(3\) must divide sites \(16\)/);
  });

  it('rejects unknown distributions, bad sizes and misspelt options', () => {
    expect(cltOptions.safeParse({ distribution: 'cauchy' }).error?.issues[0].path).toEqual(['distribution']);
    expect(cltOptions.safeParse({ ood: ['gaussian', 'cauchy'] }).error?.issues[0].path).toEqual(['ood', 1]);
    expect(cltOptions.safeParse({ trainSize: 0 }).error?.issues[0].path).toEqual(['trainSize']);
    expect(cltOptions.safeParse({ noise: -1 }).error?.issues[0].path).toEqual(['noise']);
    expect(cltOptions.safeParse({ site: 8 }).success).toBe(false);
  });

  describe('symmetries', () => {
    it('permuting sites within blocks leaves the exact targets unchanged and really permutes', async () => {
      const t = await make({ sites: 12, block: 3, trainSize: 32, testSize: 8 });
      const [sym] = t.symmetries ?? [];
      expect(sym.name).toBe('permute-within-blocks');
      const [x, y] = tensors(t.splits.train);
      const w = exactWeights(12, 3);
      const gx = sym.sample(x, new Rng(5));
      expect(gx.shape).toEqual(x.shape);
      const predG = tf.matMul(gx, w);
      expect(tf.max(tf.abs(tf.sub(predG, y))).dataSync()[0]).toBeLessThan(1e-5);
      // a real permutation: changed values, same multiset in every block
      expect(tf.max(tf.abs(tf.sub(gx, x))).dataSync()[0]).toBeGreaterThan(0.1);
      const xs = x.arraySync();
      const gs = gx.arraySync() as number[][];
      for (let r = 0; r < 32; r++)
        for (let j = 0; j < 12; j += 3) {
          const a = xs[r].slice(j, j + 3).sort();
          const b = gs[r].slice(j, j + 3).sort();
          expect(b).toEqual(a);
        }
      tf.dispose([x, y, w, gx, predG]);
    });

    it('translation by whole blocks and the sign flip are equivariances of the exact map', async () => {
      const t = await make({ sites: 12, block: 3, distribution: 'laplace', trainSize: 32, testSize: 8 });
      expect(t.equivariances.map((e) => e.name)).toEqual(['translate-by-blocks', 'sign-flip']);
      const [x, y] = tensors(t.splits.train);
      const w = exactWeights(12, 3);
      for (const e of t.equivariances) {
        const g = e.sample(x, y, new Rng(8));
        expect(g.x.shape).toEqual(x.shape);
        expect(g.y.shape).toEqual(y.shape);
        const pred = tf.matMul(g.x, w);
        expect(tf.max(tf.abs(tf.sub(pred, g.y))).dataSync()[0], e.name).toBeLessThan(1e-5);
        // the element is not the identity on every example, and the target really moves
        expect(tf.max(tf.abs(tf.sub(g.y, y))).dataSync()[0], e.name).toBeGreaterThan(0.1);
        tf.dispose([g.x, g.y, pred]);
      }
      tf.dispose([x, y, w]);
    });

    it('offers the sign flip only for symmetric distributions', async () => {
      for (const d of DISTRIBUTIONS) {
        const t = await make({ distribution: d, trainSize: 4, testSize: 4, ood: [] });
        const names = t.equivariances.map((e) => e.name);
        expect(names.includes('sign-flip'), d).toBe(exactCumulants(d)[2] === 0);
      }
    });

    it('leak no tensors and are deterministic per rng', async () => {
      const t = await make({ trainSize: 16, testSize: 4 });
      const [x, y] = tensors(t.splits.train);
      const a = t.symmetries![0].sample(x, new Rng(1));
      const b = t.symmetries![0].sample(x, new Rng(1));
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      tf.dispose([a, b]);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 4; i++) {
        t.symmetries![0].sample(x, new Rng(i)).dispose();
        for (const e of t.equivariances) {
          const g = e.sample(x, y, new Rng(i));
          tf.dispose([g.x, g.y]);
        }
        t.metrics(x, x);
      }
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y]);
    });
  });
});
