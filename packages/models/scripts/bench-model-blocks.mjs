// Curvature products of every model on wasm, in one process, at the sizes of the shipped
// experiments (experiments/*.yaml; gnn and the quadratic-alpha mlp have none: their defaults and
// the quickstart's widths): time per product of one double-backprop HVP (what `applyBlock`
// falls back to without rules), of the rules with k = 1, and of the rules with a block of k = 32.
// Medians over repetitions, the three interleaved round by round. Needs `pnpm build` first.
//   node scripts/bench-model-blocks.mjs [rounds]
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng, flatLoss, flattenParams, hvp } from '@goldstone/core';
import { blockMlp, deepSets, embeddingDecoder, gnn, mlp } from '../dist/index.js';

const rounds = Number(process.argv[2] ?? 7);
await initBackend('wasm');

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function targets(loss, rng, batch, out) {
  if (loss === 'mse') return tf.tensor2d(rng.normalArray(batch * out), [batch, out]);
  if (loss === 'binary-cross-entropy') return tf.tensor2d(Array.from({ length: batch * out }, () => (rng.uniform() < 0.5 ? 0 : 1)), [batch, out]);
  const t = new Float32Array(batch * out);
  for (let b = 0; b < batch; b++) t[b * out + rng.int(out)] = 1;
  return tf.tensor2d(t, [batch, out]);
}

const normal = (rng, batch, shape) => tf.tensor(rng.normalArray(batch * shape.reduce((a, b) => a * b, 1)), [batch, ...shape]);
/** Jets-like padded sets: a random number of constituents, positive weights in channel 0. */
function jets(rng, batch, [N, F]) {
  const v = rng.normalArray(batch * N * F);
  for (let b = 0; b < batch; b++) {
    const count = 4 + rng.int(N - 4);
    for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) {
      const i = (b * N + n) * F + f;
      v[i] = n < count ? (f === 0 ? Math.abs(v[i]) : v[i]) : 0;
    }
  }
  return tf.tensor3d(v, [batch, N, F]);
}
const pairs = (nodes) => (rng, batch) => tf.tensor2d(Array.from({ length: 2 * batch }, () => rng.int(nodes)), [batch, 2]);

const CASES = [
  ['deep-sets (glowacki-jets)', deepSets, { phi: [16, 16], rho: [16], activation: 'tanh', weightChannel: 0 }, [32, 4], 1, 'binary-cross-entropy', 128, jets],
  ['deep-sets (jets-tagger)', deepSets, { phi: [64, 64, 64], rho: [64, 64], activation: 'relu', weightChannel: 0 }, [32, 4], 1, 'binary-cross-entropy', 128, jets],
  ['embedding-decoder (geneft-graphs)', embeddingDecoder, { nodes: 30, dim: 8, combine: 'concat', hidden: [64], activation: 'relu' }, [2], 1, 'binary-cross-entropy', 130, pairs(30)],
  ['embedding-decoder (liu-grokking-toy)', embeddingDecoder, { nodes: 10, dim: 1, combine: 'sum', hidden: [200, 200], activation: 'tanh', init: 'torch' }, [2], 30, 'mse', 45, pairs(10)],
  ['block-mlp (ashworth-clt)', blockMlp, { block: 2, tied: true, shared: true, hidden: [8], activation: 'identity' }, [16], 8, 'mse', 64, normal],
  ['gnn gcn 16-16 (defaults, 16-site chain)', gnn, { layer: 'gcn' }, [16], 1, 'mse', 128, normal],
  ['gnn gin 16-16 (defaults, 16-site chain)', gnn, { layer: 'gin' }, [16], 1, 'mse', 128, normal],
  ['mlp z + αz² learned (quickstart widths)', mlp, { hidden: [24, 24], activation: 'quadratic', alpha: 'learned', init: 'normal', initScale: 0.2 }, [16], 8, 'mse', 64, normal],
];

const rows = [];
for (const [name, plugin, options, inputShape, outputSize, loss, batch, data] of CASES) {
  const model = plugin.create(plugin.options.parse(options), { inputShape, outputSize, outputKind: 'regression' });
  const rng = new Rng(1);
  const params = model.init(rng.split('init'));
  const x = data(rng.split('x'), batch, inputShape);
  const y = targets(loss, rng.split('y'), batch, outputSize);
  const n = model.paramCount;
  const w = flattenParams(params, model.specs);
  const f = flatLoss(model, loss, x, y);
  const v1 = tf.tensor1d(rng.normalArray(n));
  const block = (k) => tf.tensor2d(rng.normalArray(k * n), [k, n]);
  const [b1, b32] = [block(1), block(32)];
  const runs = {
    hvp: () => { const r = hvp(f, w, v1); r.dataSync(); r.dispose(); },
    k1: () => { const r = model.curvatureProducts({ params, x, y, loss, kind: 'hessian', vectors: b1 }); r.dataSync(); r.dispose(); },
    k32: () => { const r = model.curvatureProducts({ params, x, y, loss, kind: 'hessian', vectors: b32 }); r.dataSync(); r.dispose(); },
  };
  const per = { hvp: 1, k1: 1, k32: 32 };
  const times = { hvp: [], k1: [], k32: [] };
  for (const key of Object.keys(runs)) runs[key](); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const key of Object.keys(runs)) {
      const t0 = performance.now();
      runs[key]();
      times[key].push((performance.now() - t0) / per[key]);
    }
  }
  const row = { model: name, params: n, batch, hvpMs: median(times.hvp), rulesK1Ms: median(times.k1), rulesK32Ms: median(times.k32) };
  row.speedup = row.hvpMs / row.rulesK32Ms;
  rows.push(row);
  console.log(JSON.stringify(row, (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? +v.toFixed(3) : v)));
  tf.dispose([x, y, w, v1, b1, b32]);
  for (const t of Object.values(params)) t.dispose();
}
console.log('\n| model | params | batch | one HVP (double backprop) | rules, k = 1 | rules, block of 32 (per product) | speed-up |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.model} | ${r.params.toLocaleString('en')} | ${r.batch} | ${r.hvpMs.toFixed(2)} ms | ${r.rulesK1Ms.toFixed(2)} ms | ${r.rulesK32Ms.toFixed(3)} ms | ${r.speedup.toFixed(1)}× |`);
