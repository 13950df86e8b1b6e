/**
 * The variance–flatness relation where it can be computed: underparameterised linear networks on
 * synthetic Gaussian data (the setting of Gross, Raulf & Räth, arXiv 2311.14120, Phys. Rev. Research
 * 6, 033103 (2024)), in plain float64.
 *
 * - Data: inputs x ∈ R^d from N(0, Σₓ) with a chosen spectrum (random orientation), a teacher W*
 *   (k×d) and labels y = W*x + σ·ε.
 * - Student: one layer, f = W·x, or two layers, f = W₂·W₁·x (W₁: h×d, W₂: k×h); the loss is the
 *   full-data MSE L(θ) = (1/2M) Σᵢ ‖f(xᵢ) − yᵢ‖², evaluated exactly through the data moments.
 * - Training: minibatch SGD, batches drawn with replacement (so the gradient noise of successive
 *   steps is independent, as the theory assumes), from a seeded start: deterministic per seed.
 * - Theory: around the minimum θ* the SGD step is linearised, u ← (I − ηH)u − ηξ with ξ the
 *   minibatch noise of covariance C/B (C the covariance of the per-example gradients at θ*). Its
 *   stationary covariance solves the discrete Lyapunov equation Σ = (I − ηH)Σ(I − ηH)ᵀ + η²C/B,
 *   solved exactly in the eigenbasis of H. The two-layer net has the GL(h) zero modes
 *   (W₁, W₂) → (GW₁, W₂G⁻¹): they are projected out (Σ is the covariance on the range of H) and the
 *   part of C in the null space is reported (it vanishes, since every per-example loss is invariant).
 *   The multiplicative part of the noise ((H_B − H)u) is neglected: a relative correction of order
 *   η·tr(HΣ)/σ², small at the learning rates used.
 * - Flatness: along a direction p of one layer's block, with the other layer fixed, the loss is
 *   exactly quadratic and stationary at θ*, so Fᵢ = 2·√(2(e − 1)L₀ / pᵢᵀH_bb pᵢ) is exact.
 */
import { Rng } from '@goldstone/core';
import { symmetricEigenDecomposition } from '@goldstone/curvature';

export interface LinearTeacherOptions {
  /** Input dimension d. */
  inputDim: number;
  /** Output dimension k. */
  outputDim: number;
  /** Number of training samples M. */
  samples: number;
  /** Eigenvalues of the input covariance Σₓ (length d; default all 1). */
  inputSpectrum?: number[];
  /**
   * Singular values of the teacher W* = U·diag(s)·Vᵀ (random orientations; at most min(k, d)
   * values, the rest zero). Default: W* with independent N(0, 1/d) entries.
   */
  teacherSingularValues?: number[];
  /** Standard deviation σ of the label noise. */
  labelNoise: number;
  seed: number;
}

export interface LinearDataset {
  d: number;
  k: number;
  M: number;
  /** Inputs, M×d row-major. */
  x: Float64Array;
  /** Labels, M×k row-major. */
  y: Float64Array;
  /** The teacher W*, k×d row-major. */
  teacher: Float64Array;
  /** Moments Sxx = XᵀX/M (d×d), Syx = YᵀX/M (k×d), Syy = Σ‖yᵢ‖²/M. */
  sxx: Float64Array;
  syx: Float64Array;
  syy: number;
}

/** Synthetic Gaussian data with a linear teacher and Gaussian label noise (deterministic per seed). */
export function linearTeacherData(o: LinearTeacherOptions): LinearDataset {
  const { inputDim: d, outputDim: k, samples: M, labelNoise } = o;
  for (const [name, v] of [['inputDim', d], ['outputDim', k], ['samples', M]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`linearTeacherData: ${name} must be a positive integer, got ${v}`);
  }
  const spectrum = o.inputSpectrum ?? Array.from({ length: d }, () => 1);
  if (spectrum.length !== d || spectrum.some((s) => !(s > 0))) throw new RangeError(`linearTeacherData: inputSpectrum must hold ${d} positive values`);
  const rng = new Rng(o.seed);
  const Q = randomOrthogonal(d, rng.split('orientation'));
  const teacherRng = rng.split('teacher');
  let teacher: Float64Array;
  const sv = o.teacherSingularValues;
  if (sv) {
    if (sv.length > Math.min(k, d) || sv.some((v) => !(v >= 0))) throw new RangeError(`linearTeacherData: teacherSingularValues must be at most ${Math.min(k, d)} non-negative values`);
    const U = randomOrthogonal(k, teacherRng);
    const V = randomOrthogonal(d, teacherRng);
    teacher = new Float64Array(k * d);
    for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) for (let r = 0; r < sv.length; r++) teacher[c * d + j] += U[c * k + r] * sv[r] * V[j * d + r];
  } else {
    teacher = new Float64Array(k * d).map(() => teacherRng.normal() / Math.sqrt(d));
  }
  const xr = rng.split('inputs');
  const nr = rng.split('noise');
  const x = new Float64Array(M * d);
  const y = new Float64Array(M * k);
  const z = new Float64Array(d);
  for (let i = 0; i < M; i++) {
    for (let a = 0; a < d; a++) z[a] = Math.sqrt(spectrum[a]) * xr.normal();
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let a = 0; a < d; a++) s += Q[j * d + a] * z[a];
      x[i * d + j] = s;
    }
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += teacher[c * d + j] * x[i * d + j];
      y[i * k + c] = s + labelNoise * nr.normal();
    }
  }
  const sxx = new Float64Array(d * d);
  const syx = new Float64Array(k * d);
  let syy = 0;
  for (let i = 0; i < M; i++) {
    for (let a = 0; a < d; a++) {
      const xa = x[i * d + a];
      for (let b = 0; b < d; b++) sxx[a * d + b] += xa * x[i * d + b];
      for (let c = 0; c < k; c++) syx[c * d + a] += y[i * k + c] * xa;
    }
    for (let c = 0; c < k; c++) syy += y[i * k + c] ** 2;
  }
  for (let a = 0; a < d * d; a++) sxx[a] /= M;
  for (let a = 0; a < k * d; a++) syx[a] /= M;
  return { d, k, M, x, y, teacher, sxx, syx, syy: syy / M };
}

/** The student: one layer f = W·x, or two layers f = W₂·W₁·x with `hidden` units. */
export type LinearNet = { layers: 1 } | { layers: 2; hidden: number };

/** A block of the parameter vector θ: the layer W (one layer), or W1 / W2 (two layers). */
export type LinearLayer = 'W' | 'W1' | 'W2';

/**
 * The parameter layout: one layer, θ = vec(W) (k×d row-major); two layers, θ = [vec(W₁) (h×d),
 * vec(W₂) (k×h)].
 */
export function linearNetLayout(data: LinearDataset, net: LinearNet): { size: number; blocks: Record<string, { offset: number; rows: number; cols: number }> } {
  if (net.layers === 1) return { size: data.k * data.d, blocks: { W: { offset: 0, rows: data.k, cols: data.d } } };
  const h = net.hidden;
  if (!Number.isInteger(h) || h < 1) throw new RangeError(`linearNetLayout: hidden must be a positive integer, got ${h}`);
  return {
    size: h * data.d + data.k * h,
    blocks: { W1: { offset: 0, rows: h, cols: data.d }, W2: { offset: h * data.d, rows: data.k, cols: h } },
  };
}

/** The offset and length of a layer's block in θ. */
export function layerBlock(data: LinearDataset, net: LinearNet, layer: LinearLayer): { offset: number; length: number } {
  const b = linearNetLayout(data, net).blocks[layer];
  if (!b) throw new RangeError(`layerBlock: a ${net.layers}-layer net has no layer ${layer} (it has ${Object.keys(linearNetLayout(data, net).blocks).join(', ')})`);
  return { offset: b.offset, length: b.rows * b.cols };
}

/** C = A·B for row-major A (n×m), B (m×p). */
function matmul(A: ArrayLike<number>, B: ArrayLike<number>, n: number, m: number, p: number): Float64Array {
  const C = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < m; l++) {
      const a = A[i * m + l];
      if (a === 0) continue;
      for (let j = 0; j < p; j++) C[i * p + j] += a * B[l * p + j];
    }
  }
  return C;
}

/** Aᵀ (A n×m row-major). */
function transpose(A: ArrayLike<number>, n: number, m: number): Float64Array {
  const T = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) T[j * n + i] = A[i * m + j];
  return T;
}

/** The end-to-end map W = W₂W₁ (or W) as k×d row-major. */
function endToEnd(data: LinearDataset, net: LinearNet, theta: ArrayLike<number>): Float64Array {
  if (net.layers === 1) return Float64Array.from(theta);
  const h = net.hidden;
  return matmul(Array.prototype.slice.call(theta, h * data.d), theta, data.k, h, data.d);
}

function checkTheta(data: LinearDataset, net: LinearNet, theta: ArrayLike<number>, who: string): void {
  const P = linearNetLayout(data, net).size;
  if (theta.length !== P) throw new RangeError(`${who}: θ has ${theta.length} values, the net has ${P} parameters`);
}

/** The exact full-data loss L(θ) = (1/2M) Σᵢ ‖f(xᵢ) − yᵢ‖², from the data moments. */
export function linearNetLoss(data: LinearDataset, net: LinearNet, theta: ArrayLike<number>): number {
  checkTheta(data, net, theta, 'linearNetLoss');
  const { d, k, sxx, syx, syy } = data;
  const W = endToEnd(data, net, theta);
  const WS = matmul(W, sxx, k, d, d);
  let quad = 0;
  let cross = 0;
  for (let i = 0; i < k * d; i++) {
    quad += WS[i] * W[i];
    cross += W[i] * syx[i];
  }
  return 0.5 * (quad - 2 * cross + syy);
}

/** ∇L(θ): G = W·Sxx − Syx; one layer ∇_W = G; two layers ∇_{W₁} = W₂ᵀG, ∇_{W₂} = G·W₁ᵀ. */
export function linearNetGradient(data: LinearDataset, net: LinearNet, theta: ArrayLike<number>): Float64Array {
  checkTheta(data, net, theta, 'linearNetGradient');
  const { d, k } = data;
  const W = endToEnd(data, net, theta);
  const G = matmul(W, data.sxx, k, d, d);
  for (let i = 0; i < k * d; i++) G[i] -= data.syx[i];
  if (net.layers === 1) return G;
  const h = net.hidden;
  const W1 = Array.prototype.slice.call(theta, 0, h * d) as number[];
  const W2 = Array.prototype.slice.call(theta, h * d) as number[];
  const g1 = matmul(transpose(W2, k, h), G, h, k, d);
  const g2 = matmul(G, transpose(W1, h, d), k, d, h);
  const out = new Float64Array(h * d + k * h);
  out.set(g1, 0);
  out.set(g2, h * d);
  return out;
}

/** The exact Hessian of L at θ, dense P×P row-major (including the residual term of the two-layer net). */
export function linearNetHessian(data: LinearDataset, net: LinearNet, theta: ArrayLike<number>): Float64Array {
  checkTheta(data, net, theta, 'linearNetHessian');
  const { d, k, sxx } = data;
  const P = linearNetLayout(data, net).size;
  const H = new Float64Array(P * P);
  if (net.layers === 1) {
    // H = I_k ⊗ Sxx in the row-major layout.
    for (let c = 0; c < k; c++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) H[(c * d + a) * P + c * d + b] = sxx[a * d + b];
    return H;
  }
  const h = net.hidden;
  const W1 = Array.prototype.slice.call(theta, 0, h * d) as number[];
  const W2 = Array.prototype.slice.call(theta, h * d) as number[];
  const W = matmul(W2, W1, k, h, d);
  const G = matmul(W, sxx, k, d, d);
  for (let i = 0; i < k * d; i++) G[i] -= data.syx[i];
  const W1t = transpose(W1, h, d);
  const W2t = transpose(W2, k, h);
  const Gt = transpose(G, k, d);
  const v = new Float64Array(P);
  for (let col = 0; col < P; col++) {
    v.fill(0);
    v[col] = 1;
    const V1 = v.subarray(0, h * d);
    const V2 = v.subarray(h * d);
    // dW = V₂W₁ + W₂V₁, dG = dW·Sxx; d∇₁ = V₂ᵀG + W₂ᵀdG, d∇₂ = dG·W₁ᵀ + G·V₁ᵀ.
    const dW = matmul(V2, W1, k, h, d);
    const w2v1 = matmul(W2, V1, k, h, d);
    for (let i = 0; i < k * d; i++) dW[i] += w2v1[i];
    const dG = matmul(dW, sxx, k, d, d);
    const d1 = matmul(transpose(V2, k, h), G, h, k, d);
    const d1b = matmul(W2t, dG, h, k, d);
    const d2 = matmul(dG, W1t, k, d, h);
    const d2b = transpose(matmul(V1, Gt, h, d, k), h, k);
    for (let i = 0; i < h * d; i++) H[i * P + col] = d1[i] + d1b[i];
    for (let i = 0; i < k * h; i++) H[(h * d + i) * P + col] = d2[i] + d2b[i];
  }
  // Symmetrise the round-off.
  for (let i = 0; i < P; i++) {
    for (let j = i + 1; j < P; j++) {
      const s = 0.5 * (H[i * P + j] + H[j * P + i]);
      H[i * P + j] = s;
      H[j * P + i] = s;
    }
  }
  return H;
}

/** The per-example gradient gᵢ(θ) of ½‖f(xᵢ) − yᵢ‖², written into `out` (length P). */
function exampleGradient(data: LinearDataset, net: LinearNet, theta: ArrayLike<number>, i: number, out: Float64Array, scratch: { z: Float64Array; r: Float64Array; s: Float64Array }): void {
  const { d, k, x, y } = data;
  const xi = i * d;
  const { r } = scratch;
  if (net.layers === 1) {
    for (let c = 0; c < k; c++) {
      let s = -y[i * k + c];
      for (let j = 0; j < d; j++) s += theta[c * d + j] * x[xi + j];
      r[c] = s;
    }
    for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) out[c * d + j] = r[c] * x[xi + j];
    return;
  }
  const h = net.hidden;
  const o2 = h * d;
  const { z, s } = scratch;
  for (let a = 0; a < h; a++) {
    let t = 0;
    for (let j = 0; j < d; j++) t += theta[a * d + j] * x[xi + j];
    z[a] = t;
  }
  for (let c = 0; c < k; c++) {
    let t = -y[i * k + c];
    for (let a = 0; a < h; a++) t += theta[o2 + c * h + a] * z[a];
    r[c] = t;
  }
  // ∇_{W₂} = r zᵀ, ∇_{W₁} = (W₂ᵀr) xᵀ.
  for (let c = 0; c < k; c++) for (let a = 0; a < h; a++) out[o2 + c * h + a] = r[c] * z[a];
  for (let a = 0; a < h; a++) {
    let t = 0;
    for (let c = 0; c < k; c++) t += theta[o2 + c * h + a] * r[c];
    s[a] = t;
  }
  for (let a = 0; a < h; a++) for (let j = 0; j < d; j++) out[a * d + j] = s[a] * x[xi + j];
}

function scratchFor(data: LinearDataset, net: LinearNet) {
  const h = net.layers === 2 ? net.hidden : 1;
  return { z: new Float64Array(h), r: new Float64Array(data.k), s: new Float64Array(h) };
}

/** C = (1/M) Σᵢ (gᵢ − ḡ)(gᵢ − ḡ)ᵀ, the covariance of the per-example gradients at θ (P×P). */
export function gradientNoiseCovariance(data: LinearDataset, net: LinearNet, theta: ArrayLike<number>): Float64Array {
  checkTheta(data, net, theta, 'gradientNoiseCovariance');
  const P = linearNetLayout(data, net).size;
  const g = new Float64Array(P);
  const mean = new Float64Array(P);
  const C = new Float64Array(P * P);
  const scratch = scratchFor(data, net);
  for (let i = 0; i < data.M; i++) {
    exampleGradient(data, net, theta, i, g, scratch);
    for (let a = 0; a < P; a++) {
      mean[a] += g[a];
      const ga = g[a];
      if (ga === 0) continue;
      for (let b = a; b < P; b++) C[a * P + b] += ga * g[b];
    }
  }
  for (let a = 0; a < P; a++) mean[a] /= data.M;
  for (let a = 0; a < P; a++) {
    for (let b = a; b < P; b++) {
      const c = C[a * P + b] / data.M - mean[a] * mean[b];
      C[a * P + b] = c;
      C[b * P + a] = c;
    }
  }
  return C;
}

export interface SgdOptions {
  /** Learning rate η. */
  lr: number;
  /** Batch size B (examples drawn with replacement). */
  batch: number;
  /** Total number of SGD steps. */
  steps: number;
  /** Record snapshots from this step on (after the update of step `recordFrom`), every `recordEvery` steps. */
  recordFrom: number;
  recordEvery: number;
  /** The layer whose weights are recorded. */
  layer: LinearLayer;
  seed: number;
  /** Standard deviation of the initial weights, times 1/√(fan-in) (default 1). */
  initScale?: number;
}

export interface SgdTrajectory {
  /** The recorded layer's weights, one vector per snapshot. */
  snapshots: Float64Array[];
  /** The full θ at the end, and its mean over the recorded window. */
  final: Float64Array;
  windowMean: Float64Array;
  /** The recorded layer's block in θ. */
  block: { offset: number; length: number };
  /** The full-data loss at the end. */
  finalLoss: number;
}

/** Minibatch SGD on the MSE from a seeded start, recording one layer's weights over a late window. */
export function sgdTrajectory(data: LinearDataset, net: LinearNet, o: SgdOptions): SgdTrajectory {
  if (!(o.lr > 0)) throw new RangeError(`sgdTrajectory: lr must be positive, got ${o.lr}`);
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new RangeError(`sgdTrajectory: batch must be a positive integer, got ${o.batch}`);
  if (!Number.isInteger(o.recordEvery) || o.recordEvery < 1) throw new RangeError(`sgdTrajectory: recordEvery must be a positive integer, got ${o.recordEvery}`);
  if (!(o.recordFrom >= 0 && o.recordFrom < o.steps)) throw new RangeError(`sgdTrajectory: recordFrom must lie in [0, steps), got ${o.recordFrom}`);
  const layout = linearNetLayout(data, net);
  const block = layerBlock(data, net, o.layer);
  const P = layout.size;
  const rng = new Rng(o.seed);
  const init = rng.split('init');
  const scale = o.initScale ?? 1;
  const theta = new Float64Array(P);
  for (const b of Object.values(layout.blocks)) {
    for (let i = 0; i < b.rows * b.cols; i++) theta[b.offset + i] = (scale * init.normal()) / Math.sqrt(b.cols);
  }
  const batches = rng.split('batches');
  const g = new Float64Array(P);
  const acc = new Float64Array(P);
  const mean = new Float64Array(P);
  const scratch = scratchFor(data, net);
  const snapshots: Float64Array[] = [];
  const step = o.lr / o.batch;
  for (let t = 0; t < o.steps; t++) {
    acc.fill(0);
    for (let b = 0; b < o.batch; b++) {
      exampleGradient(data, net, theta, batches.int(data.M), g, scratch);
      for (let a = 0; a < P; a++) acc[a] += g[a];
    }
    for (let a = 0; a < P; a++) theta[a] -= step * acc[a];
    if (t >= o.recordFrom && (t - o.recordFrom) % o.recordEvery === 0) {
      snapshots.push(theta.slice(block.offset, block.offset + block.length));
      for (let a = 0; a < P; a++) mean[a] += theta[a];
    }
  }
  for (let a = 0; a < P; a++) mean[a] /= snapshots.length;
  return { snapshots, final: theta, windowMean: mean, block, finalLoss: linearNetLoss(data, net, theta) };
}

/**
 * The minimum of L next to θ, by saddle-free Newton steps: the step −Σ (qᵀ∇L/|λ|)·q over the
 * eigenpairs of H with |λ| above `zeroTol`·λ_max, halved until the loss goes down, so negative
 * curvature is descended rather than climbed. The GL(h) zero modes of the two-layer net are left
 * alone, so the result is the minimum next to θ on its own orbit. Stops when a step no longer helps.
 */
export function polishMinimum(data: LinearDataset, net: LinearNet, theta: ArrayLike<number>, o: { maxIterations?: number; zeroTol?: number } = {}): { theta: Float64Array; gradientNorm: number; iterations: number } {
  checkTheta(data, net, theta, 'polishMinimum');
  const P = theta.length;
  const cur = Float64Array.from(theta);
  const norm = (v: Float64Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  let g = linearNetGradient(data, net, cur);
  let gn = norm(g);
  let loss = linearNetLoss(data, net, cur);
  let it = 0;
  for (; it < (o.maxIterations ?? 100) && gn > 0; it++) {
    const H = linearNetHessian(data, net, cur);
    const evd = symmetricEigenDecomposition(H, P);
    const lmax = Math.max(...Array.from(evd.values, Math.abs));
    const tol = (o.zeroTol ?? 1e-9) * lmax;
    const step = new Float64Array(P);
    for (let i = 0; i < P; i++) {
      const lam = evd.values[i];
      if (Math.abs(lam) <= tol) continue;
      const q = evd.vector(i);
      let c = 0;
      for (let a = 0; a < P; a++) c += q[a] * g[a];
      c /= Math.abs(lam);
      for (let a = 0; a < P; a++) step[a] -= c * q[a];
    }
    let accepted = false;
    for (let scale = 1; scale > 1e-6 && !accepted; scale /= 2) {
      const next = cur.map((v, a) => v + scale * step[a]);
      const l2 = linearNetLoss(data, net, next);
      const g2 = linearNetGradient(data, net, next);
      const gn2 = norm(g2);
      // Below round-off the loss cannot go down any more: then a smaller gradient is progress.
      if (l2 < loss - 1e-15 * Math.abs(loss) || (gn2 < gn && l2 <= loss + 1e-15 * Math.abs(loss))) {
        cur.set(next);
        g = g2;
        gn = gn2;
        loss = l2;
        accepted = true;
      }
    }
    if (!accepted) break;
  }
  return { theta: cur, gradientNorm: gn, iterations: it };
}

export interface LyapunovSolution {
  /** The stationary covariance Σ (n×n row-major) on the range of H (zero on its null space). */
  sigma: Float64Array;
  /** Eigenvalues of H (ascending) and how many were treated as zero modes. */
  hessianEigenvalues: Float64Array;
  zeroModes: number;
  /** tr(P₀CP₀)/tr(C): the share of the noise in H's null space (dropped with it). */
  nullNoiseShare: number;
}

/**
 * The stationary covariance of u ← (I − ηH)u + η·ξ, Cov ξ = C: Σ = (I − ηH)Σ(I − ηH)ᵀ + η²C.
 * In the eigenbasis H = QΛQᵀ (A = I − ηH is diagonal there) it is exact:
 * Σ̃_ab = η²C̃_ab / (1 − (1 − ηλ_a)(1 − ηλ_b)). Eigenvalues with |λ| ≤ zeroTol·λ_max are zero modes:
 * their rows and columns are dropped (the equation has no stationary solution along a zero mode
 * with noise). Needs 0 < ηλ < 2 on the rest, and no negative curvature beyond the tolerance.
 */
export function discreteLyapunov(H: Float64Array, C: Float64Array, n: number, lr: number, o: { zeroTol?: number } = {}): LyapunovSolution {
  if (H.length !== n * n || C.length !== n * n) throw new RangeError(`discreteLyapunov: H and C must be ${n}×${n}`);
  const evd = symmetricEigenDecomposition(H, n);
  const lam = evd.values;
  const lmax = Math.max(...Array.from(lam, Math.abs));
  const tol = (o.zeroTol ?? 1e-8) * lmax;
  const keep: number[] = [];
  for (let i = 0; i < n; i++) {
    if (Math.abs(lam[i]) <= tol) continue;
    if (lam[i] < 0) throw new RangeError(`discreteLyapunov: H has a negative eigenvalue ${lam[i]} (not a minimum)`);
    if (!(lr * lam[i] < 2)) throw new RangeError(`discreteLyapunov: ηλ = ${lr * lam[i]} ≥ 2, the linearised SGD is unstable`);
    keep.push(i);
  }
  const Q = keep.map((i) => evd.vector(i));
  const m = keep.length;
  // C̃ = QᵀCQ on the kept eigenvectors.
  const CQ = Q.map((q) => {
    const out = new Float64Array(n);
    for (let a = 0; a < n; a++) {
      let s = 0;
      for (let b = 0; b < n; b++) s += C[a * n + b] * q[b];
      out[a] = s;
    }
    return out;
  });
  const St = new Float64Array(m * m);
  let keptTrace = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      let c = 0;
      for (let a = 0; a < n; a++) c += Q[i][a] * CQ[j][a];
      if (i === j) keptTrace += c;
      const li = lam[keep[i]];
      const lj = lam[keep[j]];
      St[i * m + j] = (lr * c) / (li + lj - lr * li * lj);
    }
  }
  const sigma = new Float64Array(n * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const s = St[i * m + j];
      if (s === 0) continue;
      for (let a = 0; a < n; a++) {
        const qa = Q[i][a] * s;
        for (let b = 0; b < n; b++) sigma[a * n + b] += qa * Q[j][b];
      }
    }
  }
  let trC = 0;
  for (let a = 0; a < n; a++) trC += C[a * n + a];
  return { sigma, hessianEigenvalues: Float64Array.from(lam), zeroModes: n - m, nullNoiseShare: trC > 0 ? Math.max(0, (trC - keptTrace) / trC) : 0 };
}

export interface LinearTheory {
  /** L₀ = L(θ*) and the flatness threshold factor. */
  L0: number;
  thresholdFactor: number;
  /** The predicted PCs of the layer's fluctuations: variance σᵢ², curvature pᵢᵀH_bb pᵢ, flatness Fᵢ (rank order). */
  variances: number[];
  curvatures: number[];
  flatness: number[];
  /** The predicted PC directions (unit vectors in the layer's block). */
  directions: Float64Array[];
  /** The predicted covariance of the layer's block. */
  covariance: Float64Array;
  /** GL(h) zero modes projected out (0 for one layer), and the share of C they carried. */
  zeroModes: number;
  nullNoiseShare: number;
  /** Eigenvalues of the full Hessian at θ* (ascending). */
  hessianEigenvalues: Float64Array;
}

/**
 * The linearised-SGD prediction of one layer's stationary fluctuations at the minimum θ*: H and
 * C/B at θ*, Σ from the discrete Lyapunov equation on H's range, restricted to the layer's block;
 * its PCs pᵢ, variances σᵢ², and the exact flatness Fᵢ = 2√(2(f − 1)L₀ / pᵢᵀH_bb pᵢ) of the loss along
 * pᵢ with the other layer fixed (f the threshold factor, default e).
 */
export function linearTheory(data: LinearDataset, net: LinearNet, thetaStar: ArrayLike<number>, o: { lr: number; batch: number; layer: LinearLayer; thresholdFactor?: number; zeroTol?: number }): LinearTheory {
  checkTheta(data, net, thetaStar, 'linearTheory');
  const P = thetaStar.length;
  const H = linearNetHessian(data, net, thetaStar);
  const C = gradientNoiseCovariance(data, net, thetaStar);
  for (let i = 0; i < P * P; i++) C[i] /= o.batch;
  const lyap = discreteLyapunov(H, C, P, o.lr, { zeroTol: o.zeroTol });
  const { offset, length: n } = layerBlock(data, net, o.layer);
  const Sb = new Float64Array(n * n);
  const Hb = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      Sb[a * n + b] = lyap.sigma[(offset + a) * P + offset + b];
      Hb[a * n + b] = H[(offset + a) * P + offset + b];
    }
  }
  const evd = symmetricEigenDecomposition(Sb, n);
  const L0 = linearNetLoss(data, net, thetaStar);
  const f = o.thresholdFactor ?? Math.E;
  const variances: number[] = [];
  const curvatures: number[] = [];
  const flatness: number[] = [];
  const directions: Float64Array[] = [];
  for (let r = n - 1; r >= 0; r--) {
    const p = evd.vector(r);
    let c = 0;
    for (let a = 0; a < n; a++) {
      let s = 0;
      for (let b = 0; b < n; b++) s += Hb[a * n + b] * p[b];
      c += p[a] * s;
    }
    variances.push(evd.values[r]);
    curvatures.push(c);
    flatness.push(c > 0 ? 2 * Math.sqrt((2 * (f - 1) * L0) / c) : Infinity);
    directions.push(p);
  }
  return { L0, thresholdFactor: f, variances, curvatures, flatness, directions, covariance: Sb, zeroModes: lyap.zeroModes, nullNoiseShare: lyap.nullNoiseShare, hessianEigenvalues: lyap.hessianEigenvalues };
}

/**
 * An orthonormal basis of the part of one layer's block that the GL(h) orbit moves: the tangent
 * (δW₁, δW₂) = (ΔW₁, −W₂Δ) restricted to W₂ is {W₂Δ}, to W₁ {ΔW₁} (Δ ∈ R^{h×h}; h² vectors when
 * the factors have full rank). The linearised theory puts no noise along the orbit, so SGD motion
 * along it (the slow drift of the balance W₁W₁ᵀ − W₂ᵀW₂) shows up in this subspace only.
 */
export function orbitTangentBasis(data: LinearDataset, net: LinearNet, theta: ArrayLike<number>, layer: LinearLayer): Float64Array[] {
  checkTheta(data, net, theta, 'orbitTangentBasis');
  if (net.layers !== 2) throw new RangeError('orbitTangentBasis: only the two-layer net has a GL(h) orbit');
  const { d, k } = data;
  const h = net.hidden;
  const { offset, length: n } = layerBlock(data, net, layer);
  const raw: Float64Array[] = [];
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < h; j++) {
      const v = new Float64Array(n);
      // Δ = e_i e_jᵀ: (W₂Δ)[c, a] = W₂[c, i]·δ(a = j); (ΔW₁)[a, x] = δ(a = i)·W₁[j, x].
      if (layer === 'W2') for (let c = 0; c < k; c++) v[c * h + j] = theta[offset + c * h + i];
      else for (let x = 0; x < d; x++) v[i * d + x] = theta[j * d + x];
      raw.push(v);
    }
  }
  const basis: Float64Array[] = [];
  const scale = Math.max(...raw.map((v) => Math.sqrt(v.reduce((t, x) => t + x * x, 0))));
  for (const v of raw) {
    for (const q of basis) {
      let c = 0;
      for (let a = 0; a < n; a++) c += q[a] * v[a];
      for (let a = 0; a < n; a++) v[a] -= c * q[a];
    }
    const nv = Math.sqrt(v.reduce((t, x) => t + x * x, 0));
    if (nv > 1e-10 * scale) basis.push(v.map((x) => x / nv));
  }
  return basis;
}

/**
 * ψ of σᵢ² ∝ Fᵢ^(−ψ) from paired variances and flatnesses (ordinary least squares of ln σ² on ln F,
 * the estimator `analyzeTrajectory` uses), over the 1-based `ranks` (default all).
 */
export function predictedPsi(theory: Pick<LinearTheory, 'variances' | 'flatness'>, ranks?: number[]): { value: number; r2: number; n: number } {
  const rs = ranks ?? theory.variances.map((_, i) => i + 1);
  const pts = rs.map((r) => [Math.log(theory.flatness[r - 1]), Math.log(theory.variances[r - 1])]).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  const n = pts.length;
  if (n < 2) throw new RangeError(`predictedPsi: need at least 2 finite points, got ${n}`);
  const mx = pts.reduce((s, p) => s + p[0], 0) / n;
  const my = pts.reduce((s, p) => s + p[1], 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [a, b] of pts) {
    sxx += (a - mx) ** 2;
    sxy += (a - mx) * (b - my);
    syy += (b - my) ** 2;
  }
  const slope = sxy / sxx;
  return { value: -slope, r2: syy > 0 ? (sxy * sxy) / (sxx * syy) : 1, n };
}

/** A Haar-random orthogonal d×d matrix (row-major; Gram–Schmidt on normals). */
function randomOrthogonal(d: number, rng: Rng): Float64Array {
  const Q = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    const v = new Float64Array(d).map(() => rng.normal());
    for (let p = 0; p < c; p++) {
      let s = 0;
      for (let a = 0; a < d; a++) s += v[a] * Q[a * d + p];
      for (let a = 0; a < d; a++) v[a] -= s * Q[a * d + p];
    }
    const nv = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    for (let a = 0; a < d; a++) Q[a * d + c] = v[a] / nv;
  }
  return Q;
}
