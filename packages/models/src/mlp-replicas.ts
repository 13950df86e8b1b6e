import * as tf from '@tensorflow/tfjs-core';
import type { ActivationName } from '@goldstone/core';
import type { Params } from '@goldstone/plugin-api';
import { hiddenActivation } from './quadratic-alpha';

/** What `applyMlpReplicas` needs to know of a plain MLP (the options and widths `createMlp` built it from). */
export interface MlpReplicaLayout {
  activation: ActivationName;
  alpha?: 'learned' | number;
  bias: boolean;
  /** Widths [in, ...hidden, out]. */
  dims: readonly number[];
  inputShape: readonly number[];
}

/**
 * R replicas of a plain MLP at once (vectorised seeds): every parameter carries a leading replica
 * axis (`dense{i}.weight` `[R, in, out]`, `dense{i}.bias` `[R, out]`, a learned α `[R, 1]`) and `x` is
 * `[R, B, ...inputShape]`. Each layer is one batched matMul, h `[R, B, in]` × W `[R, in, out]` + b
 * `[R, 1, out]`, followed by the same activation as `apply` (second-order safe, as `apply` is).
 * Returns `[R, B, out]`; slice r equals `apply(params[r], x[r])` to float32 round-off.
 */
export function applyMlpReplicas(layout: MlpReplicaLayout, params: Params, x: tf.Tensor): tf.Tensor {
  const { dims, bias } = layout;
  const depth = dims.length - 2;
  const inputSize = dims[0];
  const w0 = params['dense0.weight'];
  if (!w0) throw new Error('mlp applyReplicas: missing parameter "dense0.weight"');
  if (w0.rank !== 3) throw new Error(`mlp applyReplicas: parameters must carry a leading replica axis (dense0.weight [R, ${dims[0]}, ${dims[1]}]), got [${w0.shape}]`);
  const R = w0.shape[0];
  const batch = x.shape[1] ?? 0;
  if (x.rank < 2 || x.shape[0] !== R || x.size !== R * batch * inputSize) {
    throw new Error(`mlp applyReplicas: input of shape [${x.shape}] does not match [${R}, B, ${layout.inputShape.join(', ')}] (R = ${R} replicas)`);
  }
  return tf.tidy(() => {
    let h: tf.Tensor = x.rank === 3 ? x : tf.reshape(x, [R, batch, inputSize]);
    for (let i = 0; i <= depth; i++) {
      let zi: tf.Tensor = tf.matMul(h as tf.Tensor3D, params[`dense${i}.weight`] as tf.Tensor3D);
      if (bias) zi = tf.add(zi, tf.reshape(params[`dense${i}.bias`], [R, 1, dims[i + 1]]));
      if (i < depth) {
        // a learned α is [R, 1]: one per replica, broadcast over the batch and the units
        const alphaName = `dense${i}.alpha`;
        const p = layout.alpha === 'learned' ? { [alphaName]: tf.reshape(params[alphaName], [R, 1, 1]) } : params;
        h = hiddenActivation(layout, p, i)(zi);
      } else h = zi;
    }
    return h;
  });
}
