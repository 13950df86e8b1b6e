// Block curvature products on wasm, in one process: one double-backprop HVP against one R-operator
// block product per direction (k = 1, 8, 32, 128), and the dense Hessian of the quickstart model
// by blocks of columns. Needs `pnpm build` of core, curvature and models first.
//   node scripts/bench-block-products.mjs [products|dense|all]
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng, flatLoss, flattenParams, hvp } from '@goldstone/core';
import { curvatureOperator, denseMatrix } from '@goldstone/curvature';
import { createMlp, mlpOptions } from '../dist/index.js';

const what = process.argv[2] ?? 'all';
await initBackend('wasm');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function setting(name, hidden, activation, inputs, outputs, loss, batch) {
  const model = createMlp(mlpOptions.parse({ hidden, activation }), { inputShape: [inputs], outputSize: outputs });
  const rng = new Rng(1);
  const params = model.init(rng.split('init'));
  const x = tf.tensor2d(rng.split('x').normalArray(batch * inputs), [batch, inputs]);
  let y;
  if (loss === 'mse') y = tf.tensor2d(rng.split('y').normalArray(batch * outputs), [batch, outputs]);
  else {
    const t = new Float32Array(batch * outputs);
    const r = rng.split('y');
    for (let b = 0; b < batch; b++) t[b * outputs + r.int(outputs)] = 1;
    y = tf.tensor2d(t, [batch, outputs]);
  }
  return { name, model, params, x, y, loss };
}

/** ms per direction: median over `reps` calls of `f(k)` / k. */
function perDirection(f, k, reps) {
  f(k); // warm-up (kernel set-up, XNNPACK operator caches)
  const ts = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f(k);
    ts.push((performance.now() - t0) / k);
  }
  return median(ts);
}

if (what === 'products' || what === 'all') {
  const rows = [];
  for (const [name, hidden, act, inp, out, loss] of [
    ['quickstart 16-24-24-8 tanh mse', [24, 24], 'tanh', 16, 8, 'mse'],
    ['64-192-192-10 relu ce', [192, 192], 'relu', 64, 10, 'softmax-cross-entropy'],
  ]) {
    for (const batch of [128, 2048]) {
      const s = setting(name, hidden, act, inp, out, loss, batch);
      const n = s.model.paramCount;
      const w = flattenParams(s.params, s.model.specs);
      const f = flatLoss(s.model, s.loss, s.x, s.y);
      const rng = new Rng(2);
      const v1 = tf.tensor1d(rng.normalArray(n));
      const hvpMs = perDirection(() => { const r = hvp(f, w, v1); r.dataSync(); r.dispose(); }, 1, 9);
      const row = { model: name, batch, params: n, hvp: +hvpMs.toFixed(2) };
      for (const k of [1, 8, 32, 128]) {
        if (k * batch * Math.max(...hidden) > 64e6) { row[`k=${k}`] = 'skip (memory)'; continue; }
        const vectors = tf.tensor2d(rng.normalArray(k * n), [k, n]);
        const ms = perDirection(() => {
          const r = s.model.curvatureProducts({ params: s.params, x: s.x, y: s.y, loss: s.loss, kind: 'hessian', vectors });
          r.dataSync();
          r.dispose();
        }, k, k >= 32 ? 3 : 7);
        row[`k=${k}`] = +ms.toFixed(3);
        vectors.dispose();
      }
      rows.push(row);
      console.log(JSON.stringify(row));
      tf.dispose([w, v1, s.x, s.y]);
    }
  }
}

if (what === 'dense' || what === 'all') {
  const s = setting('quickstart', [24, 24], 'tanh', 16, 8, 'mse', 2048);
  const op = curvatureOperator({ model: s.model, loss: 'mse', params: s.params, data: { x: s.x, y: s.y } });
  const ref = curvatureOperator({ model: { ...s.model, curvatureProducts: undefined }, loss: 'mse', params: s.params, data: { x: s.x, y: s.y } });
  let t0 = performance.now();
  const m = await denseMatrix(op);
  const blockMs = performance.now() - t0;
  console.log(JSON.stringify({ dense: 'quickstart 1,208 params, 2,048 examples', blockSize: op.blockSize, blockMs: Math.round(blockMs), asymmetry: m.asymmetry }));
  // On a shared machine the load drifts: interleave the two methods column block by column block.
  // Block products of 128 unit columns against 8 double-backprop columns each time; the
  // double-backprop dense Hessian is estimated as the median time per column × n.
  {
    const n = op.dim;
    const k = op.blockSize;
    let blockTotal = 0;
    const perHvp = [];
    for (let j0 = 0; j0 < n; j0 += k) {
      const units = Array.from({ length: Math.min(k, n - j0) }, (_, t) => { const e = new Float64Array(n); e[j0 + t] = 1; return e; });
      let t1 = performance.now();
      op.applyBlock(units);
      blockTotal += performance.now() - t1;
      for (let t = 0; t < 8; t++) {
        t1 = performance.now();
        ref.apply(units[t]);
        perHvp.push(performance.now() - t1);
      }
    }
    const hvpMs = median(perHvp);
    console.log(JSON.stringify({ interleaved: true, blockColumnsMs: Math.round(blockTotal), hvpPerColumnMs: +hvpMs.toFixed(2), hvpColumnsMs: Math.round(hvpMs * n), speedup: +((hvpMs * n) / blockTotal).toFixed(1) }));
  }
  if (process.env.DENSE_REF) {
    t0 = performance.now();
    const r = await denseMatrix(ref);
    const refMs = performance.now() - t0;
    let num = 0, den = 0;
    for (let i = 0; i < r.values.length; i++) { num = Math.max(num, Math.abs(r.values[i] - m.values[i])); den = Math.max(den, Math.abs(r.values[i])); }
    console.log(JSON.stringify({ refMs: Math.round(refMs), speedup: +(refMs / blockMs).toFixed(1), maxAbsDiffOverMaxAbs: num / den }));
  }
  op.dispose();
  ref.dispose();
}
