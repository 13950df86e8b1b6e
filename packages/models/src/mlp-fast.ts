import * as tf from '@tensorflow/tfjs-core';
import type { ActivationName } from '@goldstone/core';
import type { Params } from '@goldstone/plugin-api';

/**
 * The plain MLP's first-order fast path (`ModelInstance.applyFirstOrder`): every dense layer is one
 * kernel call (`GoldstoneFusedDense`, the backend's `_FusedMatMul`: matrix product, bias and relu in
 * one XNNPACK call on wasm) with a registered gradient, instead of matMul + add + relu and their
 * three tape entries.
 *
 * It is for first-order parameter gradients (training steps): its gradient is not promised at
 * second order (it reads the saved output), and curvature code uses `apply`, never this. The
 * forward values equal `apply`'s to float32 round-off (the bias enters the product's accumulator
 * instead of being added after it); the backward pass runs the ops the tape of `apply` runs.
 */
/** The activations the fused kernel applies itself. */
const FUSABLE: Partial<Record<ActivationName, 'relu' | 'linear'>> = { relu: 'relu', identity: 'linear' };

export interface FastMlpLayout {
  /** Widths [in, ...hidden, out]. */
  dims: readonly number[];
  bias: boolean;
  activation: ActivationName;
}

/** Our kernel: `x·w (+ b)` then the activation, 2-D, by the backend's own `_FusedMatMul`. */
const DENSE_KERNEL = 'GoldstoneFusedDense';
const BACKENDS = ['wasm', 'cpu'] as const;

interface DenseAttrs {
  activation: 'relu' | 'linear';
}

/** A 2-D TensorInfo seen as `[1, rows, cols]` (metadata only: same buffer, no reference taken). */
const as3d = (t: tf.TensorInfo): tf.TensorInfo => ({ dataId: t.dataId, dtype: t.dtype, shape: [1, ...t.shape] });

function ensureRegistered(): void {
  for (const backendName of BACKENDS) {
    if (tf.getKernel(DENSE_KERNEL, backendName)) continue;
    tf.registerKernel({
      kernelName: DENSE_KERNEL,
      backendName,
      kernelFunc: (args) => {
        const fused = tf.getKernel('_FusedMatMul', backendName);
        if (!fused) throw new Error(`${DENSE_KERNEL}: the ${backendName} backend has no _FusedMatMul kernel`);
        const { a, b, bias } = args.inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo };
        const { activation } = args.attrs as unknown as DenseAttrs;
        const inputs: Record<string, tf.TensorInfo> = { a: as3d(a), b: as3d(b) };
        if (bias) inputs.bias = bias;
        const out = fused.kernelFunc({
          ...args,
          inputs: inputs as unknown as tf.NamedTensorInfoMap,
          attrs: { transposeA: false, transposeB: false, activation } as unknown as tf.NamedAttrMap,
        }) as tf.TensorInfo;
        return { dataId: out.dataId, dtype: out.dtype, shape: out.shape.slice(1) };
      },
    });
  }
  if (!tf.getGradient(DENSE_KERNEL)) {
    // dz = dy ⊙ step(y) (relu: y > 0 exactly where the pre-activation is), dA = dz·Bᵀ, dB = Aᵀ·dz,
    // dbias = Σ_batch dz: the ops the tape of matMul + add + relu runs. The tape asks only for the
    // inputs it needs (not the data's gradient of the first layer).
    tf.registerGradient({
      kernelName: DENSE_KERNEL,
      inputsToSave: ['a', 'b'],
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => {
        const [a, b, y] = saved;
        const dz = (attrs as unknown as DenseAttrs).activation === 'relu' ? tf.mul(dy as tf.Tensor, tf.step(y)) : (dy as tf.Tensor);
        return {
          a: () => tf.matMul(dz, b, false, true),
          b: () => tf.matMul(a, dz, true, false),
          bias: () => tf.sum(dz, 0),
        };
      },
    });
  }
}

/** `x·w (+ b)`, then the activation, in one kernel call with a first-order gradient; `x`, `w` 2-D. */
function fusedDense(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined, activation: 'relu' | 'linear'): tf.Tensor {
  const inputs: Record<string, tf.Tensor> = { a: x, b: w };
  if (b) inputs.bias = b;
  const attrs: DenseAttrs = { activation };
  return tf.engine().runKernel(DENSE_KERNEL, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * The fast forward pass of a plain MLP whose activation the kernel fuses (relu, identity), or
 * undefined for any other (tanh, sigmoid, quadratic α, …), which keeps `apply` only. On backends
 * other than wasm and cpu it is `apply`.
 */
export function fastMlpApply(layout: FastMlpLayout, apply: (params: Params, x: tf.Tensor) => tf.Tensor): ((params: Params, x: tf.Tensor) => tf.Tensor) | undefined {
  const hidden = FUSABLE[layout.activation];
  if (!hidden) return undefined;
  const depth = layout.dims.length - 2;
  const inputSize = layout.dims[0];
  return (params, x) => {
    if (!(BACKENDS as readonly string[]).includes(tf.getBackend())) return apply(params, x); // no kernel registered there
    ensureRegistered();
    return tf.tidy(() => {
      const batch = x.shape[0];
      let h: tf.Tensor = x.rank === 2 ? x : tf.reshape(x, [batch, inputSize]);
      for (let i = 0; i <= depth; i++) {
        h = fusedDense(h, params[`dense${i}.weight`], layout.bias ? params[`dense${i}.bias`] : undefined, i < depth ? hidden : 'linear');
      }
      return h;
    });
  };
}
