import * as tf from '@tensorflow/tfjs-core';
import type { LossName } from '@goldstone/plugin-api';

/**
 * Output-space rules of the losses of `./losses` for R-operator passes (curvature products of a
 * block of directions in one pass): the gradient of the mean loss L with respect to the
 * predictions, and products of its Hessian in output space with a block of output directions.
 * Plain tensor ops, not differentiable to second order (nothing differentiates through them).
 *
 * With the definitions of `./losses` (B examples, `pred` [B, out]):
 * - `mse`, L = mean over all B·out elements of (pred − y)²: ∇L = 2(pred − y)/(B·out), ∇²L·u = 2u/(B·out).
 * - `softmax-cross-entropy`, L = (1/B) Σ_b −Σ_c y_bc log softmax(pred_b)_c, with s_b = Σ_c y_bc
 *   (1 for one-hot or probability targets): ∇L = (s_b·p_b − y_b)/B,
 *   ∇²L·u = (s_b/B)·(diag(p_b) − p_b p_bᵀ)u_b, per example, p = softmax(pred).
 * - `binary-cross-entropy`, L = mean of softplus(z) − y·z over the B logits:
 *   ∇L = (σ(z) − y)/B, ∇²L·u = σ(z)(1 − σ(z))·u/B.
 */
export interface LossRules {
  /** ∂L/∂pred, the shape of `pred`. */
  gradient(): tf.Tensor;
  /**
   * (∇²_pred L)·u for a block of k output directions, as a new tensor of u's shape. `layout`
   * says where the block axis is: `block-first` (default), u is [k, ...pred.shape]; `batch-first`,
   * u is [B, k, ...pred.shape.slice(1)].
   */
  hessianProduct(u: tf.Tensor, layout?: DirectionLayout): tf.Tensor;
  /** Release the per-example statistics kept for the products (a no-op inside `tf.tidy`, which does it). */
  dispose(): void;
}

/** Where the block axis of k directions sits: before the batch axis, or right after it. */
export type DirectionLayout = 'block-first' | 'batch-first';

/** `t` ([B, ...rest]) reshaped to broadcast against a block of directions in `layout`. */
function forBlock(t: tf.Tensor, layout: DirectionLayout): tf.Tensor {
  return layout === 'block-first' ? tf.expandDims(t, 0) : tf.expandDims(t, 1);
}

function checkBlock(name: string, pred: tf.Tensor, u: tf.Tensor, layout: DirectionLayout): void {
  const expected = layout === 'block-first' ? [u.shape[0], ...pred.shape] : [pred.shape[0], u.shape[1], ...pred.shape.slice(1)];
  if (u.rank !== pred.rank + 1 || u.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`${name}: directions of shape [${u.shape}] do not match predictions [${pred.shape}] in the ${layout} layout`);
  }
}

/**
 * The output-space rules of loss `name` at predictions `pred` and targets `y` (same sizes as the
 * loss itself accepts). The per-example statistics (softmax probabilities, σ(1 − σ)) are computed
 * once here and shared by every product; they live in the calling scope (`tf.tidy`) or until
 * `dispose()`.
 */
export function lossRules(name: LossName, pred: tf.Tensor, y: tf.Tensor): LossRules {
  if (pred.size !== y.size) {
    throw new Error(`${name}: predictions of shape [${pred.shape}] and targets of shape [${y.shape}] differ in size`);
  }
  const batch = pred.shape[0];
  switch (name) {
    case 'mse': {
      const c = 2 / pred.size;
      return {
        gradient: () => tf.tidy(() => tf.mul(tf.sub(pred, tf.reshape(y, pred.shape)), c)),
        hessianProduct: (u, layout = 'block-first') => {
          checkBlock(name, pred, u, layout);
          return tf.mul(u, c);
        },
        dispose: () => {},
      };
    }
    case 'softmax-cross-entropy': {
      if (pred.rank !== 2) throw new Error(`softmax-cross-entropy: logits must be [B, C], got [${pred.shape}]`);
      const target = tf.reshape(y, pred.shape);
      const p = tf.softmax(pred, -1);
      const mass = tf.sum(target, -1, true); // s_b, [B, 1]
      const q = tf.tidy(() => tf.mul(p, tf.div(mass, batch))); // (s_b/B)·p_b
      return {
        gradient: () => tf.tidy(() => tf.div(tf.sub(tf.mul(p, mass), target), batch)),
        // (s/B)(diag(p) − ppᵀ)u = q ⊙ (u − Σ_c p_c u_c)
        hessianProduct: (u, layout = 'block-first') => {
          checkBlock(name, pred, u, layout);
          return tf.tidy(() => {
            const pu = tf.sum(tf.mul(u, forBlock(p, layout)), -1, true);
            return tf.mul(forBlock(q, layout), tf.sub(u, pu));
          });
        },
        dispose: () => tf.dispose([target, p, mass, q]),
      };
    }
    case 'binary-cross-entropy': {
      if (!(pred.rank === 1 || (pred.rank === 2 && pred.shape[1] === 1))) {
        throw new Error(`binary-cross-entropy: logits must be [B] or [B, 1], got [${pred.shape}]`);
      }
      const s = tf.sigmoid(pred);
      const curv = tf.tidy(() => tf.div(tf.mul(s, tf.sub(1, s)), batch)); // σ(1 − σ)/B
      return {
        gradient: () => tf.tidy(() => tf.div(tf.sub(s, tf.reshape(y, pred.shape)), batch)),
        hessianProduct: (u, layout = 'block-first') => {
          checkBlock(name, pred, u, layout);
          return tf.tidy(() => tf.mul(u, forBlock(curv, layout)));
        },
        dispose: () => tf.dispose([s, curv]),
      };
    }
    default:
      throw new Error(`Unknown loss "${String(name)}"; expected mse, softmax-cross-entropy or binary-cross-entropy`);
  }
}
