// Test helpers of core, also used by the tests of the packages above it (subpath
// `@goldstone/core/test-support`; not part of the main entry).
import * as tf from '@tensorflow/tfjs-core';
import type { ModelInstance, Params } from '@goldstone/plugin-api';
import { tanh } from './activations';

/** ‖a − b‖ / ‖b‖. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.sqrt(den);
}

/**
 * The worst column: max over j of max_i |got[j][i] − want[j][i]| / ‖want[j]‖ (block products
 * against one-vector products, row j the product of direction j).
 */
export function worstColumn(got: readonly ArrayLike<number>[], want: readonly ArrayLike<number>[]): number {
  let worst = 0;
  got.forEach((g, j) => {
    let num = 0;
    let den = 0;
    for (let i = 0; i < g.length; i++) {
      num = Math.max(num, Math.abs(g[i] - want[j][i]));
      den += want[j][i] ** 2;
    }
    worst = Math.max(worst, num / Math.sqrt(den));
  });
  return worst;
}

/** A small tanh MLP (second-order-safe tanh from ./activations). */
export function tanhMlp(sizes: number[]): ModelInstance {
  const specs = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    specs.push({ name: `w${l}`, shape: [sizes[l], sizes[l + 1]] }, { name: `b${l}`, shape: [sizes[l + 1]] });
  }
  const paramCount = specs.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  return {
    specs,
    paramCount,
    init: (rng) => {
      const p: Params = {};
      for (let l = 0; l + 1 < sizes.length; l++) {
        p[`w${l}`] = tf.tensor(rng.normalArray(sizes[l] * sizes[l + 1], 1 / Math.sqrt(sizes[l])), [sizes[l], sizes[l + 1]]);
        p[`b${l}`] = tf.tensor(rng.normalArray(sizes[l + 1], 0.1), [sizes[l + 1]]);
      }
      return p;
    },
    apply: (p, x) =>
      tf.tidy(() => {
        let h = x as tf.Tensor2D;
        for (let l = 0; l + 1 < sizes.length; l++) {
          h = tf.add(tf.matMul(h, p[`w${l}`] as tf.Tensor2D), p[`b${l}`]) as tf.Tensor2D;
          if (l + 2 < sizes.length) h = tanh(h) as tf.Tensor2D;
        }
        return h;
      }),
  };
}

/**
 * Event-loop turns (setImmediate callbacks) that ran while `work` was running, and its result: a
 * computation that never yields lets none run before it ends. `spin(ms)` busy-waits, a stand-in
 * for synchronous work.
 */
export async function turnsDuring<T>(work: () => Promise<T>): Promise<{ turns: number; result: T }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    const result = await work();
    return { turns, result };
  } finally {
    running = false;
  }
}

/** Busy-wait for at least `ms`: synchronous work that keeps the event loop from turning. */
export function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}
