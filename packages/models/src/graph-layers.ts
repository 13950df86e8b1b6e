import * as tf from '@tensorflow/tfjs-core';
import { degrees, type Graph } from './graph';

/**
 * Message passing on node-major features `H` of shape `[N, B, F]` (nodes first, so that one
 * `gather` over senders and one `unsortedSegmentSum` over receivers do a whole batch):
 * out[i] = Σ_{e: s_e → i} c_e · H[s_e]. Both ops have gradients that are themselves
 * differentiable (gather ↔ segment sum), so the layers are correct at second order; on wasm they
 * need core's `UnsortedSegmentSum` kernel (installed by `initBackend('wasm')`).
 */
export function propagate(H: tf.Tensor, senders: tf.Tensor1D, receivers: tf.Tensor1D, nodes: number, coef?: tf.Tensor): tf.Tensor {
  const [N, B, F] = H.shape;
  const flat = tf.reshape(H, [N, B * F]);
  let msgs = tf.gather(flat, senders);
  if (coef) msgs = tf.mul(msgs, coef);
  return tf.reshape(tf.unsortedSegmentSum(msgs, receivers, nodes), [nodes, B, F]);
}

/** The same dense map on every node: `[N, B, F]` · `[F, F′]` (+ b) → `[N, B, F′]`. */
export function nodeDense(H: tf.Tensor, W: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const [N, B, F] = H.shape;
  let z = tf.matMul(tf.reshape(H, [N * B, F]) as tf.Tensor2D, W as tf.Tensor2D) as tf.Tensor;
  if (b) z = tf.add(z, b);
  return tf.reshape(z, [N, B, W.shape[1]!]);
}

/** Host-side edge lists of a graph for the layers (plain arrays: the graph stays a plain value). */
export interface LayerEdges {
  senders: Int32Array;
  receivers: Int32Array;
  /** Per-edge coefficient, or none for a plain sum. */
  coef?: Float32Array;
}

/**
 * GCN propagation (Kipf & Welling): Â = D̃^(−1/2) (A + I) D̃^(−1/2), with D̃ the degrees counting
 * the self-loop. Returned as edges with self-loops and coefficients 1/√(d̃_s d̃_r).
 */
export function gcnEdges(graph: Graph): LayerEdges {
  const d = degrees(graph);
  const E = graph.senders.length;
  const n = graph.nodes;
  const senders = new Int32Array(E + n);
  const receivers = new Int32Array(E + n);
  const coef = new Float32Array(E + n);
  for (let e = 0; e < E; e++) {
    senders[e] = graph.senders[e];
    receivers[e] = graph.receivers[e];
    coef[e] = 1 / Math.sqrt((d[graph.senders[e]] + 1) * (d[graph.receivers[e]] + 1));
  }
  for (let i = 0; i < n; i++) {
    senders[E + i] = i;
    receivers[E + i] = i;
    coef[E + i] = 1 / (d[i] + 1);
  }
  return { senders, receivers, coef };
}

/** GIN neighbourhood sum (no self-loops, unit coefficients). */
export function ginEdges(graph: Graph): LayerEdges {
  return { senders: graph.senders, receivers: graph.receivers };
}

/** Propagate with host edges (index tensors made and freed inside the caller's tidy). */
export function propagateEdges(H: tf.Tensor, edges: LayerEdges, nodes: number): tf.Tensor {
  const s = tf.tensor1d(edges.senders, 'int32');
  const r = tf.tensor1d(edges.receivers, 'int32');
  const c = edges.coef ? tf.tensor2d(edges.coef, [edges.coef.length, 1], 'float32') : undefined;
  return propagate(H, s, r, nodes, c);
}

/** GCN layer: act(Â·H·W + b), plus a self path H·S inside the activation when `skip` is given. */
export function gcnLayer(H: tf.Tensor, edges: LayerEdges, nodes: number, W: tf.Tensor, b: tf.Tensor | undefined, act: (x: tf.Tensor) => tf.Tensor, skip?: tf.Tensor): tf.Tensor {
  const z = nodeDense(propagateEdges(H, edges, nodes), W, b);
  return act(skip ? tf.add(z, nodeDense(H, skip)) : z);
}

/**
 * GIN layer (Xu et al.): act(act(((1 + ε)·H + Σ_neighbours H)·W₁ + b₁)·W₂ + b₂), a two-layer MLP
 * on the sum aggregate; `eps` a `[1]` tensor (learned or fixed). With `skip`, a self path H·S is
 * added to the inner pre-activation: act(act(z·W₁ + H·S + b₁)·W₂ + b₂).
 */
export function ginLayer(
  H: tf.Tensor,
  edges: LayerEdges,
  nodes: number,
  eps: tf.Tensor | number,
  W1: tf.Tensor,
  b1: tf.Tensor | undefined,
  W2: tf.Tensor,
  b2: tf.Tensor | undefined,
  act: (x: tf.Tensor) => tf.Tensor,
  skip?: tf.Tensor,
): tf.Tensor {
  const self = tf.mul(H, typeof eps === 'number' ? 1 + eps : tf.add(eps, 1));
  const z = tf.add(self, propagateEdges(H, edges, nodes));
  const inner = nodeDense(z, W1, b1);
  return act(nodeDense(act(skip ? tf.add(inner, nodeDense(H, skip)) : inner), W2, b2));
}

/** Sum or mean over the node axis of `[N, B, F]` → `[B, F]`. */
export function poolNodes(H: tf.Tensor, pool: 'sum' | 'mean'): tf.Tensor {
  return pool === 'sum' ? tf.sum(H, 0) : tf.mean(H, 0);
}

/** Sum or mean within blocks (`ids[node]` in 0..count−1, equal block sizes): `[N, B, F]` → `[count, B, F]`. */
export function poolBlocks(H: tf.Tensor, ids: Int32Array, count: number, pool: 'sum' | 'mean'): tf.Tensor {
  const [N, B, F] = H.shape;
  const idx = tf.tensor1d(ids, 'int32');
  const s = tf.reshape(tf.unsortedSegmentSum(tf.reshape(H, [N, B * F]), idx, count), [count, B, F]);
  return pool === 'sum' ? s : tf.div(s, N / count);
}
