import * as tf from '@tensorflow/tfjs-core';
import { activation, activationDerivatives, LOSSES, lossRules, type ActivationName } from '@goldstone/core';
import type { CurvatureProductRequest } from '@goldstone/plugin-api';

/**
 * Curvature products of a plain MLP for a block of k directions in one pass: Pearlmutter's
 * R-operator (forward-over-reverse), written directly in tensor ops so that all k directions go
 * through each layer as one large matrix product instead of k double-backprop passes.
 *
 * Layers i = 0..D: zᵢ = aᵢWᵢ + bᵢ, aᵢ₊₁ = σ(zᵢ), output o = z_D, L = ℓ(o) the mean loss. For a
 * direction (Vᵢ, cᵢ) per layer the R-forward pass is
 *   R(zᵢ) = R(aᵢ)Wᵢ + aᵢVᵢ + cᵢ,  R(aᵢ₊₁) = σ′(zᵢ) ⊙ R(zᵢ),  R(a₀) = 0,
 * then R(δ_D) = ∇²ℓ(o)·R(o) in output space (core's `lossRules`), and the R-backward pass, with
 * δᵢ = ∂L/∂zᵢ and δ′ᵢ = δᵢWᵢᵀ = ∂L/∂aᵢ,
 *   R(∇Wᵢ) = R(aᵢ)ᵀδᵢ + aᵢᵀR(δᵢ),  R(∇bᵢ) = Σ_b R(δᵢ),
 *   R(δ′ᵢ) = R(δᵢ)Wᵢᵀ + δᵢVᵢᵀ,  R(δᵢ₋₁) = R(δ′ᵢ) ⊙ σ′(zᵢ₋₁) + δ′ᵢ ⊙ σ″(zᵢ₋₁) ⊙ R(zᵢ₋₁),
 * which is H·v. The Gauss–Newton product (`ggn`) drops the terms in δ: Jᵀ ∇²ℓ J v.
 *
 * Layout: the k directions ride along the batch, `[B, k, width]`, so every product is a plain
 * 2-D matMul without transpose flags (the fast path of the wasm backend; its batched matMul is
 * ~10× slower): R(aᵢ)Wᵢ is one [B·k, in]×[in, out] product, aᵢVᵢ one [B, in+1]×[in+1, k·out]
 * product (the bias enters as a column of ones, so weights and bias are one block), and so on.
 * Memory: a few tensors of B·k·width floats per layer are alive at once.
 */

/** What the rules need from an MLP's options. */
export interface MlpCurvatureConfig {
  activation: ActivationName;
  bias: boolean;
  /** The quadratic activation z + αz² (no rules here: the products return null). */
  alpha?: 'learned' | number;
}

/**
 * `ModelInstance.curvatureProducts` for a plain MLP with widths `dims` ([in, ...hidden, out]) and
 * parameters `dense{i}.weight` [dᵢ, dᵢ₊₁] (+ `dense{i}.bias` [dᵢ₊₁]) in that order. Returns null
 * for configurations without rules (a quadratic-alpha activation) and for unknown losses.
 */
export function mlpCurvatureProducts(config: MlpCurvatureConfig, dims: readonly number[]): (request: CurvatureProductRequest) => tf.Tensor2D | null {
  const rule = config.alpha === undefined ? activationDerivatives(config.activation) : null;
  const act = activation(config.activation);
  const { bias } = config;
  const depth = dims.length - 2;
  const rows = (i: number): number => dims[i] + (bias ? 1 : 0);
  let paramCount = 0;
  for (let i = 0; i <= depth; i++) paramCount += rows(i) * dims[i + 1];

  return (request) => {
    if (!rule || !LOSSES.includes(request.loss)) return null;
    const { params, x, y, vectors } = request;
    const batch = x.shape[0];
    if (x.size !== batch * dims[0]) throw new Error(`mlp: input of shape [${x.shape}] does not match ${dims[0]} inputs per example`);
    if (vectors.rank !== 2 || vectors.shape[1] !== paramCount) {
      throw new Error(`mlp: curvature directions must be [k, ${paramCount}], got [${vectors.shape}]`);
    }
    const hessian = request.kind === 'hessian';
    const k = vectors.shape[0];
    const W = (i: number): tf.Tensor2D => params[`dense${i}.weight`] as tf.Tensor2D;
    /** `t` [B, w] as [B, 1, w], to scale a block [B, k, w]. */
    const perExample = (t: tf.Tensor): tf.Tensor => (t.rank === 0 ? t : tf.expandDims(t, 1));

    return tf.tidy(() => {
      if (k === 0) return tf.zeros([0, paramCount]) as tf.Tensor2D;
      // Forward pass, shared by the k directions (the same ops as `apply`), with σ′ and σ″.
      const a: tf.Tensor2D[] = [(x.rank === 2 ? x : tf.reshape(x, [batch, dims[0]])) as tf.Tensor2D];
      const d1: (tf.Tensor | null)[] = [];
      const d2: (tf.Tensor | null)[] = [];
      let out: tf.Tensor2D | null = null;
      for (let i = 0; i <= depth; i++) {
        let z = tf.matMul(a[i], W(i)) as tf.Tensor2D;
        if (bias) z = tf.add(z, params[`dense${i}.bias`]) as tf.Tensor2D;
        if (i < depth) {
          a.push(act(z) as tf.Tensor2D);
          const d = rule(z);
          d1.push(d.first);
          d2.push(d.second);
        } else out = z;
      }
      const lr = lossRules(request.loss, out as tf.Tensor2D, y);
      // First-order backward (Hessian only): δᵢ, and δ′ᵢ ⊙ σ″(zᵢ₋₁) where σ″ is not zero.
      const delta: tf.Tensor2D[] = [];
      const curv: (tf.Tensor | null)[] = [];
      if (hessian) {
        delta[depth] = lr.gradient() as tf.Tensor2D;
        for (let i = depth; i >= 1; i--) {
          const dp = tf.matMul(delta[i], W(i), false, true) as tf.Tensor2D;
          const s1 = d1[i - 1];
          const s2 = d2[i - 1];
          delta[i - 1] = (s1 ? tf.mul(dp, s1) : dp) as tf.Tensor2D;
          curv[i] = s2 ? tf.mul(dp, s2) : null;
        }
      }
      // Inputs with a column of ones (the bias), and their transposes.
      const aug = a.map((ai) => (bias ? (tf.concat([ai, tf.ones([batch, 1])], 1) as tf.Tensor2D) : ai));
      // Direction blocks, layer i as [k, in(+1), out]: weight rows, then the bias row.
      const V: tf.Tensor3D[] = [];
      {
        let offset = 0;
        for (let i = 0; i <= depth; i++) {
          const size = rows(i) * dims[i + 1];
          V.push(tf.reshape(tf.slice(vectors, [0, offset], [k, size]), [k, rows(i), dims[i + 1]]) as tf.Tensor3D);
          offset += size;
        }
      }
      // Layers whose block is all zero (a restricted operator, the unit columns of a dense
      // Hessian) contribute no aᵢVᵢ and no δᵢVᵢᵀ, and R(z) is zero below the first nonzero one.
      const nonzero = Array.from(tf.tidy(() => tf.stack(V.map((v) => tf.max(tf.abs(v))))).dataSync(), (m) => m !== 0);
      if (!nonzero.includes(true)) return tf.zeros([k, paramCount]) as tf.Tensor2D;

      // R-forward: Rz[i], Ra[i] as [B, k, width]; null where identically zero.
      const Rz: (tf.Tensor | null)[] = [];
      const Ra: (tf.Tensor | null)[] = [null];
      for (let i = 0; i <= depth; i++) {
        const [dIn, dOut] = [dims[i], dims[i + 1]];
        const ra = Ra[i];
        Rz[i] =
          nonzero[i] || ra
            ? tf.tidy(() => {
                let r: tf.Tensor | null = null;
                if (nonzero[i]) r = tf.matMul(aug[i], tf.reshape(tf.transpose(V[i], [1, 0, 2]), [rows(i), k * dOut]) as tf.Tensor2D);
                if (ra) {
                  const raw = tf.reshape(tf.matMul(tf.reshape(ra, [batch * k, dIn]) as tf.Tensor2D, W(i)), [batch, k * dOut]);
                  r = r ? tf.add(r, raw) : raw;
                }
                return tf.reshape(r as tf.Tensor, [batch, k, dOut]);
              })
            : null;
        if (!hessian) ra?.dispose(); // the Gauss–Newton backward needs no R(a)
        if (i < depth) {
          const rz = Rz[i];
          const s1 = d1[i];
          Ra[i + 1] = rz && s1 ? tf.mul(rz, perExample(s1)) : rz;
          if (rz && !(hessian && curv[i + 1]) && Ra[i + 1] !== rz) rz.dispose();
        }
      }

      // Output space, then the R-backward pass, last layer first.
      let Rd = lr.hessianProduct(Rz[depth] as tf.Tensor, 'batch-first');
      Rz[depth]?.dispose();
      const blocks: tf.Tensor2D[] = [];
      for (let i = depth; i >= 0; i--) {
        const [dIn, dOut] = [dims[i], dims[i + 1]];
        const rd = Rd;
        const ra = Ra[i];
        blocks[i] = tf.tidy(() => {
          // aᵢᵀR(δᵢ) for weights and bias at once: [in+1, B]×[B, k·out]
          let g: tf.Tensor = tf.reshape(tf.matMul(tf.transpose(aug[i]), tf.reshape(rd, [batch, k * dOut]) as tf.Tensor2D), [rows(i), k, dOut]);
          if (hessian && ra) {
            // R(aᵢ)ᵀδᵢ: [out, B]×[B, k·in] → [out, k, in] → [in, k, out] (no bias row)
            let s: tf.Tensor = tf.transpose(tf.reshape(tf.matMul(tf.transpose(delta[i]), tf.reshape(ra, [batch, k * dIn]) as tf.Tensor2D), [dOut, k, dIn]), [2, 1, 0]);
            if (bias) s = tf.pad(s, [[0, 1], [0, 0], [0, 0]]);
            g = tf.add(g, s);
          }
          return tf.reshape(tf.transpose(g, [1, 0, 2]), [k, rows(i) * dOut]) as tf.Tensor2D;
        });
        if (i === 0) break;
        const rzBelow = Rz[i - 1];
        Rd = tf.tidy(() => {
          let rdp: tf.Tensor = tf.reshape(tf.matMul(tf.reshape(rd, [batch * k, dOut]) as tf.Tensor2D, W(i), false, true), [batch, k, dIn]);
          if (hessian && nonzero[i]) {
            // δᵢVᵢᵀ: [B, out]×[out, k·in]
            const vw = bias ? tf.slice(V[i], [0, 0, 0], [k, dIn, dOut]) : V[i];
            const vb = tf.reshape(tf.transpose(vw, [2, 0, 1]), [dOut, k * dIn]) as tf.Tensor2D;
            rdp = tf.add(rdp, tf.reshape(tf.matMul(delta[i], vb), [batch, k, dIn]));
          }
          const s1 = d1[i - 1];
          let r = s1 ? tf.mul(rdp, perExample(s1)) : rdp;
          const c = curv[i];
          if (hessian && c && rzBelow) r = tf.add(r, tf.mul(rzBelow, perExample(c)));
          return r;
        });
        rd.dispose();
        ra?.dispose();
        rzBelow?.dispose();
      }
      Rd.dispose();
      return (depth === 0 ? blocks[0] : tf.concat(blocks, 1)) as tf.Tensor2D;
    });
  };
}
