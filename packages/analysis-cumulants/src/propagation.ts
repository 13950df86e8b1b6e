import { binomial, cumulantsFromMoments, momentsFromCumulants } from './stats';

/*
 * Analytic cumulant propagation (docs/learned-rg-maps.md).
 *
 * Affine layers z = Wᵀx + c: κ₁ ↦ Wᵀκ₁ + c, and the order-n joint cumulant tensor is contracted
 * with W on every index (orders never mix): `affineCumulantTensors`.
 *
 * Quadratic activations: a network of affine layers with at most one elementwise quadratic
 * activation y = z + αz² between them computes, per output, a quadratic form
 * y = c + aᵀx + xᵀBx of its inputs. For i.i.d. inputs with cumulants κ₁…κ₈ its cumulants up to
 * order 4 are exact: by multilinearity κₙ(y) is a sum of joint cumulants of products of inputs, and
 * by the Leonov–Shiryaev formula each of those is a sum over the partitions π of the factors that
 * connect the n slots, of Π_{blocks} κ(x_block); independence makes κ(x_block) = κ_|block| when
 * every factor of the block is the same site and 0 otherwise. Output order n draws on input orders
 * up to 2n. `compileQuadraticForm` does the site sums once per output; `evaluateCompiled` combines
 * them with any input cumulants (cheap, so bootstrap replicates can re-estimate the inputs').
 */

/** A factor of a site sum: a_s (L), (B1)_s (R), B_ss (D) on one block; B_{s,t} (Q) on two; Σa, 1ᵀB1 (scalars). */
type Factor = { kind: 'L'; u: number } | { kind: 'R'; u: number } | { kind: 'D'; u: number } | { kind: 'Q'; u: number; v: number } | { kind: 'SA' } | { kind: 'SB' };

interface Structure {
  /** Number of distinct-site blocks summed over (blocks of ≥ 2 factors). */
  m: number;
  factors: Factor[];
  /** Orders of the input cumulants multiplied (one per block, singletons give κ₁). */
  orders: number[];
  count: number;
}

function factorKey(f: Factor, perm: readonly number[]): string {
  if (f.kind === 'Q') {
    const a = perm[f.u];
    const b = perm[f.v];
    return `Q${Math.min(a, b)},${Math.max(a, b)}`;
  }
  if (f.kind === 'L' || f.kind === 'R' || f.kind === 'D') return `${f.kind}${perm[f.u]}`;
  return f.kind;
}

function permutations(m: number): number[][] {
  if (m === 0) return [[]];
  const out: number[][] = [];
  for (const p of permutations(m - 1)) {
    for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), m - 1, ...p.slice(i)]);
  }
  return out;
}

function canonical(m: number, factors: Factor[], blockOrders: number[], singletons: number): { key: string; factors: Factor[]; blockOrders: number[] } {
  let best: { key: string; perm: number[] } | undefined;
  for (const perm of permutations(m)) {
    const fk = factors.map((f) => factorKey(f, perm)).sort().join(' ');
    const ord = new Array<number>(m);
    for (let i = 0; i < m; i++) ord[perm[i]] = blockOrders[i];
    const key = `${m}|${ord.join(',')}|${singletons}|${fk}`;
    if (!best || key < best.key) best = { key, perm };
  }
  const perm = best!.perm;
  const relabel = (f: Factor): Factor => {
    if (f.kind === 'Q') return { kind: 'Q', u: perm[f.u], v: perm[f.v] };
    if (f.kind === 'L' || f.kind === 'R' || f.kind === 'D') return { kind: f.kind, u: perm[f.u] };
    return f;
  };
  const ord = new Array<number>(m);
  for (let i = 0; i < m; i++) ord[perm[i]] = blockOrders[i];
  return { key: best!.key, factors: factors.map(relabel), blockOrders: ord };
}

/** Every set partition of `k` elements as a block label per element (restricted growth strings). */
function* setPartitions(k: number): Generator<number[]> {
  const labels = new Array<number>(k).fill(0);
  function* rec(i: number, blocks: number): Generator<number[]> {
    if (i === k) {
      yield labels.slice();
      return;
    }
    for (let b = 0; b <= blocks; b++) {
      labels[i] = b;
      yield* rec(i + 1, Math.max(blocks, b + 1));
    }
  }
  yield* rec(0, 0);
}

let STRUCTURES: Structure[][] | undefined;

/** The distinct site-sum structures of κₙ(c + aᵀx + xᵀBx), n = 1…4, with multiplicities. */
function structures(): Structure[][] {
  if (STRUCTURES) return STRUCTURES;
  const all: Structure[][] = [];
  for (let n = 1; n <= 4; n++) {
    const byKey = new Map<string, Structure>();
    for (let mask = 0; mask < 1 << n; mask++) {
      // slot s is quadratic when bit s is set; its elements are consecutive
      const elemSlot: number[] = [];
      for (let s = 0; s < n; s++) {
        elemSlot.push(s);
        if (mask & (1 << s)) elemSlot.push(s);
      }
      for (const labels of setPartitions(elemSlot.length)) {
        const nBlocks = Math.max(...labels) + 1;
        // connected: the slots joined through shared blocks form one component
        const parent = Array.from({ length: n }, (_, i) => i);
        const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
        const firstSlot = new Array<number>(nBlocks).fill(-1);
        labels.forEach((b, e) => {
          if (firstSlot[b] < 0) firstSlot[b] = elemSlot[e];
          else parent[find(elemSlot[e])] = find(firstSlot[b]);
        });
        const root = find(0);
        if (!parent.every((_, i) => find(i) === root)) continue;
        const size = new Array<number>(nBlocks).fill(0);
        for (const b of labels) size[b]++;
        const relabel = new Array<number>(nBlocks).fill(-1);
        const blockOrders: number[] = [];
        for (let b = 0; b < nBlocks; b++) {
          if (size[b] >= 2) {
            relabel[b] = blockOrders.length;
            blockOrders.push(size[b]);
          }
        }
        const singletons = size.filter((s) => s === 1).length;
        const factors: Factor[] = [];
        let e = 0;
        for (let s = 0; s < n; s++) {
          if (mask & (1 << s)) {
            const b1 = labels[e];
            const b2 = labels[e + 1];
            e += 2;
            if (b1 === b2) factors.push({ kind: 'D', u: relabel[b1] });
            else if (size[b1] === 1 && size[b2] === 1) factors.push({ kind: 'SB' });
            else if (size[b1] === 1) factors.push({ kind: 'R', u: relabel[b2] });
            else if (size[b2] === 1) factors.push({ kind: 'R', u: relabel[b1] });
            else factors.push({ kind: 'Q', u: relabel[b1], v: relabel[b2] });
          } else {
            const b = labels[e];
            e += 1;
            factors.push(size[b] === 1 ? { kind: 'SA' } : { kind: 'L', u: relabel[b] });
          }
        }
        const c = canonical(blockOrders.length, factors, blockOrders, singletons);
        const orders = [...c.blockOrders, ...new Array<number>(singletons).fill(1)];
        const prev = byKey.get(c.key);
        if (prev) prev.count++;
        else byKey.set(c.key, { m: blockOrders.length, factors: c.factors, orders, count: 1 });
      }
    }
    all.push([...byKey.values()]);
  }
  return (STRUCTURES = all);
}

/** y = c + aᵀx + xᵀBx over `n` inputs; B row-major n×n (symmetrised on compilation). */
export interface QuadraticForm {
  c: number;
  a: ArrayLike<number>;
  B: ArrayLike<number>;
}

/** One output's cumulants as polynomials in the input cumulants: κₙ(y) = [n = 1]·c + Σ coef·Π κ_orders. */
export interface CompiledForm {
  c: number;
  /** Per order n = 1…4: monomials in the input cumulants (orders listed with repetition). */
  terms: { coef: number; orders: number[] }[][];
  /** Highest input cumulant order the form needs (4 when affine, 8 when quadratic). */
  maxOrder: number;
}

/** Do the site sums of every structure for one quadratic form (once per output); `naive` sums all N^m site tuples (a reference for tests). */
export function compileQuadraticForm(form: QuadraticForm, sites: number, options: { naive?: boolean } = {}): CompiledForm {
  const N = sites;
  if (form.a.length !== N || form.B.length !== N * N) throw new RangeError(`compileQuadraticForm: expected a of length ${N} and B of ${N * N}, got ${form.a.length} and ${form.B.length}`);
  const a = Float64Array.from(form.a);
  const B = new Float64Array(N * N);
  let quadratic = false;
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      B[i * N + j] = 0.5 * (form.B[i * N + j] + form.B[j * N + i]);
      if (B[i * N + j] !== 0) quadratic = true;
    }
  }
  const r = new Float64Array(N);
  const d = new Float64Array(N);
  let sumA = 0;
  let sumB = 0;
  for (let i = 0; i < N; i++) {
    sumA += a[i];
    d[i] = B[i * N + i];
    for (let j = 0; j < N; j++) r[i] += B[i * N + j];
    sumB += r[i];
  }
  const unary = { L: a, R: r, D: d } as const;
  /** Σ over sites of every block of the product of the structure's factors, by brute force (N^m terms). */
  const naiveSum = (st: Structure): number => {
    const idx = new Array<number>(st.m).fill(0);
    const total = Math.pow(N, st.m);
    let acc = 0;
    for (let t = 0; t < total; t++) {
      let p = 1;
      for (const f of st.factors) {
        if (f.kind === 'Q') p *= B[idx[f.u] * N + idx[f.v]];
        else if (f.kind === 'SA' || f.kind === 'SB') p *= f.kind === 'SA' ? sumA : sumB;
        else p *= unary[f.kind][idx[f.u]];
      }
      acc += p;
      for (let k = 0; k < st.m; k++) {
        if (++idx[k] < N) break;
        idx[k] = 0;
      }
    }
    return acc;
  };
  /**
   * The same sum by variable elimination: sum out one block at a time into a table over its
   * neighbours. Every block has degree = its size, and m = 4 only with four blocks of size 2 (cycles),
   * so no table has more than 2 variables and the cost is O(N³) per structure instead of O(N⁴).
   */
  const eliminationSum = (st: Structure): number => {
    let scalar = 1;
    let tabs: { vars: number[]; t: Float64Array }[] = [];
    for (const f of st.factors) {
      if (f.kind === 'SA' || f.kind === 'SB') scalar *= f.kind === 'SA' ? sumA : sumB;
      else if (f.kind === 'Q') tabs.push({ vars: [f.u, f.v], t: B });
      else tabs.push({ vars: [f.u], t: unary[f.kind] });
    }
    const alive = new Set(Array.from({ length: st.m }, (_, i) => i));
    const assign = new Array<number>(st.m).fill(0);
    const entry = (tab: { vars: number[]; t: Float64Array }) => {
      let i = 0;
      for (const v of tab.vars) i = i * N + assign[v];
      return tab.t[i];
    };
    while (alive.size > 0) {
      let u = -1;
      let others: number[] = [];
      for (const v of alive) {
        const o = [...new Set(tabs.filter((tb) => tb.vars.includes(v)).flatMap((tb) => tb.vars))].filter((w) => w !== v);
        if (u < 0 || o.length < others.length) {
          u = v;
          others = o;
        }
      }
      const touching = tabs.filter((tb) => tb.vars.includes(u));
      const size = Math.pow(N, others.length);
      const t = new Float64Array(size);
      for (let i = 0; i < size; i++) {
        let rem = i;
        for (let k = others.length - 1; k >= 0; k--) {
          assign[others[k]] = rem % N;
          rem = Math.floor(rem / N);
        }
        let acc = 0;
        for (let sIdx = 0; sIdx < N; sIdx++) {
          assign[u] = sIdx;
          let p = 1;
          for (const tb of touching) p *= entry(tb);
          acc += p;
        }
        t[i] = acc;
      }
      tabs = [...tabs.filter((tb) => !tb.vars.includes(u)), { vars: others, t }];
      alive.delete(u);
    }
    for (const tb of tabs) scalar *= tb.t[0];
    return scalar;
  };
  const siteSum = options.naive ? naiveSum : eliminationSum;
  const terms = structures().map((list) => {
    const byOrders = new Map<string, { coef: number; orders: number[] }>();
    for (const st of list) {
      // affine forms: every structure with a B factor vanishes
      if (!quadratic && st.factors.some((f) => f.kind !== 'L' && f.kind !== 'SA')) continue;
      const coef = st.count * siteSum(st);
      const orders = [...st.orders].sort((x, y) => x - y);
      const key = orders.join(',');
      const prev = byOrders.get(key);
      if (prev) prev.coef += coef;
      else byOrders.set(key, { coef, orders });
    }
    return [...byOrders.values()].filter((t) => t.coef !== 0);
  });
  return { c: form.c, terms, maxOrder: quadratic ? 8 : 4 };
}

/** κ₁…κ₄ of a compiled form's output for i.i.d. inputs with cumulants `kappa` (κ₁ first; up to `maxOrder`). */
export function evaluateCompiled(form: CompiledForm, kappa: readonly number[]): [number, number, number, number] {
  const out: number[] = [];
  for (let n = 0; n < 4; n++) {
    let s = n === 0 ? form.c : 0;
    for (const t of form.terms[n]) {
      let p = t.coef;
      for (const o of t.orders) {
        if (o > kappa.length) throw new RangeError(`evaluateCompiled: needs input cumulants up to order ${form.maxOrder}, got ${kappa.length}`);
        p *= kappa[o - 1];
      }
      s += p;
    }
    out.push(s);
  }
  return out as [number, number, number, number];
}

/** κ₁…κ₄ of c + aᵀx + xᵀBx for i.i.d. inputs with cumulants `kappa` (exact; needs κ up to order 8 when B ≠ 0). */
export function quadraticFormCumulants(form: QuadraticForm, kappa: readonly number[]): [number, number, number, number] {
  return evaluateCompiled(compileQuadraticForm(form, form.a.length), kappa);
}

/**
 * Cumulants of the pooled values of several outputs (a mixture with equal weights): raw moments
 * average, cumulants follow. Orders given as κ₁…κ_K per output.
 */
export function pooledCumulants(perOutput: readonly (readonly number[])[]): number[] {
  const K = perOutput[0].length;
  const m = new Array<number>(K).fill(0);
  for (const k of perOutput) {
    const mk = momentsFromCumulants(k);
    for (let i = 0; i < K; i++) m[i] += mk[i] / perOutput.length;
  }
  return cumulantsFromMoments(m);
}

/**
 * Scalar quadratic activation y = z + αz²: κ₁…κ₄ of y from κ₁…κ₈ of z (exact), through
 * E[yⁿ] = Σₖ C(n, k) αᵏ E[z^(n+k)]. For n = 1, 2 this is the pair of formulas in docs/learned-rg-maps.md:
 * κ₁(y) = κ₁ + α(κ₂ + κ₁²), κ₂(y) = κ₂ + 2α(κ₃ + 2κ₁κ₂) + α²(κ₄ + 4κ₁κ₃ + 2κ₂² + 4κ₁²κ₂).
 */
export function quadraticScalarCumulants(kappaZ: readonly number[], alpha: number): [number, number, number, number] {
  if (kappaZ.length < 8) throw new RangeError(`quadraticScalarCumulants needs κ₁…κ₈ of z, got ${kappaZ.length}`);
  const mz = [1, ...momentsFromCumulants(kappaZ.slice(0, 8))];
  const my: number[] = [];
  for (let n = 1; n <= 4; n++) {
    let s = 0;
    for (let k = 0; k <= n; k++) s += binomial(n, k) * Math.pow(alpha, k) * mz[n + k];
    my.push(s);
  }
  return cumulantsFromMoments(my) as [number, number, number, number];
}

/** Joint cumulant tensors of orders 1…4 of a d-vector (row-major, order r has d^r entries). */
export interface CumulantTensors {
  d: number;
  k1: Float64Array;
  k2: Float64Array;
  k3: Float64Array;
  k4: Float64Array;
}

/** The joint cumulant tensors of d i.i.d. inputs with cumulants κ₁…κ₄: diagonal. */
export function iidCumulantTensors(d: number, kappa: readonly number[]): CumulantTensors {
  const t: CumulantTensors = { d, k1: new Float64Array(d).fill(kappa[0]), k2: new Float64Array(d ** 2), k3: new Float64Array(d ** 3), k4: new Float64Array(d ** 4) };
  for (let i = 0; i < d; i++) {
    t.k2[i * (d + 1)] = kappa[1];
    t.k3[i * (d * d + d + 1)] = kappa[2];
    t.k4[i * (d * d * d + d * d + d + 1)] = kappa[3];
  }
  return t;
}

/** Contract every index of an order-r tensor over `din` with W [din, dout] (row-major). */
function contractAll(T: Float64Array, r: number, W: ArrayLike<number>, din: number, dout: number): Float64Array {
  let cur = T;
  // dims of the current tensor: the first `done` indices already over dout
  for (let mode = 0; mode < r; mode++) {
    const before = Math.pow(dout, mode);
    const after = Math.pow(din, r - mode - 1);
    const next = new Float64Array(before * dout * after);
    for (let p = 0; p < before; p++) {
      for (let i = 0; i < din; i++) {
        const srcBase = (p * din + i) * after;
        for (let j = 0; j < dout; j++) {
          const w = W[i * dout + j];
          if (w === 0) continue;
          const dstBase = (p * dout + j) * after;
          for (let q = 0; q < after; q++) next[dstBase + q] += w * cur[srcBase + q];
        }
      }
    }
    cur = next;
  }
  return cur;
}

/**
 * Affine layer z = Wᵀx + c (W [din, dout], as the models' `dense*.weight`): κ₁ ↦ Wᵀκ₁ + c and
 * κₙ contracted with W on every index (exact).
 */
export function affineCumulantTensors(t: CumulantTensors, W: ArrayLike<number>, dout: number, c?: ArrayLike<number>): CumulantTensors {
  const din = t.d;
  if (W.length !== din * dout) throw new RangeError(`affineCumulantTensors: W has ${W.length} entries, expected ${din}×${dout}`);
  const k1 = contractAll(t.k1, 1, W, din, dout);
  if (c) for (let j = 0; j < dout; j++) k1[j] += c[j];
  return { d: dout, k1, k2: contractAll(t.k2, 2, W, din, dout), k3: contractAll(t.k3, 3, W, din, dout), k4: contractAll(t.k4, 4, W, din, dout) };
}

/** Gauss–Hermite nodes and weights for E[f(ξ)], ξ ~ N(0, 1) (probabilists' form; Golub–Welsch-free Newton iteration). */
export function gaussHermite(n: number): { nodes: Float64Array; weights: Float64Array } {
  // physicists' nodes by Newton on the orthonormal recurrence (Numerical Recipes' gauher)
  const x = new Float64Array(n);
  const w = new Float64Array(n);
  const PIM4 = Math.pow(Math.PI, -0.25);
  let z = 0;
  for (let i = 0; i < Math.floor((n + 1) / 2); i++) {
    if (i === 0) z = Math.sqrt(2 * n + 1) - 1.85575 * Math.pow(2 * n + 1, -0.16667);
    else if (i === 1) z -= (1.14 * Math.pow(n, 0.426)) / z;
    else if (i === 2) z = 1.86 * z - 0.86 * x[0];
    else if (i === 3) z = 1.91 * z - 0.91 * x[1];
    else z = 2 * z - x[i - 2];
    let pp = 0;
    for (let it = 0; it < 100; it++) {
      let p1 = PIM4;
      let p2 = 0;
      for (let j = 0; j < n; j++) {
        const p3 = p2;
        p2 = p1;
        p1 = z * Math.sqrt(2 / (j + 1)) * p2 - Math.sqrt(j / (j + 1)) * p3;
      }
      pp = Math.sqrt(2 * n) * p2;
      const z1 = z;
      z = z1 - p1 / pp;
      if (Math.abs(z - z1) <= 1e-14) break;
    }
    x[i] = z;
    x[n - 1 - i] = -z;
    w[i] = 2 / (pp * pp);
    w[n - 1 - i] = w[i];
  }
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    nodes[i] = Math.SQRT2 * x[i];
    weights[i] = w[i] / Math.sqrt(Math.PI);
  }
  return { nodes, weights };
}

/** A dense layer as the models store it: z = hW + b, W [din, dout] row-major. */
export interface DenseLayer {
  W: ArrayLike<number>;
  b?: ArrayLike<number>;
  din: number;
  dout: number;
}

/**
 * Gaussian closure through a dense chain with an elementwise activation φ between layers (none
 * after the last): each pre-activation vector is taken as jointly Gaussian with its propagated
 * mean and covariance; the mean and covariance of φ(z) are then exact under that Gaussian (1-D and
 * 2-D Gauss–Hermite), and the affine layers propagate them exactly. Inputs: i.i.d. with mean κ₁
 * and variance κ₂. Gives κ₁ and κ₂ of every output (higher orders are not predicted). `activation`
 * is elementwise on a batch of arguments: one function, or one per hidden layer.
 */
export function gaussianClosure(
  layers: readonly DenseLayer[],
  activation: ((z: Float64Array) => Float64Array) | readonly ((z: Float64Array) => Float64Array)[],
  inputMean: number,
  inputVar: number,
  nodes = 24,
): { mean: Float64Array; variance: Float64Array } {
  const gh = gaussHermite(nodes);
  const d0 = layers[0].din;
  let mean: Float64Array = new Float64Array(d0).fill(inputMean);
  let cov = new Float64Array(d0 * d0);
  for (let i = 0; i < d0; i++) cov[i * (d0 + 1)] = inputVar;
  layers.forEach((L, li) => {
    const { din, dout, W } = L;
    const m2 = new Float64Array(dout);
    for (let j = 0; j < dout; j++) {
      let s = L.b ? L.b[j] : 0;
      for (let i = 0; i < din; i++) s += mean[i] * W[i * dout + j];
      m2[j] = s;
    }
    // WᵀΣW
    const tmp = new Float64Array(din * dout);
    for (let i = 0; i < din; i++) for (let k = 0; k < din; k++) { const c = cov[i * din + k]; if (c !== 0) for (let j = 0; j < dout; j++) tmp[i * dout + j] += c * W[k * dout + j]; }
    const c2 = new Float64Array(dout * dout);
    for (let i = 0; i < din; i++) for (let j = 0; j < dout; j++) { const wi = W[i * dout + j]; if (wi !== 0) for (let l = 0; l < dout; l++) c2[j * dout + l] += wi * tmp[i * dout + l]; }
    mean = m2;
    cov = c2;
    if (li === layers.length - 1) return;
    // activation under the Gaussian closure (one function, or one per hidden layer)
    const phi = typeof activation === 'function' ? activation : activation[li];
    const n = dout;
    const G = gh.nodes.length;
    const sd = Array.from({ length: n }, (_, j) => Math.sqrt(Math.max(cov[j * n + j], 0)));
    const args1 = new Float64Array(n * G);
    for (let j = 0; j < n; j++) for (let g = 0; g < G; g++) args1[j * G + g] = mean[j] + sd[j] * gh.nodes[g];
    const f1 = phi(args1);
    const em = new Float64Array(n);
    const e2 = new Float64Array(n);
    for (let j = 0; j < n; j++) for (let g = 0; g < G; g++) { const v = f1[j * G + g]; em[j] += gh.weights[g] * v; e2[j] += gh.weights[g] * v * v; }
    const pairs: [number, number][] = [];
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push([i, j]);
    const args2 = new Float64Array(pairs.length * G * G * 2);
    pairs.forEach(([i, j], p) => {
      const rho = sd[i] > 0 && sd[j] > 0 ? Math.max(-1, Math.min(1, cov[i * n + j] / (sd[i] * sd[j]))) : 0;
      const s = Math.sqrt(1 - rho * rho);
      for (let g = 0; g < G; g++) for (let h = 0; h < G; h++) {
        const base = ((p * G + g) * G + h) * 2;
        args2[base] = mean[i] + sd[i] * gh.nodes[g];
        args2[base + 1] = mean[j] + sd[j] * (rho * gh.nodes[g] + s * gh.nodes[h]);
      }
    });
    const f2 = pairs.length ? phi(args2) : new Float64Array(0);
    const hc = new Float64Array(n * n);
    for (let j = 0; j < n; j++) hc[j * n + j] = e2[j] - em[j] * em[j];
    pairs.forEach(([i, j], p) => {
      let s = 0;
      for (let g = 0; g < G; g++) for (let h = 0; h < G; h++) {
        const base = ((p * G + g) * G + h) * 2;
        s += gh.weights[g] * gh.weights[h] * f2[base] * f2[base + 1];
      }
      hc[i * n + j] = hc[j * n + i] = s - em[i] * em[j];
    });
    mean = em;
    cov = hc;
  });
  const d = layers[layers.length - 1].dout;
  const variance = new Float64Array(d);
  for (let j = 0; j < d; j++) variance[j] = cov[j * d + j];
  return { mean, variance };
}
