import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { flatLoss, gradientOf, hvp, initBackend } from '@goldstone/core';
import type { LossName, ModelPlugin } from '@goldstone/plugin-api';
import { plugins } from './index';
import { relErr } from './test-support';

interface Case {
  name: string;
  model: string;
  options: Record<string, unknown>;
  inputShape: number[];
  outputSize: number;
  loss: LossName;
  specs: { name: string; shape: number[] }[];
  xShape: number[];
  x: number[];
  y: number[];
  params: number[];
  v: number[];
  lossValue: number;
  grad: number[];
  hv: number[];
}

// Float64 PyTorch references, written by scripts/make-fixtures.py (see there for the conventions).
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../test/fixtures/layers-hvp.json', import.meta.url)), 'utf8')) as { cases: Case[] };

afterAll(async () => {
  await initBackend('cpu');
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`float64 PyTorch fixtures of every model family (${backend})`, () => {
    it('has cases for every model family', () => {
      expect(new Set(fixture.cases.map((c) => c.model))).toEqual(new Set(['gnn', 'deep-sets', 'block-mlp', 'embedding-decoder']));
    });
    for (const c of fixture.cases) {
      it(`${c.name}: loss, gradient and H·v match float64 PyTorch`, async () => {
        await initBackend(backend);
        const plugin = plugins.find((p) => p.name === c.model) as ModelPlugin;
        const model = plugin.create(plugin.options.parse(c.options), { inputShape: c.inputShape, outputSize: c.outputSize, outputKind: 'regression' });
        expect(model.specs).toEqual(c.specs);
        const x = tf.tensor(c.x, c.xShape, 'float32');
        const y = tf.tensor2d(c.y, [c.xShape[0], c.outputSize], 'float32');
        const w = tf.tensor1d(c.params, 'float32');
        const v = tf.tensor1d(c.v, 'float32');
        const f = flatLoss(model, c.loss, x, y);
        const L = f(w);
        const g = gradientOf(f, w);
        const hv = hvp(f, w, v);
        try {
          expect(Math.abs(L.dataSync()[0] - c.lossValue) / Math.abs(c.lossValue)).toBeLessThan(1e-5);
          expect(relErr(g.dataSync(), c.grad)).toBeLessThan(5e-5);
          expect(relErr(hv.dataSync(), c.hv)).toBeLessThan(5e-5);
        } finally {
          tf.dispose([x, y, w, v, L, g, hv]);
        }
      });
    }
  });
}
