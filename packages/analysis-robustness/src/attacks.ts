import * as tf from '@tensorflow/tfjs-core';
import { logSoftmax, softplus } from '@goldstone/core';
import type { LossName, ModelInstance, Params, Rng } from '@goldstone/plugin-api';
import { confine, type InputDomain } from './domain';

/** The task loss of every example separately (shape [B]); its mean is core's `lossFunction(loss)`. */
export function perExampleLoss(loss: LossName, pred: tf.Tensor, y: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const b = pred.shape[0];
    if (loss === 'mse') return tf.mean(tf.reshape(tf.square(tf.sub(pred, tf.reshape(y, pred.shape))), [b, -1]), 1) as tf.Tensor1D;
    if (loss === 'binary-cross-entropy') {
      const z = tf.reshape(pred, [b]);
      return tf.sub(softplus(z), tf.mul(tf.reshape(y, [b]), z)) as tf.Tensor1D;
    }
    return tf.neg(tf.sum(tf.mul(tf.reshape(y, pred.shape), logSoftmax(pred, -1)), -1)) as tf.Tensor1D;
  });
}

/** What an attack needs: the model at its trained parameters, the loss it ascends, the domain. */
export interface AttackTarget {
  model: ModelInstance;
  params: Params;
  loss: LossName;
  domain: InputDomain;
  /**
   * The task's input mask of the attacked batch (x's shape, 1 on real values, 0 on padding), or
   * none: every step is multiplied by it and padding is never clipped, so attacks move real values only.
   */
  mask?: tf.Tensor | null;
}

/** `step` on real values only (times the target's mask), or unchanged without a mask. */
function masked(target: AttackTarget, step: tf.Tensor): tf.Tensor {
  return target.mask ? tf.mul(step, target.mask) : step;
}

/** ∇ₓ of the summed per-example loss (each row is that example's own input gradient). */
export function inputGradient(target: AttackTarget, x: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const f = (xx: tf.Tensor) => tf.sum(perExampleLoss(target.loss, target.model.apply(target.params, xx), y));
    return tf.grad(f)(x);
  });
}

/**
 * Fast gradient sign method: x' = clip(x + ε·sign(∇ₓℓ(x, y))), the loss-maximising step of the
 * first-order model of the loss inside the ℓ∞ ball of radius ε. For a model linear in x it is the
 * exact worst case. With a mask, only real values move. Returns a new tensor.
 */
export function fgsm(target: AttackTarget, x: tf.Tensor, y: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const g = inputGradient(target, x, y);
    return confine(x, tf.add(x, masked(target, tf.mul(tf.sign(g), eps))), target.domain, target.mask);
  });
}

export interface PgdOptions {
  /** Gradient-sign steps per restart. */
  steps: number;
  /** Step size (default ε/4). */
  stepSize?: number;
  /** Random starts; each example keeps the iterate of highest loss over all of them. */
  restarts: number;
  rng: Rng;
}

/**
 * Projected gradient descent (Madry et al.) in the ℓ∞ ball of radius ε: a uniform random start in
 * the ball, then `steps` steps x ← Π(x + α·sign(∇ₓℓ)) with α = ε/4 by default, projecting onto the
 * ball and the input domain after each. Every example keeps its highest-loss iterate (over all
 * steps and restarts). With a mask, the start, the steps and the projections move real values only.
 * Returns a new tensor.
 */
export function pgd(target: AttackTarget, x: tf.Tensor, y: tf.Tensor, eps: number, opts: PgdOptions): tf.Tensor {
  const alpha = opts.stepSize ?? eps / 4;
  const lossOf = (xx: tf.Tensor) => tf.tidy(() => perExampleLoss(target.loss, target.model.apply(target.params, xx), y));
  const b = x.shape[0];
  const bcast = (mask: tf.Tensor) => tf.broadcastTo(tf.reshape(mask, [b, ...x.shape.slice(1).map(() => 1)]), x.shape);
  let best = tf.clone(x);
  let bestLoss = lossOf(x);
  const lo = tf.sub(x, eps);
  const hi = tf.add(x, eps);
  try {
    for (let r = 0; r < opts.restarts; r++) {
      const noise = opts.rng.split(`restart:${r}`).uniformArray(x.size, -eps, eps);
      let cur = tf.tidy(() => confine(x, tf.add(x, masked(target, tf.tensor(noise, x.shape, 'float32'))), target.domain, target.mask));
      for (let s = 0; s <= opts.steps; s++) {
        if (s > 0) {
          const next = tf.tidy(() => {
            const g = inputGradient(target, cur, y);
            const stepped = tf.minimum(tf.maximum(tf.add(cur, masked(target, tf.mul(tf.sign(g), alpha))), lo), hi);
            return confine(x, stepped, target.domain, target.mask);
          });
          cur.dispose();
          cur = next;
        }
        const l = lossOf(cur);
        const [nb, nl] = tf.tidy(() => {
          const better = tf.greater(l, bestLoss);
          return [tf.where(bcast(better), cur, best), tf.where(better, l, bestLoss)];
        });
        tf.dispose([l, best, bestLoss]);
        best = nb;
        bestLoss = nl as tf.Tensor1D;
      }
      cur.dispose();
    }
    return best;
  } finally {
    tf.dispose([bestLoss, lo, hi]);
  }
}
