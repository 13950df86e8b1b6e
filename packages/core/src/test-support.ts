// Helpers shared by core's own tests (not exported from the package).
import * as tf from '@tensorflow/tfjs-core';
import { tanh } from './activations';
import { dot, norm } from './linear-operator';
import type { Params } from './params';
import type { ModelInstance } from './plugin';
import type { Rng } from './rng';

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

/** n random orthonormal vectors (Gram–Schmidt, twice, of Gaussian vectors). */
export function orthonormal(n: number, rng: Rng): Float64Array[] {
  const q: Float64Array[] = [];
  while (q.length < n) {
    const v = Float64Array.from(rng.normalArray(n));
    for (let p = 0; p < 2; p++) for (const u of q) { const c = dot(u, v); for (let i = 0; i < n; i++) v[i] -= c * u[i]; }
    const nv = norm(v);
    for (let i = 0; i < n; i++) v[i] /= nv;
    q.push(v);
  }
  return q;
}

/** Σₖ λₖ qₖqₖᵀ, row-major. */
export function compose(q: Float64Array[], lambdas: number[]): Float64Array {
  const n = lambdas.length;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += q[k][i] * lambdas[k] * q[k][j];
    a[i * n + j] = s;
  }
  return a;
}

/** Q diag(λ) Qᵀ with Q a random orthogonal matrix, row-major. */
export function matrixWithSpectrum(lambdas: number[], rng: Rng): Float64Array {
  return compose(orthonormal(lambdas.length, rng), lambdas);
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
