import * as tf from '@tensorflow/tfjs-core';
import { logSoftmax, softplus } from './activations';
import type { LossName } from '@goldstone/plugin-api';

/**
 * Losses, all means over the batch and all second-order safe (built from the safe ops of
 * `./activations`, so nested `tf.grad` gives correct Hessian-vector products).
 *
 * - `mse`: mean over all elements of (pred − y)².
 * - `softmax-cross-entropy`: logits [B, C], one-hot (or probability) targets [B, C];
 *   mean over the batch of −Σ_c y_c log softmax(pred)_c.
 * - `binary-cross-entropy`: logits [B, 1] or [B], 0/1 targets of the same size;
 *   mean of softplus(z) − y·z (= −y log σ(z) − (1 − y) log(1 − σ(z)), stable for any z).
 */
/** Every loss name, in a fixed order. */
export const LOSSES: readonly LossName[] = Object.freeze(['mse', 'softmax-cross-entropy', 'binary-cross-entropy'] as const);

export type LossFunction = (pred: tf.Tensor, y: tf.Tensor) => tf.Scalar;

function checkSameSize(name: string, pred: tf.Tensor, y: tf.Tensor): void {
  if (pred.size !== y.size) {
    throw new Error(`${name}: predictions of shape [${pred.shape}] and targets of shape [${y.shape}] differ in size`);
  }
}

export function mse(pred: tf.Tensor, y: tf.Tensor): tf.Scalar {
  checkSameSize('mse', pred, y);
  return tf.tidy(() => tf.mean(tf.square(tf.sub(pred, tf.reshape(y, pred.shape)))) as tf.Scalar);
}

export function softmaxCrossEntropy(logits: tf.Tensor, y: tf.Tensor): tf.Scalar {
  if (logits.rank !== 2) throw new Error(`softmax-cross-entropy: logits must be [B, C], got [${logits.shape}]`);
  checkSameSize('softmax-cross-entropy', logits, y);
  return tf.tidy(() => {
    const target = tf.reshape(y, logits.shape);
    const perExample = tf.neg(tf.sum(tf.mul(target, logSoftmax(logits, -1)), -1));
    return tf.mean(perExample) as tf.Scalar;
  });
}

export function binaryCrossEntropy(logits: tf.Tensor, y: tf.Tensor): tf.Scalar {
  if (!(logits.rank === 1 || (logits.rank === 2 && logits.shape[1] === 1))) {
    throw new Error(`binary-cross-entropy: logits must be [B] or [B, 1], got [${logits.shape}]`);
  }
  checkSameSize('binary-cross-entropy', logits, y);
  return tf.tidy(() => {
    const z = tf.reshape(logits, [-1]);
    const t = tf.reshape(y, [-1]);
    return tf.mean(tf.sub(softplus(z), tf.mul(t, z))) as tf.Scalar;
  });
}

const TABLE: Record<LossName, LossFunction> = {
  mse,
  'softmax-cross-entropy': softmaxCrossEntropy,
  'binary-cross-entropy': binaryCrossEntropy,
};

/** The loss called `name`: `(pred, y) => scalar`, a mean over the batch, differentiable to second order. */
export function lossFunction(name: LossName): LossFunction {
  const f = TABLE[name];
  if (!f) throw new Error(`Unknown loss "${String(name)}"; expected one of ${LOSSES.join(', ')}`);
  return f;
}
