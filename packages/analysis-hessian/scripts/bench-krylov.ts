/**
 * Lanczos against deflated power iteration, and against the same algorithms on PyTorch, on one
 * Hessian: products and wall time until the top-5 eigenvalues are all within 1e-3 (relative) of
 * a reference (a long Lanczos run, tol 1e-9). Measured, not asserted; prints ratios.
 *
 *   node --import tsx packages/analysis-hessian/scripts/bench-krylov.ts [--backend cpu|wasm]
 *
 * The PyTorch peer (bench_krylov.py, Debian's /usr/bin/python3 with python3-torch) gets the same
 * weights and data through a temporary JSON file; it is skipped if torch cannot be imported.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tanh } from '../../core/src/activations';
import { lanczos, lanczosDecomposition, tridiagonalEigen } from '../../core/src/lanczos';
import { curvatureOperator } from '../../core/src/linear-operator';
import { paramsFromArray, type Params } from '../../core/src/params';
import type { ModelInstance } from '../../core/src/plugin';
import { powerIteration } from '../../core/src/power-iteration';
import { Rng } from '../../core/src/rng';

const K = 5;
const ACC = 1e-3;
const DIMS = [16, 48, 48, 10];
const N = 256;

function mlp(dims: number[]): ModelInstance {
  const specs = [];
  for (let i = 0; i + 1 < dims.length; i++) specs.push({ name: `dense${i}.weight`, shape: [dims[i], dims[i + 1]] }, { name: `dense${i}.bias`, shape: [dims[i + 1]] });
  return {
    specs,
    paramCount: specs.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0),
    init: () => ({}),
    apply: (p: Params, x: tf.Tensor) =>
      tf.tidy(() => {
        let h = x as tf.Tensor2D;
        for (let i = 0; i + 1 < dims.length; i++) {
          h = tf.add(tf.matMul(h, p[`dense${i}.weight`] as tf.Tensor2D), p[`dense${i}.bias`]) as tf.Tensor2D;
          if (i + 2 < dims.length) h = tanh(h) as tf.Tensor2D;
        }
        return h;
      }),
  };
}

async function main() {
  const backend = process.argv.includes('--backend') ? process.argv[process.argv.indexOf('--backend') + 1] : 'cpu';
  await tf.setBackend(backend);
  const rng = new Rng(2024);
  const model = mlp(DIMS);
  const w = new Float32Array(model.paramCount);
  {
    let o = 0;
    for (const s of model.specs) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      w.set(rng.normalArray(size, s.name.endsWith('weight') ? 1.5 / Math.sqrt(s.shape[0]) : 0.3), o);
      o += size;
    }
  }
  const xs = rng.normalArray(N * DIMS[0]);
  const ys = new Float32Array(N * DIMS[3]);
  for (let i = 0; i < N; i++) ys[i * DIMS[3] + rng.int(DIMS[3])] = 1;
  const params = paramsFromArray(w, model.specs);
  const x = tf.tensor(xs, [N, DIMS[0]]);
  const y = tf.tensor(ys, [N, DIMS[3]]);
  const op = curvatureOperator({ model, loss: 'softmax-cross-entropy', params, data: { x, y } });

  const ref = lanczos(op, { topK: K, maxSteps: 200, tol: 1e-9, rng: rng.split('ref') }).top.map((p) => p.value);
  const accurate = (vals: number[]) => vals.length >= K && ref.every((r, i) => Math.abs(vals[i] - r) / Math.abs(r) < ACC);

  let t0 = performance.now();
  let lzProducts = -1;
  lanczosDecomposition(op, {
    steps: 300,
    rng: rng.split('lanczos'),
    onStep: (d) => {
      const vals = [...tridiagonalEigen(d.alpha, d.beta).values].reverse();
      if (accurate(vals)) lzProducts = d.products;
      return lzProducts > 0;
    },
  });
  const lzMs = performance.now() - t0;

  t0 = performance.now();
  let pwProducts = -1;
  const pw = powerIteration(op, {
    k: K,
    tol: ACC,
    maxIterations: 5000,
    rng: rng.split('power'),
    onIteration: (it) => {
      if (it.pair === K - 1 && pwProducts < 0 && Math.abs(it.value - ref[K - 1]) / Math.abs(ref[K - 1]) < ACC) pwProducts = it.products;
    },
  });
  const pwMs = performance.now() - t0;
  const pwOk = accurate(pw.pairs.map((p) => p.value));

  const dir = mkdtempSync(join(tmpdir(), 'goldstone-krylov-'));
  const file = join(dir, 'problem.json');
  writeFileSync(file, JSON.stringify({ dims: DIMS, n: N, x: Array.from(xs), y: Array.from(ys), w: Array.from(w), k: K, acc: ACC, ref }));
  const here = dirname(fileURLToPath(import.meta.url));
  const py = spawnSync('/usr/bin/python3', [join(here, 'bench_krylov.py'), file], { encoding: 'utf8' });
  const torch = py.status === 0 ? JSON.parse(py.stdout.trim().split('\n').pop()!) : null;

  const rows = [
    ['goldstone lanczos', lzProducts, lzMs],
    ['goldstone power iteration', pwOk ? pwProducts : -1, pwMs],
    ...(torch ? [['pytorch lanczos', torch.lanczos.products, torch.lanczos.ms], ['pytorch power iteration', torch.power.products, torch.power.ms]] : []),
  ] as [string, number, number][];
  process.stdout.write(`Krylov bench: tanh MLP ${DIMS.join('-')} (${model.paramCount} params), softmax CE, ${N} examples, backend ${backend}\n`);
  process.stdout.write(`top-${K} eigenvalues to ${ACC} relative accuracy; reference ${ref.map((v) => v.toPrecision(6)).join(', ')}\n`);
  for (const [name, p, ms] of rows) process.stdout.write(`  ${name.padEnd(28)} ${String(p).padStart(6)} HVPs  ${ms.toFixed(0).padStart(7)} ms\n`);
  process.stdout.write(`  power/lanczos HVP ratio: ${(pwProducts / lzProducts).toFixed(2)} (goal ≥ 3)\n`);
  if (torch) process.stdout.write(`  goldstone/pytorch wall-time ratio: lanczos ${(lzMs / torch.lanczos.ms).toFixed(2)}, power ${(pwMs / torch.power.ms).toFixed(2)}\n`);
  else process.stdout.write(`  PyTorch peer unavailable: ${(py.stderr || String(py.error)).trim().split('\n').pop()}\n`);
  op.dispose();
  tf.dispose([x, y, ...Object.values(params)]);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
