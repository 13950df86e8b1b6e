import * as tf from '@tensorflow/tfjs-core';
import type { ActivationName } from '@goldstone/core';
import type { Params } from '@goldstone/plugin-api';

/**
 * The plain MLP's first-order fast path (`ModelInstance.applyFirstOrder`): every dense layer is one
 * `_FusedMatMul` kernel (matrix product, bias and relu in one XNNPACK call on wasm) with a
 * hand-written gradient, instead of matMul + add + activation and their tape entries.
 *
 * Its gradient is promised at first order only (custom gradients run their forward pass off the
 * tape, so a second differentiation cannot see through it in general), and it flows to the
 * parameters only, not to `x`. Curvature code uses `apply`, never this. The forward values equal
 * `apply`'s to float32 round-off (the bias enters the product's accumulator instead of being
 * added after it); the backward pass runs the same ops as the tape of `apply`.
 */

/** The activations the fused kernel applies itself. */
const FUSABLE: Partial<Record<ActivationName, 'relu' | 'linear'>> = { relu: 'relu', identity: 'linear' };

export interface FastMlpLayout {
  /** Widths [in, ...hidden, out]. */
  dims: readonly number[];
  bias: boolean;
  activation: ActivationName;
}

/** `x·w (+ b)`, then the activation, in one kernel call; `x`, `w` 2-D. */
function fusedDense(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined, activation: 'relu' | 'linear'): tf.Tensor {
  const rows = x.shape[0] as number;
  const inner = x.shape[1] as number;
  const cols = w.shape[1] as number;
  const inputs: Record<string, tf.Tensor> = { a: tf.reshape(x, [1, rows, inner]), b: tf.reshape(w, [1, inner, cols]) };
  if (b) inputs.bias = b;
  const attrs = { transposeA: false, transposeB: false, activation };
  const y = tf.engine().runKernel('_FusedMatMul', inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  return tf.reshape(y, [rows, cols]);
}

/**
 * One layer with its gradient: `dz = dy ⊙ step(y)` (relu; y > 0 exactly where the pre-activation
 * is), `dW = xᵀ·dz`, `db = Σ_batch dz`, `dx = dz·Wᵀ` (only when `x` is itself differentiated,
 * i.e. not for the first layer, whose input is data).
 */
function layer(activation: 'relu' | 'linear', withBias: boolean, xIsData: boolean): (...args: tf.Tensor[]) => tf.Tensor {
  const op = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const ts = args as tf.Tensor[];
    // inputs: [x?, w, b?] (x is closed over for the first layer)
    const [x, w, b] = xIsData ? [dataInput!, ts[0], ts[1]] : [ts[0], ts[1], ts[2]];
    const y = fusedDense(x, w, withBias ? b : undefined, activation);
    save([x, w, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw, sy] = saved;
        const dz = activation === 'relu' ? tf.mul(dy, tf.step(sy)) : dy;
        const dw = tf.matMul(sx, dz, true, false);
        const grads: tf.Tensor[] = xIsData ? [dw] : [tf.matMul(dz, sw, false, true), dw];
        if (withBias) grads.push(tf.sum(dz, 0));
        return grads;
      },
    };
  };
  let dataInput: tf.Tensor | undefined;
  const custom = tf.customGrad(op as unknown as Parameters<typeof tf.customGrad>[0]);
  return (...ts: tf.Tensor[]) => {
    if (xIsData) {
      dataInput = ts[0];
      try {
        return custom(...ts.slice(1));
      } finally {
        dataInput = undefined;
      }
    }
    return custom(...ts);
  };
}

/**
 * The fast forward pass of a plain MLP whose activation the kernel fuses (relu, identity), or
 * undefined for any other (tanh, sigmoid, quadratic α, …), which keeps `apply` only.
 */
export function fastMlpApply(layout: FastMlpLayout): ((params: Params, x: tf.Tensor) => tf.Tensor) | undefined {
  const hidden = FUSABLE[layout.activation];
  if (!hidden) return undefined;
  const depth = layout.dims.length - 2;
  const inputSize = layout.dims[0];
  const layers = Array.from({ length: depth + 1 }, (_, i) => layer(i < depth ? hidden : 'linear', layout.bias, i === 0));
  return (params, x) =>
    tf.tidy(() => {
      const batch = x.shape[0];
      let h: tf.Tensor = x.rank === 2 ? x : tf.reshape(x, [batch, inputSize]);
      for (let i = 0; i <= depth; i++) {
        const w = params[`dense${i}.weight`];
        const args = layout.bias ? [h, w, params[`dense${i}.bias`]] : [h, w];
        h = layers[i](...args);
      }
      return h;
    });
}
