import * as tf from '@tensorflow/tfjs-core';
import { LOSSES, Rng, sizeOf } from '@goldstone/core';
import type { Split, TaskInstance, TaskPlugin } from '@goldstone/plugin-api';
import type { Check, TestPluginOptions } from './check';
import { checkEstimateShape, fail, parsedOptions } from './check-common';
import { assertJson } from './json';
import { expectNoLeaks } from './leaks';

const KINDS = ['classification', 'binary', 'regression'];

function splitBytes(s: Split): Buffer {
  return Buffer.concat([
    Buffer.from(JSON.stringify([s.n, s.xShape, s.yShape])),
    Buffer.from(s.x.buffer, s.x.byteOffset, s.x.byteLength),
    Buffer.from(s.y.buffer, s.y.byteOffset, s.y.byteLength),
  ]);
}

/** A small batch of a split as tensors (at most `max` examples). */
function batchOf(s: Split, max: number): { x: tf.Tensor; y: tf.Tensor } {
  const n = Math.min(s.n, max);
  const xs = sizeOf(s.xShape);
  const ys = sizeOf(s.yShape);
  return {
    x: tf.tensor(s.x.slice(0, n * xs), [n, ...s.xShape], 'float32'),
    y: tf.tensor(s.y.slice(0, n * ys), [n, ...s.yShape], 'float32'),
  };
}

export function taskChecks(plugin: TaskPlugin, opts: TestPluginOptions): Check[] {
  const seed = opts.seed ?? 1;
  const repeats = opts.repeats ?? 3;
  const create = async (s: number): Promise<TaskInstance> =>
    plugin.create(parsedOptions(plugin, opts) as never, { rng: new Rng(s) });
  let cached: Promise<TaskInstance> | undefined;
  const instance = (): Promise<TaskInstance> => (cached ??= create(seed));

  return [
    {
      name: 'create with the same seed gives byte-identical splits; another seed gives other data',
      async run() {
        const a = await instance();
        const b = await create(seed);
        const c = await create(seed + 1);
        const names = Object.keys(a.splits).sort();
        if (JSON.stringify(names) !== JSON.stringify(Object.keys(b.splits).sort())) fail('split names differ between two creates');
        for (const name of names) {
          if (!splitBytes(a.splits[name]).equals(splitBytes(b.splits[name]))) fail(`split "${name}" differs between two creates with seed ${seed}`);
        }
        if (splitBytes(a.splits.train).equals(splitBytes(c.splits.train))) fail(`seeds ${seed} and ${seed + 1} gave the same training data`);
      },
    },
    {
      name: 'has train and test splits whose shapes agree with inputShape and outputSize',
      async run() {
        const t = await instance();
        if (!t.splits.train || !t.splits.test) fail(`splits must include train and test, got ${Object.keys(t.splits).join(', ')}`);
        if (!KINDS.includes(t.outputKind)) fail(`outputKind "${t.outputKind}" is not one of ${KINDS.join(', ')}`);
        if (!LOSSES.includes(t.loss)) fail(`loss "${t.loss}" is not one of ${LOSSES.join(', ')}`);
        if (!Number.isInteger(t.outputSize) || t.outputSize < 1) fail(`outputSize ${t.outputSize} is not a positive integer`);
        for (const [name, s] of Object.entries(t.splits)) {
          if (!Number.isInteger(s.n) || s.n < 1) fail(`split "${name}": n = ${s.n}`);
          if (!(s.x instanceof Float32Array) || !(s.y instanceof Float32Array)) fail(`split "${name}": x and y must be Float32Arrays`);
          if (JSON.stringify(s.xShape) !== JSON.stringify(t.inputShape)) fail(`split "${name}": xShape [${s.xShape}] ≠ inputShape [${t.inputShape}]`);
          if (s.x.length !== s.n * sizeOf(s.xShape)) fail(`split "${name}": x has ${s.x.length} values, expected n·prod(xShape) = ${s.n * sizeOf(s.xShape)}`);
          if (s.y.length !== s.n * sizeOf(s.yShape)) fail(`split "${name}": y has ${s.y.length} values, expected n·prod(yShape) = ${s.n * sizeOf(s.yShape)}`);
          if (sizeOf(s.yShape) !== t.outputSize) fail(`split "${name}": yShape [${s.yShape}] does not hold outputSize ${t.outputSize} values`);
          if (!s.x.every(Number.isFinite) || !s.y.every(Number.isFinite)) fail(`split "${name}" has non-finite values`);
        }
        if (t.info !== undefined) assertJson(t.info, '$info');
      },
    },
    {
      name: 'metrics return finite numbers and leak no tensors',
      async run() {
        const t = await instance();
        const { x, y } = batchOf(t.splits.test, 64);
        const rng = new Rng(seed).split('testkit:metrics');
        const pred = tf.add(y, tf.tensor(rng.normalArray(y.size, 0.3), y.shape, 'float32'));
        try {
          const m = t.metrics(pred, y);
          if (typeof m !== 'object' || m === null || Object.keys(m).length === 0) fail('metrics returned no values');
          for (const [k, v] of Object.entries(m)) if (typeof v !== 'number' || !Number.isFinite(v)) fail(`metric "${k}" is ${v}`);
          await expectNoLeaks(() => t.metrics(pred, y), repeats);
        } finally {
          tf.dispose([x, y, pred]);
        }
      },
    },
    {
      name: 'estimate (if declared) is well formed and does not underestimate the data create allocates',
      async run() {
        if (!plugin.estimate) return;
        const options = parsedOptions(plugin, opts);
        const est = plugin.estimate(options as never);
        checkEstimateShape(est, options);
        const t = await instance();
        let bytes = 0;
        let largest = 0;
        for (const s of Object.values(t.splits)) {
          bytes += s.x.byteLength + s.y.byteLength;
          largest = Math.max(largest, s.x.length, s.y.length);
        }
        if (est.bytes < bytes / 2) fail(`estimate says ${est.bytes} bytes, but the splits alone take ${bytes}`);
        if (est.largestArray !== undefined && est.largestArray < largest) fail(`estimate says the largest array has ${est.largestArray} values, but a split has ${largest}`);
      },
    },
    {
      name: 'declared input symmetries keep shapes, are deterministic per rng and leak nothing',
      async run() {
        const t = await instance();
        const { x, y } = batchOf(t.splits.train, 16);
        try {
          for (const sym of t.symmetries ?? []) {
            if (typeof sym.name !== 'string' || sym.name === '') fail('a symmetry has no name');
            const a = sym.sample(x, new Rng(seed).split(sym.name));
            const b = sym.sample(x, new Rng(seed).split(sym.name));
            const same = a.shape.join() === x.shape.join() && Array.from(a.dataSync()).every((v, i) => Object.is(v, b.dataSync()[i]));
            const shape = a.shape;
            tf.dispose([a, b]);
            if (shape.join() !== x.shape.join()) fail(`symmetry "${sym.name}": sample gave shape [${shape}] for inputs [${x.shape}]`);
            if (!same) fail(`symmetry "${sym.name}": two samples with equal rngs differ`);
            await expectNoLeaks(() => sym.sample(x, new Rng(seed)), repeats);
            if (sym.generator) {
              const g = sym.generator(x);
              const gs = g.shape;
              g.dispose();
              if (gs.join() !== x.shape.join()) fail(`symmetry "${sym.name}": generator gave shape [${gs}]`);
              await expectNoLeaks(() => sym.generator!(x), repeats);
            }
          }
        } finally {
          tf.dispose([x, y]);
        }
      },
    },
  ];
}
