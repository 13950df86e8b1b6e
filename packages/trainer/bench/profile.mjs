// Per-kernel profile of one training step on wasm: kernel counts and time inside kernels.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng, lossFunction, disposeParams } from '@goldstone/core';
import { mlp } from '@goldstone/models';
import { createOptimizer, createTrainStep } from '@goldstone/trainer';

const CASES = [
  { name: '64-256-256-2 b256 adam ce', sizes: [64, 256, 256, 2], batch: 256, opt: 'adam', loss: 'softmax-cross-entropy' },
  { name: '784-512-512-10 b128 adam ce', sizes: [784, 512, 512, 10], batch: 128, opt: 'adam', loss: 'softmax-cross-entropy' },
  { name: '16-32-8 b64 adam mse', sizes: [16, 32, 8], batch: 64, opt: 'adam', loss: 'mse' },
  { name: '784-50-50-10 b50 sgd ce', sizes: [784, 50, 50, 10], batch: 50, opt: 'sgd', loss: 'softmax-cross-entropy' },
];

await initBackend(process.argv[2] ?? 'wasm');
const fastPath = process.argv[3] !== 'apply';
createOptimizer({ name: 'adam', lr: 1 }, [{ name: 'w', shape: [1] }]).step({ w: tf.zeros([1]) }, { w: tf.zeros([1]) }).w.dispose(); // registers the fused kernel
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

function build(c, rng) {
  const [inputSize, ...rest] = c.sizes;
  const outputSize = rest[rest.length - 1];
  const model = mlp.create(mlp.options.parse({ hidden: rest.slice(0, -1), activation: 'relu' }), { inputShape: [inputSize], outputSize, outputKind: 'classification' });
  const params = model.init(rng.split('init'));
  const x = tf.tensor2d(rng.normalArray(c.batch * inputSize), [c.batch, inputSize]);
  const labels = new Float32Array(c.batch * outputSize);
  for (let i = 0; i < c.batch; i++) labels[i * outputSize + rng.int(outputSize)] = 1;
  const y = tf.tensor2d(labels, [c.batch, outputSize]);
  return { model, params, x, y };
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
