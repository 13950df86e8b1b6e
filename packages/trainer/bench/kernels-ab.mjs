// A/B of the wasm kernel fixes of @goldstone/core in one process: each case is timed with the
// fixes of `installWasmKernels` (all) and with the new ones (Identity, Sum) switched back to stock.
// node bench/kernels-ab.mjs [steps]
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@goldstone/core';
import { CASES, trainerVariant } from './step-ab.mjs';

await initBackend('wasm');
const median = (a) => { const s = [...a].sort((p, q) => p - q); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const steps = Number(process.argv[2] ?? 60);
const NEW = ['Identity', 'Sum'];
const fixed = Object.fromEntries(NEW.map((k) => [k, tf.getKernel(k, 'wasm')]));
const stockOf = (k) => globalThis[Symbol.for('goldstone.wasmKernelOriginals')].get(k);
function use(which) {
  for (const k of NEW) { tf.unregisterKernel(k, 'wasm'); tf.registerKernel(which === 'fixed' ? fixed[k] : stockOf(k)); }
}
for (const c of CASES) {
  const run = trainerVariant()(c);
  const times = { stock: [], fixed: [] };
  for (let i = 0; i < 10; i++) run.step();
  for (let done = 0; done < steps; done += 10) {
    for (const which of ['stock', 'fixed']) {
      use(which);
      for (let i = 0; i < 10; i++) { const t0 = performance.now(); run.step(); times[which].push(performance.now() - t0); }
    }
  }
  use('fixed');
  run.dispose();
  console.log(JSON.stringify({ case: c.name, stock: Number(median(times.stock).toFixed(3)), fixed: Number(median(times.fixed).toFixed(3)) }));
}
