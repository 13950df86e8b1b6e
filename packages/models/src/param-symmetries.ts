import * as tf from '@tensorflow/tfjs-core';
import { sizeOf, type ActivationName } from '@goldstone/core';
import type { ParamSpec, ParamSymmetry, Params } from '@goldstone/plugin-api';

/** Where each named parameter starts in the flat parameter vector (the order of `specs`). */
export class FlatLayout {
  readonly offsets = new Map<string, number>();
  readonly shapes = new Map<string, number[]>();
  readonly paramCount: number;

  constructor(specs: readonly ParamSpec[]) {
    let o = 0;
    for (const s of specs) {
      this.offsets.set(s.name, o);
      this.shapes.set(s.name, [...s.shape]);
      o += sizeOf(s.shape);
    }
    this.paramCount = o;
  }

  offset(name: string): number {
    const o = this.offsets.get(name);
    if (o === undefined) throw new Error(`no parameter "${name}" in the layout`);
    return o;
  }
}

/**
 * A hidden space of `width` channels between two linear maps. `ins` are parameters whose *last*
 * axis is the channel axis (incoming weights `[.., width]`, biases `[width]`, embeddings
 * `[n, width]`); `outs` are parameters whose *rows* `rowOffset … rowOffset + width − 1` are the
 * channel axis (outgoing weights `[rows, c]`). `factor` scales the tangent of each `in` (default
 * 1: for a parameter p = raw², a channel scaling e^t of p is e^(t/2) of raw, factor ½).
 */
export interface ChannelLink {
  width: number;
  ins: { name: string; factor?: number }[];
  outs: { name: string; rowOffset?: number; factor?: number }[];
}

/**
 * Degree of positive homogeneity act(a·x) = a^k·act(x) (a > 0): relu and leaky-relu 1,
 * quadratic 2 (x² is homogeneous of degree 2 for every real a). Others have none.
 */
export function homogeneityDegree(act: ActivationName): number | undefined {
  if (act === 'relu' || act === 'leaky-relu') return 1;
  if (act === 'quadratic') return 2;
  return undefined;
}

/**
 * Tangent of the channel transform h → h·M at M = I + t·K across one link: the incoming side
 * changes by X·K on its channel axis, the outgoing side by −K·Y on its channel rows. With
 * `outScale` k the outgoing change is −k·K·Y (a degree-k homogeneous activation between them,
 * for diagonal K).
 */
function linkTangent(
  values: Map<string, Float32Array | Int32Array | Uint8Array>,
  layout: FlatLayout,
  link: ChannelLink,
  K: (a: number, b: number) => number,
  nonzero: [number, number][],
  outScale: number,
): Float32Array {
  const d = new Float32Array(layout.paramCount);
  const w = link.width;
  for (const p of link.ins) {
    const v = values.get(p.name)!;
    const off = layout.offset(p.name);
    const f = p.factor ?? 1;
    const rows = v.length / w;
    // δX[r, b] = Σ_a X[r, a] K[a, b]
    for (const [a, b] of nonzero) {
      const k = K(a, b) * f;
      for (let r = 0; r < rows; r++) d[off + r * w + b] += k * v[r * w + a];
    }
  }
  for (const p of link.outs) {
    const v = values.get(p.name)!;
    const off = layout.offset(p.name);
    const shape = layout.shapes.get(p.name)!;
    const cols = shape.length === 1 ? 1 : v.length / shape[0];
    const r0 = p.rowOffset ?? 0;
    const f = (p.factor ?? 1) * outScale;
    // δY[a, :] = −Σ_b K[a, b] Y[b, :]
    for (const [a, b] of nonzero) {
      const k = K(a, b) * f;
      for (let c = 0; c < cols; c++) d[off + (r0 + a) * cols + c] -= k * v[(r0 + b) * cols + c];
    }
  }
  return d;
}

function readValues(params: Params, links: readonly ChannelLink[]): Map<string, Float32Array | Int32Array | Uint8Array> {
  const values = new Map<string, Float32Array | Int32Array | Uint8Array>();
  for (const l of links) {
    for (const p of [...l.ins, ...l.outs]) {
      if (!values.has(p.name)) {
        const t = params[p.name];
        if (!t) throw new Error(`symmetries: missing parameter "${p.name}"`);
        values.set(p.name, t.dataSync());
      }
    }
  }
  return values;
}

/** One rescaling direction per channel of every link (tangent of h_j → e^t h_j). */
export function rescalingDirections(params: Params, layout: FlatLayout, links: readonly ChannelLink[], degree = 1): tf.Tensor1D[] {
  const values = readValues(params, links);
  const out: tf.Tensor1D[] = [];
  for (const l of links) {
    for (let j = 0; j < l.width; j++) {
      out.push(tf.tensor1d(linkTangent(values, layout, l, () => 1, [[j, j]], degree), 'float32'));
    }
  }
  return out;
}

/**
 * Directions of the general linear group acting on each link's channel space (for spaces the
 * function only sees through linear maps): `rotation` gives the width·(width−1)/2 antisymmetric
 * generators E_ab − E_ba, `symmetric` the width·(width+1)/2 symmetric ones (scalings and shears).
 */
export function linearGroupDirections(
  params: Params,
  layout: FlatLayout,
  links: readonly ChannelLink[],
  part: 'rotation' | 'symmetric',
): tf.Tensor1D[] {
  const values = readValues(params, links);
  const out: tf.Tensor1D[] = [];
  for (const l of links) {
    for (let a = 0; a < l.width; a++) {
      for (let b = part === 'rotation' ? a + 1 : a; b < l.width; b++) {
        const sign = part === 'rotation' ? -1 : 1;
        const K = (i: number, k: number): number => (i === a && k === b ? 1 : i === b && k === a ? sign : 0);
        const nz: [number, number][] = a === b ? [[a, a]] : [[a, b], [b, a]];
        out.push(tf.tensor1d(linkTangent(values, layout, l, K, nz, 1), 'float32'));
      }
    }
  }
  return out;
}

/**
 * The continuous symmetries of hidden spaces behind an elementwise activation: per-channel
 * rescaling for positively homogeneous activations (relu, leaky-relu, quadratic), the whole linear
 * group for the identity. Nothing for the others.
 */
export function hiddenSymmetries(act: ActivationName, params: Params, layout: FlatLayout, links: readonly ChannelLink[]): ParamSymmetry[] {
  if (links.length === 0) return [];
  const degree = homogeneityDegree(act);
  if (degree !== undefined) return [{ name: act === 'quadratic' ? 'quadratic-rescaling' : 'relu-rescaling', directions: rescalingDirections(params, layout, links, degree) }];
  if (act === 'identity') {
    return [
      { name: 'linear-rotation', directions: linearGroupDirections(params, layout, links, 'rotation') },
      { name: 'linear-scaling-shear', directions: linearGroupDirections(params, layout, links, 'symmetric') },
    ];
  }
  return [];
}
