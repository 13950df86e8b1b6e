import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import './gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { installWasmKernels, uninstallWasmKernels, activeWasmKernels, WASM_FIXES } from './wasm-kernels';
import { Rng } from './rng';

type Host = { values: Float32Array | Int32Array; shape: number[] };

/** Run `fn` on `backend` and bring its (single) result back to the host. */
async function on(backend: string, fn: () => tf.Tensor): Promise<Host> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const t = tf.tidy(fn);
  const out = { values: t.dataSync() as Float32Array | Int32Array, shape: t.shape.slice() };
  t.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-30);
}

const rng = new Rng(20240611);
const arr = (n: number) => rng.normalArray(n);

beforeAll(async () => {
  installWasmKernels();
  await tf.setBackend('wasm');
});

afterAll(async () => {
  installWasmKernels();
  await tf.setBackend('cpu');
});

describe('installWasmKernels', () => {
  it('registers every fix once; a second call changes nothing', () => {
    const before = tf.getKernel('BatchMatMul', 'wasm');
    expect(installWasmKernels()).toEqual([...WASM_FIXES]);
    expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(before);
    expect(activeWasmKernels()).toEqual([...WASM_FIXES]);
  });

  it('uninstall restores the stock kernels and reinstall fixes them again', () => {
    const fixed = tf.getKernel('BatchMatMul', 'wasm');
    uninstallWasmKernels();
    expect(activeWasmKernels()).toEqual([]);
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeUndefined();
    // the stock kernel is back, not the fix and not nothing
    const stock = tf.getKernel('BatchMatMul', 'wasm');
    expect(stock?.kernelFunc).toEqual(expect.any(Function));
    expect(stock?.kernelFunc).not.toBe(fixed?.kernelFunc);
    installWasmKernels();
    expect(activeWasmKernels()).toEqual([...WASM_FIXES]);
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).not.toBe(stock?.kernelFunc);
  });
});

// [shapeA, shapeB] before transposition flags are applied: a is [..., m, k], b is [..., k, n].
const CASES: Array<{ name: string; a: number[]; b: number[] }> = [
  { name: '2-D', a: [7, 5], b: [5, 3] },
  { name: 'batched 3-D', a: [4, 6, 9], b: [4, 9, 2] },
  { name: 'batch broadcast', a: [3, 2, 5, 4], b: [1, 1, 4, 6] },
  { name: 'vector-like', a: [1, 8], b: [8, 1] },
];

function swapLast2(shape: number[]): number[] {
  const s = shape.slice();
  [s[s.length - 2], s[s.length - 1]] = [s[s.length - 1], s[s.length - 2]];
  return s;
}

describe('BatchMatMul with explicit transposes', () => {
  for (const c of CASES) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        it(`${c.name}, transposeA=${ta}, transposeB=${tb}: equals stock wasm bit for bit and cpu to 1e-6`, async () => {
          const aShape = ta ? swapLast2(c.a) : c.a;
          const bShape = tb ? swapLast2(c.b) : c.b;
          const av = arr(aShape.reduce((x, y) => x * y, 1));
          const bv = arr(bShape.reduce((x, y) => x * y, 1));
          const f = () => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), ta, tb);

          const fixed = await on('wasm', f);
          uninstallWasmKernels();
          const stock = await on('wasm', f);
          installWasmKernels();
          const cpu = await on('cpu', f);

          expect(fixed.shape).toEqual(cpu.shape);
          expect(fixed.shape).toEqual(stock.shape);
          expect(Array.from(fixed.values)).toEqual(Array.from(stock.values));
          expect(maxRelDiff(fixed.values, cpu.values)).toBeLessThan(1e-6);
        });
      }
    }
  }

  // Stock wasm _FusedMatMul is wrong in tfjs 4.22 when a bias is fused with a transpose flag (errors
  // of order 1); the replacement is right. Without a bias the stock kernel is right, and ours must
  // then be bit-identical to it.
  for (const withBias of [false, true]) {
    it(`fused matMul (${withBias ? 'bias + relu' : 'linear, no bias'}) with transposes equals cpu${withBias ? '' : ' and stock wasm'}`, async () => {
      for (const [ta, tb] of [
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        const a = arr(6 * 4);
        const b = arr(4 * 5);
        const bias = arr(5);
        const f = () =>
          tf.fused.matMul({
            a: tf.tensor(a, ta ? [4, 6] : [6, 4]),
            b: tf.tensor(b, tb ? [5, 4] : [4, 5]),
            transposeA: ta,
            transposeB: tb,
            bias: withBias ? tf.tensor(bias) : undefined,
            activation: withBias ? 'relu' : 'linear',
          });
        const fixed = await on('wasm', f);
        const cpu = await on('cpu', f);
        expect(fixed.shape).toEqual([6, 5]);
        expect(maxRelDiff(fixed.values, cpu.values)).toBeLessThan(1e-6);
        if (!withBias) {
          uninstallWasmKernels();
          const stock = await on('wasm', f);
          installWasmKernels();
          expect(Array.from(fixed.values)).toEqual(Array.from(stock.values));
        }
      }
    });
  }

  it('leaves no tensors or wasm buffers behind', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor(arr(32 * 16), [2, 16, 16]);
    const b = tf.tensor(arr(32 * 16), [2, 16, 16]);
    const ids = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    tf.matMul(a, b, true, true).dispose();
    const tensors = tf.memory().numTensors;
    const buffers = ids();
    for (let i = 0; i < 5; i++) {
      tf.matMul(a, b, true, false).dispose();
      tf.matMul(a, b, false, true).dispose();
      tf.matMul(a, b, true, true).dispose();
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(ids()).toBe(buffers);
    a.dispose();
    b.dispose();
  });
});

describe('UnsortedSegmentSum on wasm', () => {
  it('float32 with out-of-range ids dropped: bit-identical to cpu', async () => {
    const x = arr(10 * 3);
    const ids = new Int32Array([0, 2, 2, -1, 4, 0, 5, 1, 2, 7]); // 5 and 7 are out of range for 5 segments
    const f = () => tf.unsortedSegmentSum(tf.tensor(x, [10, 3]), tf.tensor1d(ids, 'int32'), 5);
    const wasm = await on('wasm', f);
    const cpu = await on('cpu', f);
    expect(wasm.shape).toEqual([5, 3]);
    expect(Array.from(wasm.values)).toEqual(Array.from(cpu.values));
    // ground truth by hand for segment 2: rows 1, 2, 8
    for (let j = 0; j < 3; j++) {
      expect(wasm.values[2 * 3 + j]).toBeCloseTo(x[3 + j] + x[6 + j] + x[24 + j], 5);
    }
  });

  it('rank-1 and rank-3 inputs match cpu; int32 sums are exact', async () => {
    const ids = new Int32Array([1, 0, 1, 3]);
    const v1 = arr(4);
    const v3 = arr(4 * 2 * 3);
    for (const [vals, shape] of [
      [v1, [4]],
      [v3, [4, 2, 3]],
    ] as const) {
      const f = () => tf.unsortedSegmentSum(tf.tensor(vals, shape as unknown as number[]), tf.tensor1d(ids, 'int32'), 4);
      const wasm = await on('wasm', f);
      const cpu = await on('cpu', f);
      expect(wasm.shape).toEqual(cpu.shape);
      expect(Array.from(wasm.values)).toEqual(Array.from(cpu.values));
    }
    const ints = await on('wasm', () =>
      tf.unsortedSegmentSum(tf.tensor1d([5, 7, 11, 13], 'int32'), tf.tensor1d(ids, 'int32'), 4),
    );
    expect(Array.from(ints.values)).toEqual([7, 16, 0, 13]);
  });

  it('makes the gradient of tf.gather work, equal to cpu', async () => {
    const table = arr(6 * 4);
    const idx = new Int32Array([5, 0, 0, 3, 5, 5, 1]);
    const w = arr(7 * 4);
    const f = () =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d(idx, 'int32')), tf.tensor(w, [7, 4]))))(
        tf.tensor(table, [6, 4]),
      );
    const wasm = await on('wasm', f);
    const cpu = await on('cpu', f);
    expect(wasm.shape).toEqual([6, 4]);
    expect(Array.from(wasm.values)).toEqual(Array.from(cpu.values));
    // row 2 and 4 are never gathered: zero gradient; row 0 is gathered twice
    for (let j = 0; j < 4; j++) {
      expect(wasm.values[2 * 4 + j]).toBe(0);
      expect(wasm.values[0 * 4 + j]).toBeCloseTo(w[1 * 4 + j] + w[2 * 4 + j], 5);
    }
  });

  it('does not leak tensors over repeated calls', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(arr(20), [10, 2]);
    const ids = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 3], 'int32');
    tf.unsortedSegmentSum(x, ids, 4).dispose();
    const n = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.unsortedSegmentSum(x, ids, 4).dispose();
    expect(tf.memory().numTensors).toBe(n);
    x.dispose();
    ids.dispose();
  });
});

describe('a small MLP on wasm', () => {
  it('forward and backward (relu, MSE) agree with cpu to float32 precision', async () => {
    const [batch, nin, h, nout] = [16, 5, 12, 3];
    const x = arr(batch * nin);
    const y = arr(batch * nout);
    const p = { w1: arr(nin * h), b1: arr(h), w2: arr(h * h), b2: arr(h), w3: arr(h * nout), b3: arr(nout) };
    const run = () => {
      const params = [
        tf.tensor(p.w1, [nin, h]),
        tf.tensor(p.b1, [h]),
        tf.tensor(p.w2, [h, h]),
        tf.tensor(p.b2, [h]),
        tf.tensor(p.w3, [h, nout]),
        tf.tensor(p.b3, [nout]),
      ];
      const loss = (w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor, w3: tf.Tensor, b3: tf.Tensor) => {
        const h1 = tf.relu(tf.add(tf.matMul(tf.tensor(x, [batch, nin]), w1), b1));
        const h2 = tf.relu(tf.add(tf.matMul(h1, w2), b2));
        const out = tf.add(tf.matMul(h2, w3), b3);
        return tf.mean(tf.square(tf.sub(out, tf.tensor(y, [batch, nout])))) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(loss as unknown as (...a: tf.Tensor[]) => tf.Scalar)(params);
      return tf.concat([tf.reshape(value, [1]), ...grads.map((g) => tf.reshape(g, [-1]))]);
    };
    const wasm = await on('wasm', run);
    const cpu = await on('cpu', run);
    expect(wasm.values.length).toBe(1 + nin * h + h + h * h + h + h * nout + nout);
    expect(maxRelDiff(wasm.values, cpu.values)).toBeLessThan(1e-5);
    expect(Math.abs(wasm.values[0] - cpu.values[0]) / cpu.values[0]).toBeLessThan(1e-6);
  });
});

describe('Sum over leading axes on wasm', () => {
  const bitsOf = (h: Host) => Array.from(new Uint32Array(Float32Array.from(h.values).buffer));
  for (const c of [
    { shape: [256, 37], axis: 0, keepDims: false },
    { shape: [5, 7, 3], axis: [0, 1], keepDims: false },
    { shape: [5, 7, 3], axis: [1, 0], keepDims: false }, // another order: the stock kernel
    { shape: [64, 9], axis: 0, keepDims: true },
    { shape: [4, 6, 2], axis: 0, keepDims: false },
    { shape: [6, 4], axis: 1, keepDims: false }, // innermost: the stock kernel
    { shape: [6, 4], axis: [0, 1], keepDims: false }, // every axis: the stock kernel
  ]) {
    it(`shape [${c.shape}], axis ${JSON.stringify(c.axis)}${c.keepDims ? ', keepDims' : ''}: bit-identical to the stock kernel`, async () => {
      const v = arr(c.shape.reduce((a, b) => a * b, 1)).map((x, i) => (i % 5 === 0 ? x * 1e4 : x));
      const f = () => tf.sum(tf.tensor(v, c.shape), c.axis, c.keepDims);
      const fixed = await on('wasm', f);
      uninstallWasmKernels();
      const stock = await on('wasm', f);
      installWasmKernels();
      expect(fixed.shape).toEqual(stock.shape);
      expect(bitsOf(fixed)).toEqual(bitsOf(stock));
    });
  }

  it('int32 goes to the stock kernel', async () => {
    const s = await on('wasm', () => tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0));
    expect(Array.from(s.values)).toEqual([9, 12]);
  });
});

describe('Identity on wasm shares the buffer', () => {
  it('a clone outlives its source, and nothing is left behind', async () => {
    await tf.setBackend('wasm');
    const ids = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const buffers = ids();
    const tensors = tf.memory().numTensors;
    const x = tf.tensor([1, 2, 3]);
    const y = tf.clone(x);
    expect(ids()).toBe(buffers + 1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
    expect(ids()).toBe(buffers);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('gradients through ops that save their inputs are unchanged', async () => {
    const x = arr(12);
    const f = () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.square(t), tf.exp(t))))(tf.tensor(x, [3, 4]));
    const fixed = await on('wasm', f);
    uninstallWasmKernels();
    const stock = await on('wasm', f);
    installWasmKernels();
    expect(Array.from(fixed.values)).toEqual(Array.from(stock.values));
  });
});
