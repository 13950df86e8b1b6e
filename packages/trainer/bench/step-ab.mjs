// A/B of the training-step changes in one process on wasm: median ms per step of each variant,
// timed in interleaved blocks. The variants add one change at a time:
//   baseline    per-tensor optimiser, stock wasm Identity and Sum, model.apply
//   +optimiser  the fused optimiser update
//   +kernels    wasm Identity sharing its buffer, Sum over the batch without transpose
//   +fast path  the MLP's applyFirstOrder (fused matMul + bias + relu per layer)
// Each variant gets the median wall time per step and the median CPU time per step of its blocks
// (process.cpuUsage: less sensitive to other processes on a shared machine).
// node bench/step-ab.mjs [steps]   (after `pnpm build` of core, models and trainer)
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng, disposeParams } from '@goldstone/core';
import { mlp } from '@goldstone/models';
import { createOptimizer, createTrainStep } from '@goldstone/trainer';

export const CASES = [
  { name: 'MLP 64-256-256-2, batch 256, adam, CE', sizes: [64, 256, 256, 2], batch: 256, opt: 'adam', loss: 'softmax-cross-entropy' },
  { name: 'MLP 784-512-512-10, batch 128, adam, CE', sizes: [784, 512, 512, 10], batch: 128, opt: 'adam', loss: 'softmax-cross-entropy' },
  { name: 'MLP 16-32-8, batch 64, adam, MSE', sizes: [16, 32, 8], batch: 64, opt: 'adam', loss: 'mse' },
  { name: 'MLP 784-50-50-10, batch 50, sgd, CE', sizes: [784, 50, 50, 10], batch: 50, opt: 'sgd', loss: 'softmax-cross-entropy' },
];

export function build(c, rng, modelOptions = {}) {
  const [inputSize, ...rest] = c.sizes;
  const outputSize = rest[rest.length - 1];
  const model = mlp.create(mlp.options.parse({ hidden: rest.slice(0, -1), activation: 'relu', ...modelOptions }), { inputShape: [inputSize], outputSize, outputKind: 'classification' });
  const params = model.init(rng.split('init'));
  const x = tf.tensor2d(rng.normalArray(c.batch * inputSize), [c.batch, inputSize]);
  const labels = new Float32Array(c.batch * outputSize);
  for (let i = 0; i < c.batch; i++) labels[i * outputSize + rng.int(outputSize)] = 1;
  const y = tf.tensor2d(labels, [c.batch, outputSize]);
  return { model, params, x, y };
}

/**
 * Variants: name → { make(case) → { step(): number, dispose() }, use?() run before each of its
 * blocks }. Timed in interleaved blocks.
 */
export async function ab(variants, { steps = 60, warmup = 10, block = 10 } = {}) {
  const median = (a) => { const s = [...a].sort((p, q) => p - q); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  const rows = [];
  for (const c of CASES) {
    const runs = Object.entries(variants).map(([name, v]) => ({ name, use: v.use ?? (() => {}), ...v.make(c), times: [], cpu: [] }));
    for (const r of runs) { r.use(); for (let i = 0; i < warmup; i++) r.step(); }
    for (let done = 0; done < steps; done += block) {
      for (const r of runs) {
        r.use();
        const c0 = process.cpuUsage();
        for (let i = 0; i < block; i++) { const t0 = performance.now(); r.step(); r.times.push(performance.now() - t0); }
        const dc = process.cpuUsage(c0);
        r.cpu.push((dc.user + dc.system) / 1000 / block);
      }
    }
    const row = { case: c.name };
    for (const r of runs) {
      row[r.name] = Number(median(r.times).toFixed(3));
      row[`${r.name} (cpu)`] = Number(median(r.cpu).toFixed(3));
      r.dispose();
    }
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  return rows;
}

/** A variant training with `createTrainStep` and `createOptimizer(…, implOptions)`. */
export function trainerVariant(implOptions = {}, { fastPath = true } = {}) {
  return (c) => {
    const { model: m, params: p0, x, y } = build(c, new Rng(1));
    const model = fastPath ? m : { ...m, applyFirstOrder: undefined };
    const opt = createOptimizer({ name: c.opt, lr: c.opt === 'sgd' ? 0.1 : 1e-3 }, model.specs, [], undefined, implOptions);
    const stepFn = createTrainStep(model, c.loss, opt);
    let params = p0;
    return {
      step() { const r = stepFn(params, x, y); params = r.params; return r.loss; },
      dispose() { disposeParams(params); opt.dispose(); tf.dispose([x, y]); },
    };
  };
}

/** Switch core's new wasm fixes (Identity, Sum) between ours and the stock kernels. */
function kernelSwitch() {
  const NEW = ['Identity', 'Sum'];
  const fixed = Object.fromEntries(NEW.map((k) => [k, tf.getKernel(k, 'wasm')]));
  const stock = globalThis[Symbol.for('goldstone.wasmKernelOriginals')];
  return (which) => () => {
    for (const k of NEW) {
      tf.unregisterKernel(k, 'wasm');
      tf.registerKernel(which === 'fixed' ? fixed[k] : stock.get(k));
    }
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await initBackend('wasm');
  const steps = Number(process.argv[2] ?? 100);
  const before = tf.memory().numTensors;
  const use = kernelSwitch();
  await ab({
    baseline: { make: trainerVariant({ fused: false }, { fastPath: false }), use: use('stock') },
    '+optimiser': { make: trainerVariant({ fused: true }, { fastPath: false }), use: use('stock') },
    '+kernels': { make: trainerVariant({ fused: true }, { fastPath: false }), use: use('fixed') },
    '+fast path': { make: trainerVariant({ fused: true }, { fastPath: true }), use: use('fixed') },
  }, { steps, block: 20 });
  use('fixed')();
  console.log('leaked tensors:', tf.memory().numTensors - before);
}
