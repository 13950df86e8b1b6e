import type * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { API_VERSION, defineTask, formatCount, type Json, type Rng, type SizeEstimate, type Split, type TaskInstance } from '@goldstone/plugin-api';
import { scoreTensors } from '@goldstone/core';
import { classSizes, cliqueUnionAut, entropyBits, informationBits } from './info';

export const RELATIONS = ['order', 'equivalence', 'cycle', 'lattice', 'addition', 'addition-mod'] as const;
export type RelationName = (typeof RELATIONS)[number];

/** Options of the `relations` task (all have defaults; `{}` is valid). */
export const relationsOptions = z
  .strictObject({
    relation: z
      .enum(RELATIONS)
      .default('order')
      .describe('order: a < b; equivalence: a ≡ b (mod k); cycle: adjacent on the n-cycle; lattice: adjacent on the open L×L square lattice; addition: a + b (2n−1 classes); addition-mod: a + b mod n (n classes)'),
    nodes: z.number().int().min(2).optional().describe('Number of nodes n (symbols p for addition); default 30, 10 for addition, side² for a lattice with side'),
    k: z.number().int().min(2).default(3).describe('Modulus of the equivalence relation (2 ≤ k < n)'),
    side: z.number().int().min(2).optional().describe('Side L of the lattice (n = L²); default √n'),
    trainFraction: z.number().gt(0).lt(1).optional().describe('Fraction p of the unordered pairs in the train split (both orientations together); default 0.5'),
    trainNum: z.number().int().min(1).optional().describe('Number of unordered pairs in the train split instead of trainFraction (stage A: 5…54 of 55)'),
    encoding: z.enum(['one-hot', 'index']).default('one-hot').describe('Inputs: one-hot [2, n] (embedding-decoder reads n from them) or node indices [2] as floats (embedding-decoder needs nodes)'),
    target: z.enum(['class', 'template']).default('class').describe('Targets: class (one-hot or 0/1, cross-entropy) or template (a fixed random N(0, templateScale²) vector of templateDim values per class, MSE, accuracy = nearest template: the grokking toy)'),
    templateDim: z.number().int().min(1).optional().describe('Values per class template with target template; default 30'),
    templateScale: z.number().positive().optional().describe('Standard deviation of the template values with target template; default 1'),
    orientations: z.enum(['both', 'one']).default('both').describe('Examples per unordered pair: both (a, b) and (b, a), or one, (a, b) with a ≤ b (addition) or a < b (the toy); one needs a symmetric label'),
  })
  .superRefine((o, ctx) => {
    const n = nodesOf(o);
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (o.relation === 'lattice') {
      if (o.side !== undefined && o.nodes !== undefined && o.nodes !== o.side ** 2) issue('side', `side ${o.side} needs nodes = ${o.side ** 2}; got nodes ${o.nodes}`);
      else if (o.side === undefined && !Number.isInteger(Math.sqrt(n))) issue('nodes', `a square lattice needs a perfect square number of nodes (or side); got ${n}`);
    } else if (o.side !== undefined) issue('side', `side applies to relation lattice only; got relation ${o.relation}`);
    if (o.relation === 'cycle' && n < 3) issue('nodes', `a cycle needs at least 3 nodes; got ${n}`);
    if (o.relation === 'equivalence' && o.k >= n) issue('k', `k must be below the number of nodes (${n}) so that some pair is related; got ${o.k}`);
    if (o.target !== 'template') {
      if (o.templateDim !== undefined) issue('templateDim', `applies to target template only; got target ${o.target}`);
      if (o.templateScale !== undefined) issue('templateScale', `applies to target template only; got target ${o.target}`);
    }
    if (o.orientations === 'one' && o.relation === 'order') issue('orientations', 'one needs a symmetric label (label(a, b) = label(b, a)); relation order is antisymmetric, so both orientations are needed');
    if (o.trainFraction !== undefined && o.trainNum !== undefined) issue('trainNum', `give trainFraction or trainNum, not both; got trainFraction ${o.trainFraction} and trainNum ${o.trainNum}`);
    const pairs = unorderedPairCount(o.relation, n);
    if (o.trainNum !== undefined && o.trainNum >= pairs) issue('trainNum', `must be below the ${pairs} unordered pairs (the test split needs one); got ${o.trainNum}`);
    if (o.trainNum === undefined) {
      const t = Math.round((o.trainFraction ?? 0.5) * pairs);
      if (t < 1 || t >= pairs) issue('trainFraction', `${o.trainFraction ?? 0.5} of ${pairs} unordered pairs rounds to ${t} train pairs; need 1…${pairs - 1}`);
    }
  });

export type RelationsOptions = z.output<typeof relationsOptions>;

type Resolved = Pick<RelationsOptions, 'relation' | 'nodes' | 'side'>;

/** The number of nodes the options mean. */
export function nodesOf(o: Resolved): number {
  if (o.nodes !== undefined) return o.nodes;
  if (o.relation === 'lattice' && o.side !== undefined) return o.side ** 2;
  return o.relation === 'addition' || o.relation === 'addition-mod' ? 10 : 30;
}

const isAddition = (r: RelationName): boolean => r === 'addition' || r === 'addition-mod';

/** Unordered pairs: a < b for relations, a ≤ b for addition tables (stage A: 55 for p = 10). */
export function unorderedPairCount(relation: RelationName, n: number): number {
  return isAddition(relation) ? (n * (n + 1)) / 2 : (n * (n - 1)) / 2;
}

/** The label of the ordered pair (a, b): 0/1 for relations, the class index for addition. */
export function labeller(o: RelationsOptions): (a: number, b: number) => number {
  const n = nodesOf(o);
  switch (o.relation) {
    case 'order':
      return (a, b) => (a < b ? 1 : 0);
    case 'equivalence':
      return (a, b) => (a % o.k === b % o.k ? 1 : 0);
    case 'cycle':
      return (a, b) => ((a - b + n) % n === 1 || (b - a + n) % n === 1 ? 1 : 0);
    case 'lattice': {
      const L = Math.round(Math.sqrt(n));
      return (a, b) => {
        const dr = Math.abs(Math.floor(a / L) - Math.floor(b / L));
        const dc = Math.abs((a % L) - (b % L));
        return dr + dc === 1 ? 1 : 0;
      };
    }
    case 'addition':
      return (a, b) => a + b;
    case 'addition-mod':
      return (a, b) => (a + b) % n;
  }
}

/** Number of label classes (1 output for the binary relations). */
export function classCount(relation: RelationName, n: number): number {
  return relation === 'addition' ? 2 * n - 1 : relation === 'addition-mod' ? n : 2;
}

/**
 * |Aut G|: node permutations σ with label(σa, σb) = label(a, b) for every pair. Order: 1. Equivalence:
 * ∏ₛ (s!)^{mₛ} mₛ! over class sizes. Cycle Cₙ (n ≥ 3): 2n (dihedral). Open L×L lattice (L ≥ 2): 8
 * (the square's dihedral group; L = 2 is C₄, also 8). Addition a + b: 1 (2σ(a) = 2a). a + b mod n:
 * the translations σ(a) = a + c with 2c ≡ 0, so 1 for odd n and 2 for even n.
 */
export function automorphismCount(o: RelationsOptions): bigint {
  const n = nodesOf(o);
  switch (o.relation) {
    case 'order':
    case 'addition':
      return 1n;
    case 'equivalence':
      return cliqueUnionAut(classSizes(n, o.k));
    case 'cycle':
      return BigInt(2 * n);
    case 'lattice':
      return 8n;
    case 'addition-mod':
      return n % 2 === 0 ? 2n : 1n;
  }
}

/** The unordered pairs (a ≤ b for addition, a < b otherwise), in lexicographic order. */
export function unorderedPairs(relation: RelationName, n: number): [number, number][] {
  const out: [number, number][] = [];
  const diag = isAddition(relation);
  for (let a = 0; a < n; a++) for (let b = diag ? a : a + 1; b < n; b++) out.push([a, b]);
  return out;
}

/** Train pairs asked for: trainNum, or round(trainFraction · pairs). */
export function trainCount(o: RelationsOptions): number {
  return o.trainNum ?? Math.round((o.trainFraction ?? 0.5) * unorderedPairCount(o.relation, nodesOf(o)));
}

/** Width of a target: templateDim (templates), 1 (binary relations) or the class count. */
export function targetWidth(o: RelationsOptions): number {
  if (o.target === 'template') return o.templateDim ?? DEFAULT_TEMPLATE_DIM;
  const C = classCount(o.relation, nodesOf(o));
  return C === 2 ? 1 : C;
}

export const DEFAULT_TEMPLATE_DIM = 30;

/**
 * The class templates of `target: template`: classCount × templateDim values N(0, templateScale²),
 * row c the target of class c, drawn from `rng` (the task's `rng.split('templates')`).
 */
export function drawTemplates(o: RelationsOptions, rng: Rng): Float32Array {
  return rng.normalArray(classCount(o.relation, nodesOf(o)) * (o.templateDim ?? DEFAULT_TEMPLATE_DIM), o.templateScale ?? 1);
}

/** Index of the template nearest to row `r` of `a` (width `dim`) by squared distance (first on ties). */
function nearestTemplate(a: ArrayLike<number>, r: number, templates: Float32Array, dim: number): number {
  let best = 0;
  let bestD = Infinity;
  for (let c = 0; c * dim < templates.length; c++) {
    let dist = 0;
    for (let k = 0; k < dim; k++) dist += (a[r * dim + k] - templates[c * dim + k]) ** 2;
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  return best;
}

/**
 * Metrics of template targets: `accuracy`, the fraction of rows whose prediction is nearest (squared
 * distance, the toy's argmin) to the template of the row's class (the template its target is), and
 * `mse`, the mean over all values of (pred − y)².
 */
export function templateMetrics(pred: ArrayLike<number>, y: ArrayLike<number>, templates: Float32Array, dim: number): { accuracy: number; mse: number } {
  const rows = Math.round(y.length / dim);
  let correct = 0;
  let s = 0;
  for (let r = 0; r < rows; r++) if (nearestTemplate(pred, r, templates, dim) === nearestTemplate(y, r, templates, dim)) correct++;
  for (let i = 0; i < y.length; i++) s += (pred[i] - y[i]) ** 2;
  return { accuracy: correct / rows, mse: s / y.length };
}

/** The examples of the unordered pairs: (a, b) and (b, a) (`both`), or (a, b) only (`one`). */
export function orientedPairs(o: Pick<RelationsOptions, 'orientations'>, pairs: readonly [number, number][]): [number, number][] {
  const ordered: [number, number][] = [];
  for (const [a, b] of pairs) {
    ordered.push([a, b]);
    if (a !== b && o.orientations === 'both') ordered.push([b, a]);
  }
  return ordered;
}

function makeSplit(o: RelationsOptions, pairs: readonly [number, number][], label: (a: number, b: number) => number, templates: Float32Array | null): Split {
  const n = nodesOf(o);
  const C = classCount(o.relation, n);
  const binary = C === 2 && templates === null;
  const oneHot = o.encoding === 'one-hot';
  const ordered = orientedPairs(o, pairs);
  const m = ordered.length;
  const xw = oneHot ? 2 * n : 2;
  const yw = targetWidth(o);
  const x = new Float32Array(m * xw);
  const y = new Float32Array(m * yw);
  ordered.forEach(([a, b], r) => {
    if (oneHot) {
      x[r * xw + a] = 1;
      x[r * xw + n + b] = 1;
    } else {
      x[r * xw] = a;
      x[r * xw + 1] = b;
    }
    const l = label(a, b);
    if (templates) y.set(templates.subarray(l * yw, (l + 1) * yw), r * yw);
    else if (binary) y[r] = l;
    else y[r * yw + l] = 1;
  });
  return { n: m, x, y, xShape: oneHot ? [2, n] : [2], yShape: [yw] };
}

/** Split the unordered pairs at random (both orientations of a pair on the same side). */
export function splitPairs(o: RelationsOptions, rng: Rng): { train: [number, number][]; test: [number, number][] } {
  const all = unorderedPairs(o.relation, nodesOf(o));
  const perm = rng.permutation(all.length);
  const t = trainCount(o);
  const shuffled = Array.from(perm, (i) => all[i]);
  return { train: shuffled.slice(0, t), test: shuffled.slice(t) };
}

/** b, p_c^info and the quantities behind them (docs/geneft-graphs.md). */
export function informationOf(o: RelationsOptions): Record<string, Json> {
  const n = nodesOf(o);
  const aut = automorphismCount(o);
  const b = informationBits(n, aut);
  const pairs = unorderedPairCount(o.relation, n);
  const label = labeller(o);
  const counts = new Map<number, number>();
  for (let a = 0; a < n; a++) {
    for (let c = 0; c < n; c++) {
      if (a === c && !isAddition(o.relation)) continue;
      const l = label(a, c);
      counts.set(l, (counts.get(l) ?? 0) + 1);
    }
  }
  const H = entropyBits(counts.values());
  return {
    automorphisms: aut.toString(),
    bits: b,
    pairs,
    labelEntropy: H,
    pcInfo: b / (pairs * H),
    formula: 'b = log2(n!/|Aut G|); pcInfo = b / (pairs · labelEntropy), labelEntropy = Shannon entropy (bits) of the label over all ordered example pairs',
  };
}

/** What `create` allocates: both splits' inputs and targets, float32. */
export function estimateRelations(o: RelationsOptions): SizeEstimate {
  const n = nodesOf(o);
  const examples = isAddition(o.relation) ? n * n : n * (n - 1);
  const xw = o.encoding === 'one-hot' ? 2 * n : 2;
  const yw = targetWidth(o);
  return { bytes: 4 * examples * (xw + yw), largestArray: examples * Math.max(xw, yw), field: o.nodes !== undefined ? 'nodes' : o.side !== undefined ? 'side' : 'relation', what: `${formatCount(examples)} ordered pairs, ${xw} input values each` };
}

/**
 * Relations and addition tables on n nodes (GenEFT and the grokking toy: docs/geneft-graphs.md, docs/grokking-toy.md): inputs are
 * node pairs, targets related-or-not or the sum's class; the split is by unordered pairs.
 */
export const relations = defineTask({
  name: 'relations',
  apiVersion: API_VERSION,
  description: 'Learn a relation on n nodes (order, equivalence mod k, cycle or lattice adjacency) or an addition table from node pairs, split by unordered pairs.',
  options: relationsOptions,
  estimate: (options) => estimateRelations(relationsOptions.parse(options)),
  create(options, { rng }): TaskInstance {
    const o = relationsOptions.parse(options);
    const n = nodesOf(o);
    const label = labeller(o);
    const { train, test } = splitPairs(o, rng.split('split'));
    const C = classCount(o.relation, n);
    const templates = o.target === 'template' ? drawTemplates(o, rng.split('templates')) : null;
    const dim = targetWidth(o);
    const binary = C === 2;
    // Templates are regression targets for the core scoring (analyses score them by MSE); the
    // task's own metrics add the nearest-template accuracy.
    const kind = templates ? 'regression' : binary ? 'binary' : 'classification';
    return {
      inputShape: o.encoding === 'one-hot' ? [2, n] : [2],
      outputSize: dim,
      outputKind: kind,
      loss: templates ? 'mse' : binary ? 'binary-cross-entropy' : 'softmax-cross-entropy',
      splits: { train: makeSplit(o, train, label, templates), test: makeSplit(o, test, label, templates) },
      metrics: templates ? (pred: tf.Tensor, y: tf.Tensor) => templateMetrics(pred.dataSync(), y.dataSync(), templates, dim) : (pred: tf.Tensor, y: tf.Tensor) => scoreTensors(kind, pred, y),
      info: {
        relation: o.relation,
        nodes: n,
        ...(o.relation === 'equivalence' ? { k: o.k } : {}),
        ...(o.relation === 'lattice' ? { side: Math.round(Math.sqrt(n)), boundary: 'open' } : {}),
        classes: C,
        encoding: o.encoding,
        target: o.target,
        ...(templates
          ? { templates: { classes: C, dim, scale: o.templateScale ?? 1, stream: "the task rng's split('templates'), C·dim normals in row order", metric: 'accuracy = nearest template by squared distance' } }
          : {}),
        orientations: o.orientations,
        trainPairs: train.length,
        testPairs: test.length,
        trainFraction: train.length / (train.length + test.length),
        split: o.orientations === 'both' ? 'unordered pairs; both orientations (a, b), (b, a) on the same side' : 'unordered pairs; one orientation (a, b), a ≤ b, per pair',
        information: informationOf(o),
      },
    };
  },
});
