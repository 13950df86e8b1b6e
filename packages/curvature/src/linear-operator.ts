import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients by itself; every differentiable op here needs them.
import { hvp, flatLoss, lossFunction, flattenParams, sizeOf, unflattenParams } from '@goldstone/core';
import type { LossName, ParamSpec, Params, ModelInstance, Rng } from '@goldstone/plugin-api';

/**
 * A symmetric linear operator on ℝⁿ seen through its matrix-vector product, the only access the
 * Krylov methods (Lanczos, power iteration, Hutchinson, SLQ) need.
 *
 * Vectors are host `Float64Array`s: the product itself runs on tensors (float32, on the active
 * backend), while the small dense algebra of the Krylov methods (reorthogonalisation, Rayleigh
 * quotients) runs on the host in float64. `products` counts the matrix-vector products made so
 * far: every estimator reports the difference as its cost.
 */
export interface LinearOperator {
  /** Dimension n. */
  readonly dim: number;
  /** A·v, a new host array. */
  apply(v: Float64Array): Float64Array;
  /**
   * Optional: A·vⱼ for a block of vectors in one pass (new host arrays, in order), equal to
   * `apply` on each to float32 round-off. Counts one product per vector. Call it through
   * `applyBlock(op, vs)`, which falls back to `apply` in a loop for operators without it.
   */
  applyBlock?(vs: readonly Float64Array[]): Float64Array[];
  /**
   * How many vectors a block product handles at the cost of about one (1, or absent: a block
   * gains nothing over a loop). Estimators size their blocks by it.
   */
  readonly blockSize?: number;
  /** Matrix-vector products made so far through this operator. */
  readonly products: number;
  /** Release the tensors the operator keeps (parameters, data). Idempotent. */
  dispose(): void;
}

/** Examples a curvature operator averages over: one batch, or fixed batches weighted by size. */
export interface DataBatch {
  x: tf.Tensor;
  y: tf.Tensor;
}

/** A contiguous block of a flat parameter vector. */
export interface ParamRange {
  name: string;
  offset: number;
  size: number;
}

/** The blocks of the flat parameter vector that hold the named parameters, in flattening order. */
export function paramRanges(specs: readonly ParamSpec[], names?: readonly string[]): ParamRange[] {
  const out: ParamRange[] = [];
  let offset = 0;
  const known = new Set(specs.map((s) => s.name));
  for (const n of names ?? []) {
    if (!known.has(n)) throw new Error(`paramRanges: no parameter "${n}" (have: ${[...known].join(', ')})`);
  }
  for (const s of specs) {
    const size = sizeOf(s.shape);
    if (!names || names.includes(s.name)) out.push({ name: s.name, offset, size });
    offset += size;
  }
  return out;
}

/**
 * A·vⱼ for every vector of a block: the operator's own block product when it has one, else
 * `apply` in a loop. Either way one product per vector is counted.
 */
export function applyBlock(op: LinearOperator, vs: readonly Float64Array[]): Float64Array[] {
  if (vs.length === 0) return [];
  if (op.applyBlock) return op.applyBlock(vs);
  return vs.map((v) => op.apply(v));
}

/** The block size an estimator should use with `op`: its `blockSize`, capped at `limit` (≥ 1). */
export function blockSizeOf(op: LinearOperator, limit = Infinity): number {
  const b = Math.floor(op.blockSize ?? 1);
  return Math.max(1, Math.min(Number.isFinite(b) && b > 0 ? b : 1, limit));
}

function countingOperator(
  dim: number,
  mv: (v: Float64Array) => Float64Array,
  dispose: () => void,
  block?: { mv: (vs: readonly Float64Array[]) => Float64Array[]; size: number },
): LinearOperator {
  let products = 0;
  let disposed = false;
  const check = (v: Float64Array): void => {
    if (disposed) throw new Error('LinearOperator: used after dispose()');
    if (v.length !== dim) throw new Error(`LinearOperator: vector has ${v.length} values, operator dimension is ${dim}`);
  };
  return {
    dim,
    apply(v: Float64Array): Float64Array {
      check(v);
      products++;
      return mv(v);
    },
    ...(block
      ? {
          blockSize: block.size,
          applyBlock(vs: readonly Float64Array[]): Float64Array[] {
            for (const v of vs) check(v);
            products += vs.length;
            return block.mv(vs);
          },
        }
      : {}),
    get products() {
      return products;
    },
    dispose() {
      if (!disposed) dispose();
      disposed = true;
    },
  };
}

/**
 * An operator from a dense symmetric matrix (row-major n×n): for tests and small problems. With
 * `blockSize` > 1 it also has a block product (the same sums, vector by vector), so that block
 * code paths can be tested against the one-vector path.
 */
export function denseOperator(matrix: Float64Array | number[][], n?: number, options: { blockSize?: number } = {}): LinearOperator {
  const dim = Array.isArray(matrix) ? matrix.length : (n ?? Math.round(Math.sqrt(matrix.length)));
  const a = Array.isArray(matrix) ? Float64Array.from(matrix.flat()) : matrix;
  if (a.length !== dim * dim) throw new Error(`denseOperator: expected ${dim}×${dim} values, got ${a.length}`);
  const mv = (v: Float64Array): Float64Array => {
    const out = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      let s = 0;
      const row = i * dim;
      for (let j = 0; j < dim; j++) s += a[row + j] * v[j];
      out[i] = s;
    }
    return out;
  };
  const size = options.blockSize ?? 1;
  return countingOperator(dim, mv, () => {}, size > 1 ? { size, mv: (vs) => vs.map(mv) } : undefined);
}

export interface CurvatureOperatorOptions {
  model: ModelInstance;
  loss: LossName;
  /** The point at which the curvature is taken (not disposed by the operator). */
  params: Params;
  /** The examples: one batch (e.g. the whole training set) or fixed batches, weighted by size. */
  data: DataBatch | DataBatch[];
  /** `hessian` (default): ∇²L. `ggn`: the Gauss–Newton matrix Jᵀ ∇²ℓ J (positive semi-definite for convex ℓ). */
  kind?: 'hessian' | 'ggn';
  /** Restrict to these parameters (a layer, a block): the operator acts on their concatenation. */
  restrictTo?: readonly string[];
  /**
   * The objective to differentiate instead of the mean `loss` (e.g. a trained objective with a
   * penalty): mean over the examples given, differentiable to second order. `hessian` kind only.
   */
  objective?: (params: Params, x: tf.Tensor, y: tf.Tensor) => tf.Scalar;
}

/** Floats one intermediate of a block product may hold (64 MB of float32). */
export const BLOCK_FLOATS_BUDGET = 16 * 1024 * 1024;
/** Most directions per block product (beyond it the time per direction no longer falls). */
export const MAX_BLOCK_SIZE = 128;

/**
 * Directions per block product for a model with these parameter shapes on batches of at most
 * `batch` examples: a block keeps a few intermediates of batch·k·width floats (width the largest
 * parameter dimension) and the k directions themselves (k·n floats); each stays within
 * `BLOCK_FLOATS_BUDGET`, and k ≤ `MAX_BLOCK_SIZE`.
 */
export function curvatureBlockSize(specs: readonly ParamSpec[], batch: number): number {
  const width = Math.max(1, ...specs.flatMap((s) => s.shape));
  const n = specs.reduce((t, s) => t + sizeOf(s.shape), 0);
  const perDirection = Math.max(batch * width, n, 1);
  return Math.max(1, Math.min(MAX_BLOCK_SIZE, Math.floor(BLOCK_FLOATS_BUDGET / perDirection)));
}

/**
 * The Hessian (or Gauss–Newton matrix) of a model's mean loss, as a linear operator. The flat
 * parameters and the data are kept as tensors for the operator's lifetime (`dispose()` frees
 * them). With several batches the product is the size-weighted mean, i.e. the curvature of the
 * mean loss over all their examples.
 *
 * Products: when the model has `curvatureProducts` with rules for this configuration (and no
 * custom `objective` is given), `applyBlock` sends up to `blockSize` directions through the model
 * in one pass per batch (`curvatureBlockSize`), and `apply` is the same pass with one direction;
 * otherwise each product is one double-backprop HVP (or `ggnProduct`) per batch, and `applyBlock`
 * makes them one after another (`blockSize` 1).
 */
export function curvatureOperator(opts: CurvatureOperatorOptions): LinearOperator {
  const { model, loss, objective } = opts;
  const kind = opts.kind ?? 'hessian';
  if (objective && kind !== 'hessian') throw new Error(`curvatureOperator: an objective other than the loss has no ${kind} operator (hessian only)`);
  const batches = Array.isArray(opts.data) ? opts.data : [opts.data];
  if (batches.length === 0) throw new Error('curvatureOperator: no data');
  const total = batches.reduce((s, b) => s + b.x.shape[0], 0);
  const weights = batches.map((b) => b.x.shape[0] / total);
  const w = tf.keep(flattenParams(opts.params, model.specs));
  const kept = batches.map((b) => ({ x: tf.keep(tf.clone(b.x)), y: tf.keep(tf.clone(b.y)) }));
  const n = model.paramCount;
  const ranges = opts.restrictTo ? paramRanges(model.specs, opts.restrictTo) : null;
  const dim = ranges ? ranges.reduce((s, r) => s + r.size, 0) : n;
  const fs = kept.map((b) =>
    objective ? (v: tf.Tensor1D) => tf.tidy(() => objective(unflattenParams(v, model.specs), b.x, b.y)) : flatLoss(model, loss, b.x, b.y),
  );

  /** Directions embedded into the full parameter space, row after row (k·n float32). */
  const embed = (vs: readonly Float64Array[]): Float32Array => {
    const full = new Float32Array(vs.length * n);
    vs.forEach((v, j) => {
      if (!ranges) {
        full.set(v, j * n);
        return;
      }
      let k = 0;
      for (const r of ranges) for (let i = 0; i < r.size; i++) full[j * n + r.offset + i] = v[k++];
    });
    return full;
  };
  /** Row j of k·n products, restricted to the operator's parameters. */
  const restrict = (full: Float32Array, j: number): Float64Array => {
    if (!ranges) return Float64Array.from(full.subarray(j * n, (j + 1) * n));
    const out = new Float64Array(dim);
    let k = 0;
    for (const r of ranges) for (let i = 0; i < r.size; i++) out[k++] = full[j * n + r.offset + i];
    return out;
  };
  /** Σ_batches weight · product(batch), one tensor, then host rows. */
  const weighted = (k: number, product: (i: number) => tf.Tensor): Float64Array[] => {
    const out = tf.tidy(() => {
      let acc: tf.Tensor | null = null;
      for (let i = 0; i < kept.length; i++) {
        const p = product(i);
        const term = kept.length === 1 ? p : tf.mul(p, weights[i]);
        acc = acc ? tf.add(acc, term) : term;
      }
      return acc as tf.Tensor;
    });
    const host = out.dataSync() as Float32Array;
    const rows = Array.from({ length: k }, (_, j) => restrict(host, j));
    out.dispose();
    return rows;
  };

  // The model's own block products, if it has rules for this configuration: asked once on one
  // example (a null answer means none, for every batch).
  const blockParams = !objective && model.curvatureProducts ? unflattenParams(w, model.specs) : null;
  if (blockParams) for (const t of Object.values(blockParams)) tf.keep(t);
  const modelProducts = (x: tf.Tensor, y: tf.Tensor, vectors: tf.Tensor2D): tf.Tensor2D | null =>
    model.curvatureProducts!({ params: blockParams!, x, y, loss, kind, vectors }) ?? null;
  let rules = false;
  if (blockParams) {
    const probe = tf.tidy(() => {
      const x = tf.slice(kept[0].x, 0, 1);
      const y = tf.slice(kept[0].y, 0, 1);
      const p = modelProducts(x, y, tf.zeros([1, n]) as tf.Tensor2D);
      return p ?? tf.scalar(NaN);
    });
    rules = probe.rank === 2;
    probe.dispose();
    if (!rules) for (const t of Object.values(blockParams)) t.dispose();
  }
  const blockSize = rules ? curvatureBlockSize(model.specs, Math.max(...kept.map((b) => b.x.shape[0]))) : 1;

  const oneVector = (v: tf.Tensor1D, i: number): tf.Tensor1D =>
    kind === 'hessian' ? hvp(fs[i], w, v) : ggnProduct(model, loss, w, kept[i].x, kept[i].y, v);
  const products = (vs: readonly Float64Array[]): Float64Array[] => {
    const k = vs.length;
    if (rules) {
      const values = embed(vs);
      return weighted(k, (i) => {
        const p = modelProducts(kept[i].x, kept[i].y, tf.tensor2d(values, [k, n], 'float32'));
        if (!p) throw new Error('curvatureOperator: the model returned no curvature products for a batch after answering for one example');
        return p;
      });
    }
    return vs.flatMap((v) => weighted(1, (i) => oneVector(tf.tensor1d(embed([v]), 'float32'), i)));
  };

  return countingOperator(
    dim,
    (v) => products([v])[0],
    () => {
      w.dispose();
      if (rules && blockParams) for (const t of Object.values(blockParams)) t.dispose();
      for (const b of kept) {
        b.x.dispose();
        b.y.dispose();
      }
    },
    {
      size: blockSize,
      mv: (vs) => {
        const out: Float64Array[] = [];
        for (let s = 0; s < vs.length; s += blockSize) out.push(...products(vs.slice(s, s + blockSize)));
        return out;
      },
    },
  );
}

/**
 * The Gauss–Newton product Jᵀ (∇²_o ℓ) J v, with J = ∂o/∂w the Jacobian of the model's outputs
 * and ℓ the mean loss as a function of the outputs. Jv is computed by the double-backward trick
 * (J v = ∇_u[(Jᵀu)·v], linear in u), ∇²_o ℓ (Jv) by an HVP in output space, and Jᵀ(·) by one
 * more backward pass. Needs only first-order-safe ops in the model.
 */
export function ggnProduct(
  model: ModelInstance,
  loss: LossName,
  w: tf.Tensor1D,
  x: tf.Tensor,
  y: tf.Tensor,
  v: tf.Tensor1D,
): tf.Tensor1D {
  const L = lossFunction(loss);
  return tf.tidy(() => {
    const out = (p: tf.Tensor): tf.Tensor => model.apply(unflattenParams(p as tf.Tensor1D, model.specs), x);
    const o = out(w);
    const u0 = tf.zerosLike(o);
    // J v = d/du [ (Jᵀ u) · v ]
    const jv = tf.grad((u: tf.Tensor) => {
      const jtu = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(out(p), u)))(w);
      return tf.sum(tf.mul(jtu, v)) as tf.Scalar;
    })(u0);
    // (∇²_o ℓ) (J v), at the current outputs
    const oc = tf.clone(o);
    const hjv = tf.grad((q: tf.Tensor) => tf.sum(tf.mul(tf.grad((r: tf.Tensor) => L(r, y))(q), jv)) as tf.Scalar)(oc);
    // Jᵀ (·)
    return tf.grad((p: tf.Tensor) => tf.sum(tf.mul(out(p), hjv)))(w) as tf.Tensor1D;
  });
}

/** The quadratic form vᵀAv/‖v‖² (one product): the curvature along a direction. */
export function rayleighQuotient(op: LinearOperator, v: Float64Array): number {
  const av = op.apply(v);
  return dot(v, av) / dot(v, v);
}

/**
 * Apply the operator twice to the same random vector and require bit-identical answers. Krylov
 * methods assume a fixed operator: a nondeterministic one (a data loader reshuffling, a
 * dropout, a racy reduction) silently ruins orthogonality. Throws if the products differ; costs
 * two products.
 */
export function checkDeterministic(op: LinearOperator, rng: Rng): { maxAbsDiff: number } {
  const v = Float64Array.from(rng.normalArray(op.dim));
  const a = op.apply(v);
  const b = op.apply(v);
  let maxAbsDiff = 0;
  for (let i = 0; i < a.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[i] - b[i]));
  if (maxAbsDiff !== 0 || a.some((t) => !Number.isFinite(t))) {
    throw new Error(
      `checkDeterministic: the operator is not a fixed matrix (two products of the same vector differ by up to ${maxAbsDiff}` +
        `${a.some((t) => !Number.isFinite(t)) ? ', or are not finite' : ''}); Krylov methods need a deterministic operator`,
    );
  }
  return { maxAbsDiff };
}

// ---------------------------------------------------------------------------------------------
// Small host vector helpers shared by the Krylov methods (float64).

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** a ← a + s·b, in place. */
export function axpy(a: Float64Array, s: number, b: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) a[i] += s * b[i];
}

/** a ← a·s, in place. */
export function scale(a: Float64Array, s: number): void {
  for (let i = 0; i < a.length; i++) a[i] *= s;
}

/** Orthogonalise `v` in place against orthonormal `basis`, twice (classical Gram–Schmidt, reorthogonalised). */
export function orthogonalize(v: Float64Array, basis: readonly Float64Array[]): void {
  for (let pass = 0; pass < 2; pass++) {
    for (const q of basis) axpy(v, -dot(q, v), q);
  }
}
