import * as tf from '@tensorflow/tfjs-core';
import { activation as activationOf, activationDerivatives, LOSSES, lossRules, sizeOf, type ActivationName } from '@goldstone/core';
import type { CurvatureProductRequest, ParamSpec, Params } from '@goldstone/plugin-api';

/**
 * Curvature products for a block of k directions in one pass, for models built from a few layer
 * kinds: a small forward-over-reverse tape (Pearlmutter's R-operator, as `mlp-curvature.ts` does
 * for the plain MLP) whose ops each know their local rules. A model's `curvatureProducts` records
 * its forward pass on the tape (`dense`, `act`, row-linear maps such as pooling and message
 * passing, lookups, products, …); the driver then runs, for all k directions at once,
 *
 * 1. the first-order backward pass δ = ∂L/∂node (Hessian only: the second-order terms need it),
 * 2. the R-forward pass R(node) = J·v, tangents stacked along the rows: `[M, k, w]`,
 * 3. R(δ_out) = ∇²ℓ(o)·R(o) in output space (core's `lossRules`),
 * 4. the R-backward pass: every op maps R(δ) of its output to R(δ) of its inputs with its
 *    transposed Jacobian plus, for the Hessian, its second-order terms contracted with δ and the
 *    inputs' tangents; the parameters' R(δ) is the block H·V (or, dropping the second-order
 *    terms, the Gauss–Newton block Jᵀ∇²ℓJ·V).
 *
 * Layouts: an activation node is rows `[M, w]` with tangent and R(δ) `[M, k, w]` (every product
 * is one 2-D matMul of M·k rows); a parameter-side node (a parameter, or a transform of one such
 * as the effective weight raw²) has the parameter's shape with tangent and R(δ) `[k, ...shape]`.
 * A direction block that is all zero for a parameter contributes nothing (its tangent is null),
 * so unit columns of a dense Hessian skip the layers below them.
 */

/** A value on the tape. */
export interface TapeNode {
  readonly id: number;
  readonly value: tf.Tensor;
  /** Input data and what is computed from data alone: no tangent, no δ. */
  readonly constant: boolean;
  /** The parameter's name, for a parameter leaf. */
  readonly param?: string;
}

type Maybe = tf.Tensor | null;

interface TapeOp {
  inputs: TapeNode[];
  output: TapeNode;
  /** δ of the inputs marked in `need`, from δ of the output. */
  vjp(d: tf.Tensor, need: boolean[]): Maybe[];
  /** R(output) from the inputs' tangents (null: all zero). */
  jvp(t: Maybe[]): Maybe;
  /** R(δ) of the inputs marked in `need` from R(δ) of the output; with `d` (δ of the output) the second-order terms too. */
  rvjp(rd: Maybe, d: Maybe, t: Maybe[], need: boolean[]): Maybe[];
}

const addMaybe = (a: Maybe, b: Maybe): Maybe => (a && b ? tf.add(a, b) : a ?? b);
/** `t` [M, w] to broadcast against a block [M, k, w] (a scalar stays one). */
const perRow = (t: tf.Tensor): tf.Tensor => (t.rank === 0 ? t : tf.expandDims(t, 1));
/** A scalar parameter's block [k, 1] to broadcast against [M, k, w]. */
const perDirection = (v: tf.Tensor, k: number): tf.Tensor => tf.reshape(v, [1, k, 1]);
/** Sum of a block [M, k, w] over rows and columns: [k, 1]. */
const sumToScalarBlock = (t: tf.Tensor, k: number): tf.Tensor => tf.reshape(tf.sum(t, [0, 2]), [k, 1]);

/**
 * A map on rows that is linear, parameter-free and acts alike on every column: `f` takes
 * `[M, C]` to `[M′, C]` for any C (pooling, broadcasting, message passing, masks, row
 * permutations), `fT` is its transpose `[M′, C]` → `[M, C]`.
 */
export interface RowMap {
  f(t: tf.Tensor): tf.Tensor;
  fT(t: tf.Tensor): tf.Tensor;
}

export class CurvatureTape {
  readonly ops: TapeOp[] = [];
  private count = 0;
  private readonly leaves = new Map<string, TapeNode>();

  constructor(
    readonly params: Params,
    /** Number of directions in the block. */
    readonly k: number,
  ) {}

  private node(value: tf.Tensor, constant: boolean, param?: string): TapeNode {
    return { id: this.count++, value, constant, ...(param !== undefined ? { param } : {}) };
  }

  private record(inputs: TapeNode[], value: tf.Tensor, rules: Omit<TapeOp, 'inputs' | 'output'>): TapeNode {
    const output = this.node(value, inputs.every((n) => n.constant));
    this.ops.push({ inputs, output, ...rules });
    return output;
  }

  /** Data (or anything computed from data alone). */
  constant(value: tf.Tensor): TapeNode {
    return this.node(value, true);
  }

  /** The parameter `name` (one leaf per name). */
  param(name: string): TapeNode {
    let leaf = this.leaves.get(name);
    if (!leaf) {
      const value = this.params[name];
      if (!value) throw new Error(`curvature tape: no parameter ${name}`);
      leaf = this.node(value, false, name);
      this.leaves.set(name, leaf);
    }
    return leaf;
  }

  /** Rows `a` [M, in] times a weight node [in, out] (+ a bias [out]). */
  dense(a: TapeNode, W: TapeNode, b?: TapeNode): TapeNode {
    const k = this.k;
    const av = a.value as tf.Tensor2D;
    const Wv = W.value as tf.Tensor2D;
    const [M, dIn] = av.shape;
    const dOut = Wv.shape[1];
    let z: tf.Tensor = tf.matMul(av, Wv);
    if (b) z = tf.add(z, b.value);
    return this.record(b ? [a, W, b] : [a, W], z, {
      vjp: (d, need) => [
        need[0] ? tf.matMul(d as tf.Tensor2D, Wv, false, true) : null,
        need[1] ? tf.matMul(tf.transpose(av), d as tf.Tensor2D) : null,
        null,
      ],
      jvp: ([ra, vw, vb]) => {
        let r: Maybe = null;
        if (vw) r = tf.reshape(tf.matMul(av, tf.reshape(tf.transpose(vw, [1, 0, 2]), [dIn, k * dOut]) as tf.Tensor2D), [M, k, dOut]);
        if (ra) r = addMaybe(r, tf.reshape(tf.matMul(tf.reshape(ra, [M * k, dIn]) as tf.Tensor2D, Wv), [M, k, dOut]));
        if (vb) r = r ? tf.add(r, tf.reshape(vb, [1, k, dOut])) : tf.broadcastTo(tf.reshape(vb, [1, k, dOut]), [M, k, dOut]);
        return r;
      },
      rvjp: (rd, d, [ra, vw], need) => {
        let rA: Maybe = null;
        let rW: Maybe = null;
        let rB: Maybe = null;
        if (need[0]) {
          if (rd) rA = tf.reshape(tf.matMul(tf.reshape(rd, [M * k, dOut]) as tf.Tensor2D, Wv, false, true), [M, k, dIn]);
          // δ·Vᵀ: [M, out]×[out, k·in]
          if (d && vw) rA = addMaybe(rA, tf.reshape(tf.matMul(d as tf.Tensor2D, tf.reshape(tf.transpose(vw, [2, 0, 1]), [dOut, k * dIn]) as tf.Tensor2D), [M, k, dIn]));
        }
        if (need[1]) {
          // aᵀR(δ): [in, M]×[M, k·out] → [k, in, out]
          if (rd) rW = tf.transpose(tf.reshape(tf.matMul(tf.transpose(av), tf.reshape(rd, [M, k * dOut]) as tf.Tensor2D), [dIn, k, dOut]), [1, 0, 2]);
          // R(a)ᵀδ: [out, M]×[M, k·in] → [out, k, in] → [k, in, out]
          if (d && ra) rW = addMaybe(rW, tf.transpose(tf.reshape(tf.matMul(tf.transpose(d), tf.reshape(ra, [M, k * dIn]) as tf.Tensor2D), [dOut, k, dIn]), [1, 2, 0]));
        }
        if (need[2] && rd) rB = tf.sum(rd, 0);
        return [rA, rW, rB];
      },
    });
  }

  /** An elementwise activation σ(z). */
  act(z: TapeNode, name: ActivationName): TapeNode {
    if (name === 'identity') return z;
    const rule = activationDerivatives(name);
    if (!rule) throw new Error(`curvature tape: no derivative rule for activation ${name}`);
    const { first: s1, second: s2 } = rule(z.value);
    return this.record([z], activationOf(name)(z.value), {
      vjp: (d) => [s1 ? tf.mul(d, s1) : d],
      jvp: ([rz]) => (rz && s1 ? tf.mul(rz, perRow(s1)) : rz),
      rvjp: (rd, d, [rz]) => {
        let r: Maybe = rd && s1 ? tf.mul(rd, perRow(s1)) : rd;
        if (d && s2 && rz) r = addMaybe(r, tf.mul(rz, perRow(tf.mul(d, s2))));
        return [r];
      },
    });
  }

  /** z + αz², α a scalar parameter node ([1]) or a fixed number. */
  quadraticAlpha(z: TapeNode, alpha: TapeNode | number): TapeNode {
    const k = this.k;
    const zv = z.value;
    const a = typeof alpha === 'number' ? alpha : alpha.value;
    const sq = tf.square(zv);
    const slope = tf.add(1, tf.mul(tf.mul(2, a), zv)); // 1 + 2αz
    const inputs = typeof alpha === 'number' ? [z] : [z, alpha];
    return this.record(inputs, tf.add(zv, tf.mul(a, sq)), {
      vjp: (d, need) => [need[0] ? tf.mul(d, slope) : null, need[1] ? tf.reshape(tf.sum(tf.mul(d, sq)), [1]) : null],
      jvp: ([rz, va]) => addMaybe(rz ? tf.mul(rz, perRow(slope)) : null, va ? tf.mul(perDirection(va, k), perRow(sq)) : null),
      rvjp: (rd, d, [rz, va], need) => {
        let rZ: Maybe = null;
        let rA: Maybe = null;
        if (need[0]) {
          rZ = rd ? tf.mul(rd, perRow(slope)) : null;
          // ∂²/∂z² = 2α, ∂²/∂z∂α = 2z
          if (d && rz) rZ = addMaybe(rZ, tf.mul(rz, perRow(tf.mul(d, tf.mul(2, a)))));
          if (d && va) rZ = addMaybe(rZ, tf.mul(perDirection(va, k), perRow(tf.mul(d, tf.mul(2, zv)))));
        }
        if (need[1]) {
          if (rd) rA = sumToScalarBlock(tf.mul(rd, perRow(sq)), k);
          if (d && rz) rA = addMaybe(rA, sumToScalarBlock(tf.mul(rz, perRow(tf.mul(d, tf.mul(2, zv)))), k));
        }
        return [rZ, rA];
      },
    });
  }

  /** (c + θ)·a, θ a scalar parameter node ([1]) (GIN's (1 + ε)·H). */
  scaleBy(a: TapeNode, theta: TapeNode, c: number): TapeNode {
    const k = this.k;
    const av = a.value;
    const factor = tf.add(theta.value, c);
    return this.record([a, theta], tf.mul(av, factor), {
      vjp: (d, need) => [need[0] ? tf.mul(d, factor) : null, need[1] ? tf.reshape(tf.sum(tf.mul(d, av)), [1]) : null],
      jvp: ([ra, vt]) => addMaybe(ra ? tf.mul(ra, factor) : null, vt ? tf.mul(perDirection(vt, k), perRow(av)) : null),
      rvjp: (rd, d, [ra, vt], need) => {
        let rA: Maybe = null;
        let rT: Maybe = null;
        if (need[0]) {
          rA = rd ? tf.mul(rd, factor) : null;
          if (d && vt) rA = addMaybe(rA, tf.mul(perDirection(vt, k), perRow(d)));
        }
        if (need[1]) {
          if (rd) rT = sumToScalarBlock(tf.mul(rd, perRow(av)), k);
          if (d && ra) rT = addMaybe(rT, sumToScalarBlock(tf.mul(ra, perRow(d)), k));
        }
        return [rA, rT];
      },
    });
  }

  /** Elementwise product of two row nodes of one shape. */
  mul(a: TapeNode, b: TapeNode): TapeNode {
    const [av, bv] = [a.value, b.value];
    return this.record([a, b], tf.mul(av, bv), {
      vjp: (d, need) => [need[0] ? tf.mul(d, bv) : null, need[1] ? tf.mul(d, av) : null],
      jvp: ([ra, rb]) => addMaybe(ra ? tf.mul(ra, perRow(bv)) : null, rb ? tf.mul(rb, perRow(av)) : null),
      rvjp: (rd, d, [ra, rb], need) => [
        need[0] ? addMaybe(rd ? tf.mul(rd, perRow(bv)) : null, d && rb ? tf.mul(rb, perRow(d)) : null) : null,
        need[1] ? addMaybe(rd ? tf.mul(rd, perRow(av)) : null, d && ra ? tf.mul(ra, perRow(d)) : null) : null,
      ],
    });
  }

  /** Sum of two row nodes of one shape. */
  add(a: TapeNode, b: TapeNode): TapeNode {
    return this.record([a, b], tf.add(a.value, b.value), {
      vjp: (d) => [d, d],
      jvp: ([ra, rb]) => addMaybe(ra, rb),
      rvjp: (rd) => [rd, rd],
    });
  }

  /** A linear, parameter-free map on rows (see `RowMap`). */
  rows(a: TapeNode, map: RowMap): TapeNode {
    const k = this.k;
    const block = (g: (t: tf.Tensor) => tf.Tensor, t: tf.Tensor): tf.Tensor => {
      const [M, , w] = t.shape;
      const out = g(tf.reshape(t, [M, k * w!]));
      return tf.reshape(out, [out.shape[0], k, w!]);
    };
    return this.record([a], map.f(a.value), {
      vjp: (d) => [map.fT(d)],
      jvp: ([ra]) => (ra ? block(map.f, ra) : null),
      rvjp: (rd) => [rd ? block(map.fT, rd) : null],
    });
  }

  /** Rows `[M, w]` → `[M/g, g·w]`: g consecutive rows side by side (the elements of a set, a pair). */
  mergeRows(a: TapeNode, g: number): TapeNode {
    const k = this.k;
    const [M, w] = a.value.shape as [number, number];
    const R = M / g;
    return this.record([a], tf.reshape(a.value, [R, g * w]), {
      vjp: (d) => [tf.reshape(d, [M, w])],
      jvp: ([ra]) => (ra ? tf.reshape(tf.transpose(tf.reshape(ra, [R, g, k, w]), [0, 2, 1, 3]), [R, k, g * w]) : null),
      rvjp: (rd) => [rd ? tf.reshape(tf.transpose(tf.reshape(rd, [R, k, g, w]), [0, 2, 1, 3]), [M, k, w]) : null],
    });
  }

  /** Columns `start … start + size − 1` of a row node. */
  sliceColumns(a: TapeNode, start: number, size: number): TapeNode {
    const [M, w] = a.value.shape as [number, number];
    const k = this.k;
    const after = w - start - size;
    return this.record([a], tf.slice(a.value, [0, start], [M, size]), {
      vjp: (d) => [tf.pad(d, [[0, 0], [start, after]])],
      jvp: ([ra]) => (ra ? tf.slice(ra, [0, 0, start], [M, k, size]) : null),
      rvjp: (rd) => [rd ? tf.pad(rd, [[0, 0], [0, 0], [start, after]]) : null],
    });
  }

  /** Rows of an embedding table [n, d] at constant indices [M] (int32): the R-op is a lookup of the direction, the gradient a scatter-add. */
  lookup(table: TapeNode, indices: tf.Tensor1D): TapeNode {
    const k = this.k;
    const [n, d] = table.value.shape as [number, number];
    const M = indices.shape[0];
    return this.record([table], tf.gather(table.value, indices), {
      vjp: (g) => [tf.unsortedSegmentSum(g, indices, n)],
      jvp: ([v]) => (v ? tf.reshape(tf.gather(tf.reshape(tf.transpose(v, [1, 0, 2]), [n, k * d]), indices), [M, k, d]) : null),
      rvjp: (rd) => [rd ? tf.transpose(tf.reshape(tf.unsortedSegmentSum(tf.reshape(rd, [M, k * d]), indices, n), [n, k, d]), [1, 0, 2]) : null],
    });
  }

  /** A parameter-side square, w = r² (elementwise): nonnegative weights. */
  square(r: TapeNode): TapeNode {
    const rv = r.value;
    const twice = tf.mul(2, rv);
    return this.record([r], tf.square(rv), {
      vjp: (d, need) => [need[0] ? tf.mul(d, twice) : null],
      jvp: ([v]) => (v ? tf.mul(v, twice) : null),
      rvjp: (rd, d, [v], need) => (need[0] ? [addMaybe(rd ? tf.mul(rd, twice) : null, d && v ? tf.mul(v, tf.mul(2, d)) : null)] : [null]),
    });
  }

  /**
   * A parameter-side column normalisation u = w/n, n = √(m·Σ_rows w²) per column ([in, out]; m
   * the sites sharing each row). With t = Σ_rows u⊙δu, s = m·Σ_rows u⊙R(w):
   * δw = (δu − m·u·t)/n, R(u) = (R(w) − u·s)/n, and R(δw) = (R(δu) − m·u·Σ u⊙R(δu))/n plus the
   * second-order terms −(m·R(u)·t + m·u·Σ R(u)⊙δu)/n − δw·s/n.
   */
  unitNorm(w: TapeNode, m: number): TapeNode {
    const wv = w.value;
    const n = tf.sqrt(tf.mul(tf.sum(tf.square(wv), 0, true), m)); // [1, out]
    const u = tf.div(wv, n);
    const colSum = (t: tf.Tensor): tf.Tensor => tf.sum(t, t.rank - 2, true);
    const back = (g: tf.Tensor): tf.Tensor => tf.div(tf.sub(g, tf.mul(m, tf.mul(u, colSum(tf.mul(u, g))))), n);
    return this.record([w], u, {
      vjp: (d, need) => [need[0] ? back(d) : null],
      jvp: ([v]) => (v ? tf.div(tf.sub(v, tf.mul(u, tf.mul(m, colSum(tf.mul(u, v))))), n) : null),
      rvjp: (rd, d, [v], need) => {
        if (!need[0]) return [null];
        let r: Maybe = rd ? back(rd) : null;
        if (d && v) {
          const s = tf.mul(m, colSum(tf.mul(u, v))); // [k, 1, out]
          const ru = tf.div(tf.sub(v, tf.mul(u, s)), n);
          const t = colSum(tf.mul(u, d)); // [1, out]
          const second = tf.add(tf.mul(m, tf.mul(ru, t)), tf.mul(m, tf.mul(u, colSum(tf.mul(ru, d)))));
          r = addMaybe(r, tf.neg(tf.div(tf.add(second, tf.mul(back(d), s)), n)));
        }
        return [r];
      },
    });
  }
}

/** Records a model's forward pass on the tape and returns its output node `[B, out]`. */
export type TapeForward = (tape: CurvatureTape, x: tf.Tensor) => TapeNode;

/**
 * `ModelInstance.curvatureProducts` from a forward pass recorded on a `CurvatureTape`: the
 * Hessian (or Gauss–Newton) block of k directions `[k, paramCount]` in one pass. Null for
 * unknown losses.
 */
export function tapeCurvatureProducts(model: string, specs: readonly ParamSpec[], forward: TapeForward): (request: CurvatureProductRequest) => tf.Tensor2D | null {
  const sizes = specs.map((s) => sizeOf(s.shape));
  const paramCount = sizes.reduce((a, b) => a + b, 0);
  return (request) => {
    if (!LOSSES.includes(request.loss)) return null;
    const { params, x, y, vectors } = request;
    if (vectors.rank !== 2 || vectors.shape[1] !== paramCount) {
      throw new Error(`${model}: curvature directions must be [k, ${paramCount}], got [${vectors.shape}]`);
    }
    const k = vectors.shape[0];
    const hessian = request.kind === 'hessian';
    return tf.tidy(() => {
      if (k === 0) return tf.zeros([0, paramCount]) as tf.Tensor2D;
      // Direction blocks per parameter, [k, ...shape]; null where all zero.
      const blocks: tf.Tensor[] = [];
      let offset = 0;
      specs.forEach((s, i) => {
        blocks.push(tf.reshape(tf.slice(vectors, [0, offset], [k, sizes[i]]), [k, ...s.shape]));
        offset += sizes[i];
      });
      const nonzero = Array.from(tf.tidy(() => tf.stack(blocks.map((v) => tf.max(tf.abs(v))))).dataSync(), (m) => m !== 0);
      if (!nonzero.includes(true)) return tf.zeros([k, paramCount]) as tf.Tensor2D;
      const direction = new Map(specs.map((s, i) => [s.name, nonzero[i] ? blocks[i] : null]));

      const tape = new CurvatureTape(params, k);
      const out = forward(tape, x);
      const rules = lossRules(request.loss, out.value, y);
      const isLeaf = (n: TapeNode): boolean => n.param !== undefined;

      // 1. δ (Hessian only), to every node that is neither data nor a parameter.
      const delta = new Map<number, tf.Tensor>();
      if (hessian) {
        delta.set(out.id, rules.gradient());
        for (let i = tape.ops.length - 1; i >= 0; i--) {
          const op = tape.ops[i];
          const d = delta.get(op.output.id);
          if (!d) continue;
          const need = op.inputs.map((n) => !n.constant && !isLeaf(n));
          if (!need.includes(true)) continue;
          op.vjp(d, need).forEach((g, j) => {
            if (!g || !need[j]) return;
            const id = op.inputs[j].id;
            const prev = delta.get(id);
            delta.set(id, prev ? tf.add(prev, g) : g);
          });
        }
      }
      // 2. R-forward.
      const tangent = new Map<number, Maybe>();
      const tangentOf = (n: TapeNode): Maybe => (n.constant ? null : n.param !== undefined ? direction.get(n.param) ?? null : tangent.get(n.id) ?? null);
      for (const op of tape.ops) if (!op.output.constant) tangent.set(op.output.id, op.jvp(op.inputs.map(tangentOf)));
      // 3. Output space, 4. R-backward.
      const rOut = tangentOf(out);
      const rDelta = new Map<number, tf.Tensor>();
      if (rOut) rDelta.set(out.id, rules.hessianProduct(rOut, 'batch-first'));
      for (let i = tape.ops.length - 1; i >= 0; i--) {
        const op = tape.ops[i];
        if (op.output.constant) continue;
        const rd = rDelta.get(op.output.id) ?? null;
        const d = hessian ? delta.get(op.output.id) ?? null : null;
        const t = op.inputs.map(tangentOf);
        if (!rd && !(d && t.some(Boolean))) continue;
        const need = op.inputs.map((n) => !n.constant);
        op.rvjp(rd, d, t, need).forEach((g, j) => {
          if (!g || !need[j]) return;
          const id = op.inputs[j].id;
          const prev = rDelta.get(id);
          rDelta.set(id, prev ? tf.add(prev, g) : g);
        });
      }
      const parts = specs.map((s, i) => {
        const leaf = tape.param(s.name);
        const r = rDelta.get(leaf.id);
        return r ? tf.reshape(r, [k, sizes[i]]) : tf.zeros([k, sizes[i]]);
      });
      return (parts.length === 1 ? parts[0] : tf.concat(parts, 1)) as tf.Tensor2D;
    });
  };
}

/** What a dense chain on the tape needs: `{prefix}dense{i}` layers of widths `dims`, as in `dense-chain.ts`. */
export interface TapeChain {
  prefix: string;
  dims: readonly number[];
  bias: boolean;
  activation: ActivationName;
  /** The activation after the last layer too. */
  finalActivation?: boolean;
  /** The quadratic activation z + αz² instead of `activation` (learned: `{prefix}dense{i}.alpha`). */
  alpha?: 'learned' | number;
}

/** A dense chain (`applyChain`, or the mlp's layers) recorded on the tape: rows [M, dims[0]] → [M, dims.at(−1)]. */
export function tapeChain(tape: CurvatureTape, c: TapeChain, h: TapeNode): TapeNode {
  const depth = c.dims.length - 1;
  let out = h;
  for (let i = 0; i < depth; i++) {
    const z = tape.dense(out, tape.param(`${c.prefix}dense${i}.weight`), c.bias ? tape.param(`${c.prefix}dense${i}.bias`) : undefined);
    if (i < depth - 1 || c.finalActivation) {
      out = c.alpha === undefined ? tape.act(z, c.activation) : tape.quadraticAlpha(z, c.alpha === 'learned' ? tape.param(`${c.prefix}dense${i}.alpha`) : c.alpha);
    } else out = z;
  }
  return out;
}
