import * as tf from '@tensorflow/tfjs-core';
import type { ActivationName } from '@goldstone/core';
import type { CurvatureProductRequest, ParamSpec } from '@goldstone/plugin-api';
import { tapeChain, tapeCurvatureProducts, type RowMap, type TapeChain, type TapeNode } from './curvature-tape';
import type { LayerEdges } from './graph-layers';

/** The structure of a gnn on one graph (`gnn.ts`): its layer edges, blocks and readout units. */
export interface GnnCurvatureStructure {
  edges: LayerEdges;
  blocks?: { ids: Int32Array; count: number };
  units: number;
}

/** What the rules need from a gnn instance (`createGnn` resolves it). */
export interface GnnCurvatureConfig {
  layer: 'gcn' | 'gin';
  hidden: readonly number[];
  features: number;
  bias: boolean;
  skip: boolean;
  learnEps: boolean;
  activation: ActivationName;
  readout: 'graph' | 'node' | 'block';
  pool: 'sum' | 'mean';
  head: TapeChain;
  /** The structure for inputs of `sites` nodes (throws for sizes the model does not take). */
  structure(sites: number, x: tf.Tensor): GnnCurvatureStructure;
}

/**
 * Curvature products of a gnn in one pass on the curvature tape. Node features are rows
 * `[N·B, F]`, node-major as in `gnn.ts`; message passing Σ_e c_e·H[s_e] → receivers is a linear
 * row map (gather over senders, scaled, segment sum over receivers) whose transpose runs the
 * edges backwards; GIN's (1 + ε)·H is a product with a learned scalar (second-order terms
 * included), the pools over nodes or blocks are row maps, and the readout permutes rows to
 * batch-major before the outputs of the units are put side by side.
 */
export function gnnCurvatureProducts(c: GnnCurvatureConfig, specs: readonly ParamSpec[]): (request: CurvatureProductRequest) => tf.Tensor2D | null {
  const F = c.features;
  return tapeCurvatureProducts('gnn', specs, (tape, x) => {
    const B = x.shape[0];
    const sites = x.size / (B * F);
    const st = c.structure(sites, x);
    const Nn = sites;
    const s = tf.tensor1d(st.edges.senders, 'int32');
    const r = tf.tensor1d(st.edges.receivers, 'int32');
    const coef = st.edges.coef ? tf.tensor2d(st.edges.coef, [st.edges.coef.length, 1], 'float32') : null;
    const along = (from: tf.Tensor1D, to: tf.Tensor1D) => (t: tf.Tensor): tf.Tensor => {
      const C = t.shape[1]!;
      let m = tf.gather(tf.reshape(t, [Nn, B * C]), from);
      if (coef) m = tf.mul(m, coef);
      return tf.reshape(tf.unsortedSegmentSum(m, to, Nn), [Nn * B, C]);
    };
    // rows are [N·B, C]: every map below reads the node axis through [N, B·C]
    const propagate: RowMap = { f: along(s, r), fT: along(r, s) };
    let H: TapeNode = tape.constant(tf.reshape(tf.transpose(tf.reshape(x, [B, Nn, F]), [1, 0, 2]), [Nn * B, F]));
    for (let i = 0; i < c.hidden.length; i++) {
      const b = c.bias ? tape.param(`gnn${i}.bias`) : undefined;
      const selfPath = (z: TapeNode): TapeNode => (c.skip ? tape.add(z, tape.dense(H, tape.param(`gnn${i}.skip`))) : z);
      if (c.layer === 'gcn') H = tape.act(selfPath(tape.dense(tape.rows(H, propagate), tape.param(`gnn${i}.weight`), b)), c.activation);
      else {
        const self = c.learnEps ? tape.scaleBy(H, tape.param(`gnn${i}.eps`), 1) : H;
        const z = tape.add(self, tape.rows(H, propagate));
        const inner = tape.act(selfPath(tape.dense(z, tape.param(`gnn${i}.weight`), b)), c.activation);
        H = tape.act(tape.dense(inner, tape.param(`gnn${i}.mlp.weight`), c.bias ? tape.param(`gnn${i}.mlp.bias`) : undefined), c.activation);
      }
    }
    if (c.readout === 'graph') {
      const poolNodes: RowMap = {
        f: (t) => {
          const C = t.shape[1]!;
          const sum = tf.sum(tf.reshape(t, [Nn, B, C]), 0);
          return c.pool === 'sum' ? sum : tf.div(sum, Nn);
        },
        fT: (u) => {
          const C = u.shape[1]!;
          const t = tf.reshape(tf.broadcastTo(tf.reshape(u, [1, B, C]), [Nn, B, C]), [Nn * B, C]);
          return c.pool === 'sum' ? t : tf.div(t, Nn);
        },
      };
      return tapeChain(tape, c.head, tape.rows(H, poolNodes));
    }
    const U = st.units;
    let P = H;
    if (c.readout === 'block') {
      const ids = tf.tensor1d(st.blocks!.ids, 'int32');
      const per = Nn / U;
      const poolBlocks: RowMap = {
        f: (t) => {
          const C = t.shape[1]!;
          const sum = tf.reshape(tf.unsortedSegmentSum(tf.reshape(t, [Nn, B * C]), ids, U), [U * B, C]);
          return c.pool === 'sum' ? sum : tf.div(sum, per);
        },
        fT: (u) => {
          const C = u.shape[1]!;
          const t = tf.reshape(tf.gather(tf.reshape(u, [U, B * C]), ids), [Nn * B, C]);
          return c.pool === 'sum' ? t : tf.div(t, per);
        },
      };
      P = tape.rows(H, poolBlocks);
    }
    // unit-major [U·B, k] → batch-major [B·U, k], then the units side by side: [B, U·k]
    const swap = (a: number, b: number) => (t: tf.Tensor): tf.Tensor => {
      const C = t.shape[1]!;
      return tf.reshape(tf.transpose(tf.reshape(t, [a, b, C]), [1, 0, 2]), [a * b, C]);
    };
    const out = tape.rows(tapeChain(tape, c.head, P), { f: swap(U, B), fT: swap(B, U) });
    return tape.mergeRows(out, U);
  });
}
