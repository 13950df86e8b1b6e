import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, disposeParams, initBackend, paramsFromArray, paramsToArray } from '@goldstone/core';
import { train } from '@goldstone/trainer';
import type { ModelInstance, TaskInstance } from '@goldstone/plugin-api';
import { createEmbeddingDecoder, embeddingDecoder, embeddingDecoderOptions, embeddingDecoderParamCount } from './embedding-decoder';
import { lossGradHvp, maxAbsDiff, outputs, relErr, zeroModeReport } from './test-support';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function make(options: Record<string, unknown>, inputShape: number[], outputSize: number): ModelInstance {
  return createEmbeddingDecoder(embeddingDecoderOptions.parse(options), { inputShape, outputSize });
}

/** All ordered pairs (i, j), i ≠ j, of n nodes with the total-order relation i < j. */
function orderPairs(n: number): { x: Float32Array; y: Float32Array; count: number } {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      x.push(i, j);
      y.push(i < j ? 1 : 0);
    }
  }
  return { x: Float32Array.from(x), y: Float32Array.from(y), count: y.length };
}

function oneHotPairs(x: Float32Array, n: number): tf.Tensor {
  const v = new Float32Array((x.length / 2) * 2 * n);
  for (let k = 0; k < x.length; k++) v[k * n + x[k]] = 1;
  return tf.tensor3d(v, [x.length / 2, 2, n]);
}

describe('embedding-decoder plugin', () => {
  it('has the documented layout, groups and count; index and one-hot inputs agree', () => {
    const o = embeddingDecoderOptions.parse({ nodes: 5, dim: 3, hidden: [4] });
    const m = createEmbeddingDecoder(o, { inputShape: [2], outputSize: 1 });
    expect(m.specs).toEqual([
      { name: 'embedding', shape: [5, 3] },
      { name: 'decoder.dense0.weight', shape: [6, 4] },
      { name: 'decoder.dense0.bias', shape: [4] },
      { name: 'decoder.dense1.weight', shape: [4, 1] },
      { name: 'decoder.dense1.bias', shape: [1] },
    ]);
    expect(m.paramCount).toBe(embeddingDecoderParamCount(o, 5, 1));
    expect(m.groups).toEqual({ encoder: ['embedding'], decoder: ['decoder.dense0.weight', 'decoder.dense0.bias', 'decoder.dense1.weight', 'decoder.dense1.bias'] });
    const h = make({ dim: 3, hidden: [4] }, [2, 5], 1);
    const p = m.init(new Rng(1));
    const pairs = orderPairs(5);
    const xi = tf.tensor2d(pairs.x, [pairs.count, 2]);
    const xh = oneHotPairs(pairs.x, 5);
    expect(maxAbsDiff(outputs(m, p, xi), outputs(h, p, xh))).toBeLessThan(1e-6);
    expect(() => make({ dim: 3 }, [2], 1)).toThrow(/nodes/);
    expect(() => make({ nodes: 4 }, [3], 1)).toThrow(/inputs of shape \[2\]/);
    expect(() => embeddingDecoder.options.parse({ combine: 'difference' })).toThrow();
    expect(() => embeddingDecoder.options.parse({ embeddingInit: 'zeros' })).toThrow();
    tf.dispose([xi, xh]);
    disposeParams(p);
  });

  it('HVPs match central finite differences (tanh; concat, product and sum) and agree between cpu and wasm', async () => {
    const rng = new Rng(31);
    const pairs = orderPairs(5);
    for (const combine of ['concat', 'product', 'sum']) {
      const m = make({ nodes: 5, dim: 3, hidden: [4], activation: 'tanh', combine }, [2], 1);
      const p0 = m.init(rng.split(combine));
      const host = paramsToArray(p0, m.specs);
      disposeParams(p0);
      const v = rng.normalArray(m.paramCount);
      const run = () => {
        const p = paramsFromArray(host, m.specs);
        const x = tf.tensor2d(pairs.x, [pairs.count, 2]);
        const y = tf.tensor2d(pairs.y, [pairs.count, 1]);
        const r = lossGradHvp(m, p, x, y, 'binary-cross-entropy', v);
        tf.dispose([x, y]);
        disposeParams(p);
        return r;
      };
      const cpu = run();
      expect(relErr(cpu.hv, cpu.fd)).toBeLessThan(1e-2);
      await initBackend('wasm');
      try {
        const wasm = run();
        expect(relErr(wasm.grad, cpu.grad)).toBeLessThan(1e-4);
        expect(relErr(wasm.hv, cpu.hv)).toBeLessThan(1e-4);
      } finally {
        await initBackend('cpu');
      }
    }
  });

  it('declares embedding-space symmetries (GL(d) and translations for concat and sum, scalings for product) and decoder rescalings that are zero modes', () => {
    const rng = new Rng(32);
    const pairs = orderPairs(6);
    for (const [combine, names, count] of [
      ['concat', ['embedding-rotation', 'embedding-scaling-shear', 'embedding-translation', 'relu-rescaling'], 3 + 6 + 3 + 4],
      ['sum', ['embedding-rotation', 'embedding-scaling-shear', 'embedding-translation', 'relu-rescaling'], 3 + 6 + 3 + 4],
      ['product', ['embedding-scaling', 'relu-rescaling'], 3 + 4],
    ] as const) {
      const m = make({ nodes: 6, dim: 3, hidden: [4], combine }, [2], 1);
      const p = m.init(rng.split(combine));
      const x = tf.tensor2d(pairs.x, [pairs.count, 2]);
      const teacher = m.apply(p, x);
      const rep = zeroModeReport(m, p, x, teacher, 'mse', rng.split('pi'));
      expect(rep.names).toEqual(names);
      expect(rep.count).toBe(count);
      for (const row of rep.rows) expect(row.curvature).toBeLessThan(1e-4);
      const y = tf.tensor2d(pairs.y, [pairs.count, 1]);
      for (const row of zeroModeReport(m, p, x, y, 'binary-cross-entropy', rng.split('pi2')).rows) expect(row.grad).toBeLessThan(1e-4);
      tf.dispose([x, teacher, y]);
      disposeParams(p);
    }
  });

  it('sum feeds Eᵢ + Eⱼ (width d) to the decoder: outputs match a hand computation', () => {
    const m = make({ nodes: 3, dim: 2, hidden: [2], activation: 'tanh', combine: 'sum' }, [2], 1);
    expect(m.specs.find((s) => s.name === 'decoder.dense0.weight')?.shape).toEqual([2, 2]);
    expect(m.paramCount).toBe(embeddingDecoderParamCount(embeddingDecoderOptions.parse({ dim: 2, hidden: [2], combine: 'sum' }), 3, 1));
    const E = [
      [0.5, -1],
      [2, 0.25],
      [-0.75, 1.5],
    ];
    const W0 = [
      [0.3, -0.2],
      [0.1, 0.4],
    ];
    const b0 = [0.05, -0.1];
    const W1 = [0.7, -1.2];
    const b1 = 0.2;
    const p = {
      embedding: tf.tensor2d(E),
      'decoder.dense0.weight': tf.tensor2d(W0),
      'decoder.dense0.bias': tf.tensor1d(b0),
      'decoder.dense1.weight': tf.tensor2d(W1, [2, 1]),
      'decoder.dense1.bias': tf.tensor1d([b1]),
    };
    const pairs: [number, number][] = [
      [0, 1],
      [1, 0],
      [2, 2],
      [0, 2],
    ];
    const x = tf.tensor2d(pairs.flat(), [pairs.length, 2]);
    const got = outputs(m, p, x);
    const want = pairs.map(([i, j]) => {
      const s = [E[i][0] + E[j][0], E[i][1] + E[j][1]];
      const h = [0, 1].map((c) => Math.tanh(s[0] * W0[0][c] + s[1] * W0[1][c] + b0[c]));
      return h[0] * W1[0] + h[1] * W1[1] + b1;
    });
    expect(maxAbsDiff(got, Float32Array.from(want))).toBeLessThan(1e-6);
    x.dispose();
    disposeParams(p);
  });

  it('embeddingInit uniform draws U(−½, ½)·embeddingScale (default scale 1, the toy) and normal keeps N(0, 1/d)', () => {
    const [n, d] = [400, 10];
    const N = n * d;
    for (const [options, lo, hi, variance, fourth] of [
      [{ embeddingInit: 'uniform' }, -0.5, 0.5, 1 / 12, 1 / 80],
      [{ embeddingInit: 'uniform', embeddingScale: 3 }, -1.5, 1.5, 9 / 12, 81 / 80],
      [{}, -Infinity, Infinity, 1 / d, 3 / d ** 2],
    ] as const) {
      const m = make({ nodes: n, dim: d, hidden: [4], ...options }, [2], 1);
      const p = m.init(new Rng(8));
      const e = Float32Array.from(p.embedding.dataSync());
      const mean = e.reduce((s, v) => s + v, 0) / N;
      const v2 = e.reduce((s, v) => s + v * v, 0) / N;
      expect(Math.min(...e)).toBeGreaterThanOrEqual(lo);
      expect(Math.max(...e)).toBeLessThanOrEqual(hi);
      // 5σ: the mean has variance σ²/N, the second moment (μ₄ − σ⁴)/N.
      expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(variance / N));
      expect(Math.abs(v2 - variance)).toBeLessThan(5 * Math.sqrt((fourth - variance ** 2) / N));
      disposeParams(p);
    }
  });

  it("init torch draws the decoder's weights and biases U(−1/√fan_in, 1/√fan_in), as nn.Linear", () => {
    const m = make({ nodes: 10, dim: 2, hidden: [200, 200], activation: 'tanh', combine: 'sum', init: 'torch' }, [2], 30);
    const p = m.init(new Rng(9));
    for (const [i, fanIn] of [[0, 2], [1, 200], [2, 200]] as const) {
      const bound = 1 / Math.sqrt(fanIn);
      for (const name of [`decoder.dense${i}.weight`, `decoder.dense${i}.bias`]) {
        const w = Float32Array.from(p[name].dataSync());
        const N = w.length;
        const mean = w.reduce((s, v) => s + v, 0) / N;
        const v2 = w.reduce((s, v) => s + v * v, 0) / N;
        expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
        const variance = bound ** 2 / 3;
        expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(variance / N));
        expect(Math.abs(v2 - variance)).toBeLessThan(5 * Math.sqrt((bound ** 4 / 5 - variance ** 2) / N));
      }
    }
    disposeParams(p);
  });

  it('trains with separate learning rates for the encoder and decoder groups', async () => {
    const pairs = orderPairs(6);
    const split = { n: pairs.count, x: pairs.x, y: pairs.y, xShape: [2], yShape: [1] };
    const task: TaskInstance = {
      inputShape: [2],
      outputSize: 1,
      outputKind: 'binary',
      loss: 'binary-cross-entropy',
      splits: { train: split, test: split },
      metrics: () => ({}),
    };
    const m = make({ nodes: 6, dim: 3, hidden: [8], activation: 'tanh' }, [2], 1);
    const change = async (groups: Record<string, { lr: number }>) => {
      const p0 = m.init(new Rng(5));
      const before = paramsToArray(p0, m.specs);
      const r = await train({ model: m, task, params: p0, rng: new Rng(6), config: { optimizer: { name: 'sgd', lr: 0.1 }, epochs: 2, batchSize: 10, groups } });
      const after = paramsToArray(r.params, m.specs);
      disposeParams(r.params);
      const rel = (a: number, b: number) => {
        let num = 0;
        let den = 0;
        for (let i = a; i < b; i++) {
          num += (after[i] - before[i]) ** 2;
          den += before[i] ** 2;
        }
        return Math.sqrt(num / den);
      };
      return { encoder: rel(0, 18), decoder: rel(18, m.paramCount) };
    };
    const frozenEncoder = await change({ encoder: { lr: 1e-7 }, decoder: { lr: 0.5 } });
    expect(frozenEncoder.encoder).toBeLessThan(1e-5);
    expect(frozenEncoder.decoder).toBeGreaterThan(1e-2);
    const frozenDecoder = await change({ encoder: { lr: 0.5 }, decoder: { lr: 1e-7 } });
    expect(frozenDecoder.decoder).toBeLessThan(1e-5);
    expect(frozenDecoder.encoder).toBeGreaterThan(1e-2);
  });
});
