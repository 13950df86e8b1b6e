import * as tf from '@tensorflow/tfjs-core';
import type { ActivationName } from '@goldstone/core';
import type { CurvatureProductRequest, ParamSpec } from '@goldstone/plugin-api';
import { tapeChain, tapeCurvatureProducts, type RowMap, type TapeChain, type TapeNode } from './curvature-tape';

/** What the rules need from a deep-sets instance (`createDeepSets` resolves it). */
export interface DeepSetsCurvatureConfig {
  elements: number;
  features: number;
  /** The channels φ sees (all without a weight channel). */
  channels: Int32Array | null;
  weightChannel?: number;
  /** Widths [F′, ...equivariant]. */
  equivariant: readonly number[];
  phi: TapeChain;
  rho: TapeChain;
  pool: 'sum' | 'mean';
  readout: 'set' | 'element';
  mask: 'none' | 'nonzero';
  activation: ActivationName;
  bias: boolean;
}

/**
 * Curvature products of deep sets in one pass on the curvature tape. Elements are rows
 * ([B·N, C], set-major); the mask, the 1/count of the mean pool and the energy-flow weights are
 * data (no tangent), so masked pooling, its broadcast back to the elements and the masking of
 * padded elements are linear row maps whose transposes carry δ and R(δ) back; φ and ρ are dense
 * chains, an equivariant layer is act(hΛ + b + broadcast(pool(h)Γ)) ⊙ mask.
 */
export function deepSetsCurvatureProducts(c: DeepSetsCurvatureConfig, specs: readonly ParamSpec[]): (request: CurvatureProductRequest) => tf.Tensor2D | null {
  const N = c.elements;
  const F = c.features;
  return tapeCurvatureProducts('deep-sets', specs, (tape, x) => {
    const B = x.shape[0];
    if (x.size !== B * N * F) throw new Error(`deep-sets: input of shape [${x.shape}] does not match [${N}, ${F}] per example`);
    const x3 = tf.reshape(x, [B, N, F]);
    const mask = c.mask === 'none' ? tf.ones([B * N, 1]) : tf.reshape(tf.cast(tf.notEqual(tf.sum(tf.abs(x3), -1, true), 0), 'float32'), [B * N, 1]);
    const invCount = tf.div(1, tf.maximum(tf.sum(tf.reshape(mask, [B, N]), 1, true), 1)); // [B, 1]
    const weights = c.weightChannel === undefined ? null : tf.reshape(tf.slice(x3, [0, 0, c.weightChannel], [B, N, 1]), [B * N, 1]);
    const scale = (factor: tf.Tensor): RowMap => ({ f: (t) => tf.mul(t, factor), fT: (t) => tf.mul(t, factor) });
    const pool = (factor: tf.Tensor): RowMap => ({
      f: (t) => {
        const s = tf.sum(tf.reshape(tf.mul(t, factor), [B, N, t.shape[1]!]), 1);
        return c.pool === 'sum' ? s : tf.mul(s, invCount);
      },
      fT: (u) => {
        const C = u.shape[1]!;
        const v = c.pool === 'sum' ? u : tf.mul(u, invCount);
        return tf.mul(tf.reshape(tf.broadcastTo(tf.reshape(v, [B, 1, C]), [B, N, C]), [B * N, C]), factor);
      },
    });
    const broadcast: RowMap = {
      f: (u) => {
        const C = u.shape[1]!;
        return tf.reshape(tf.broadcastTo(tf.reshape(u, [B, 1, C]), [B, N, C]), [B * N, C]);
      },
      fT: (t) => tf.sum(tf.reshape(t, [B, N, t.shape[1]!]), 1),
    };

    const seen = c.channels ? tf.gather(x3, tf.tensor1d(c.channels, 'int32'), 2) : x3;
    let h: TapeNode = tape.constant(tf.reshape(seen, [B * N, c.equivariant[0]]));
    for (let i = 0; i + 1 < c.equivariant.length; i++) {
      const own = tape.dense(h, tape.param(`eq${i}.lambda`), c.bias ? tape.param(`eq${i}.bias`) : undefined);
      const pooled = tape.rows(tape.dense(tape.rows(h, pool(mask)), tape.param(`eq${i}.gamma`)), broadcast);
      h = tape.rows(tape.act(tape.add(own, pooled), c.activation), scale(mask));
    }
    h = tapeChain(tape, c.phi, h);
    const present = weights ? tf.mul(weights, mask) : mask;
    if (c.readout === 'set') return tapeChain(tape, c.rho, tape.rows(h, pool(present)));
    return tape.mergeRows(tape.rows(tapeChain(tape, c.rho, h), scale(present)), N);
  });
}
