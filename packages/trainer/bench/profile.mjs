// Per-kernel profile of one training step: kernel counts and time inside kernels (nested kernels,
// such as the transposes inside a flagged matMul, are counted in both).
// node bench/profile.mjs [wasm|cpu] [apply]   (apply: without the MLP's applyFirstOrder)
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng, disposeParams } from '@goldstone/core';
import { createOptimizer, createTrainStep } from '@goldstone/trainer';
import { CASES, build } from './step-ab.mjs';

await initBackend(process.argv[2] ?? 'wasm');
const fastPath = process.argv[3] !== 'apply';
{
  // one update registers the fused optimiser kernel, so that it is wrapped below too
  const opt = createOptimizer({ name: 'adam', lr: 1 }, [{ name: 'w', shape: [1] }]);
  const g = tf.zeros([1]);
  opt.step({ w: tf.zeros([1]) }, { w: g }).w.dispose();
  g.dispose();
  opt.dispose();
}
const stats = new Map();
let on = false;
for (const k of tf.getKernelsForBackend(tf.getBackend())) {
  const f = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, k.backendName);
  tf.registerKernel({ ...k, kernelFunc: (args) => {
    if (!on) return f(args);
    const t0 = performance.now();
    const r = f(args);
    const dt = performance.now() - t0;
    let key = k.kernelName;
    if (k.kernelName === 'BatchMatMul' || k.kernelName === '_FusedMatMul') {
      const a = args.attrs; key += `${a.transposeA ? 'T' : ''}${a.transposeB ? 't' : ''}`;
    }
    const s = stats.get(key) ?? { n: 0, ms: 0 };
    s.n++; s.ms += dt; stats.set(key, s);
    return r;
  } });
}


const median = (a) => { const s = [...a].sort((p, q) => p - q); return s[s.length >> 1]; };
for (const c of CASES) {
  const { model: m, params: p0, x, y } = build(c, new Rng(1));
  const model = fastPath ? m : { ...m, applyFirstOrder: undefined };
  const opt = createOptimizer({ name: c.opt, lr: c.opt === 'sgd' ? 0.1 : 1e-3 }, model.specs);
  const stepFn = createTrainStep(model, c.loss, opt);
  let params = p0;
  for (let i = 0; i < 10; i++) params = stepFn(params, x, y).params;
  const times = [];
  for (let i = 0; i < 60; i++) { const t0 = performance.now(); params = stepFn(params, x, y).params; times.push(performance.now() - t0); }
  const steps = 30;
  stats.clear(); on = true;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) params = stepFn(params, x, y).params;
  const total = (performance.now() - t0) / steps;
  on = false;
  let kn = 0, kms = 0;
  const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
  for (const [, s] of rows) { kn += s.n; kms += s.ms; }
  console.log(`\n== ${c.name}: median step ${median(times).toFixed(3)} ms (profiled ${total.toFixed(3)} ms), ${(kn / steps).toFixed(0)} kernels/step, ${(kms / steps).toFixed(3)} ms in kernels`);
  for (const [k, s] of rows) console.log(`  ${k.padEnd(22)} ${(s.n / steps).toFixed(1).padStart(6)}/step ${(s.ms / steps).toFixed(3).padStart(8)} ms`);
  disposeParams(params); opt.dispose(); tf.dispose([x, y]);
}
console.log('tensors left', tf.memory().numTensors);
