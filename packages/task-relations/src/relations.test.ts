import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import { createEmbeddingDecoder, embeddingDecoderOptions } from '@goldstone/models';
import { train } from '@goldstone/trainer';
import { factorial, informationBits, log2Big } from './info';
import { automorphismCount, drawTemplates, informationOf, labeller, relations, relationsOptions, splitPairs, templateMetrics, type RelationsOptions } from './relations';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Brute force: count the permutations σ of 0…n−1 with label(σa, σb) = label(a, b) for all a, b. */
function bruteAut(o: RelationsOptions, n: number): number {
  const label = labeller(o);
  const table = Array.from({ length: n }, (_, a) => Array.from({ length: n }, (_, b) => label(a, b)));
  const perm = Array.from({ length: n }, (_, i) => i);
  const used = new Array<boolean>(n).fill(false);
  let count = 0;
  const place = (pos: number): void => {
    if (pos === n) {
      count++;
      return;
    }
    for (let v = 0; v < n; v++) {
      if (used[v]) continue;
      perm[pos] = v;
      let ok = true;
      for (let q = 0; q <= pos && ok; q++) ok = table[pos][q] === table[v][perm[q]] && table[q][pos] === table[perm[q]][v];
      if (!ok) continue;
      used[v] = true;
      place(pos + 1);
      used[v] = false;
    }
  };
  place(0);
  return count;
}

const parse = (o: Record<string, unknown>) => relationsOptions.parse(o);

describe('automorphism counts: closed forms against brute force', () => {
  const cases: Record<string, unknown>[] = [];
  for (let n = 3; n <= 8; n++) {
    cases.push({ relation: 'order', nodes: n }, { relation: 'addition', nodes: n }, { relation: 'addition-mod', nodes: n });
    if (n >= 3) cases.push({ relation: 'cycle', nodes: n });
    for (let k = 2; k < n; k++) cases.push({ relation: 'equivalence', nodes: n, k });
  }
  cases.push({ relation: 'lattice', nodes: 4 }, { relation: 'lattice', side: 3 });
  for (const c of cases) {
    it(JSON.stringify(c), () => {
      const o = parse(c);
      const n = o.nodes ?? (o.side ?? 0) ** 2;
      expect(Number(automorphismCount(o))).toBe(bruteAut(o, n));
    });
  }
});

describe('information', () => {
  it('log₂ n! is exact for large n (against a sum of log₂ i)', () => {
    for (const n of [30, 100, 300]) {
      let s = 0;
      for (let i = 2; i <= n; i++) s += Math.log2(i);
      expect(log2Big(factorial(n))).toBeCloseTo(s, 8);
    }
    expect(informationBits(30, 1n)).toBeCloseTo(107.7, 1);
  });
  it('order on 30 nodes: b = log₂ 30!, one bit per pair, p_c^info = b / 435', () => {
    const i = informationOf(parse({ relation: 'order', nodes: 30 }));
    expect(i.automorphisms).toBe('1');
    expect(i.pairs).toBe(435);
    expect(i.labelEntropy).toBeCloseTo(1, 12);
    expect(i.pcInfo).toBeCloseTo(log2Big(factorial(30)) / 435, 10);
  });
  it('equivalence mod 3 on 30 nodes: |Aut| = (10!)³·3!', () => {
    const i = informationOf(parse({ relation: 'equivalence', nodes: 30, k: 3 }));
    expect(i.automorphisms).toBe((factorial(10) ** 3n * 6n).toString());
  });
});

describe('splits', () => {
  it('keep both orientations together, have the requested size, and depend on the seed only', async () => {
    const o = { relation: 'order', nodes: 12, trainFraction: 0.3 };
    const a = await relations.create(parse(o), { rng: new Rng(3) });
    const b = await relations.create(parse(o), { rng: new Rng(3) });
    const c = await relations.create(parse(o), { rng: new Rng(4) });
    expect(a.splits.train.n).toBe(2 * Math.round(0.3 * 66));
    expect(a.splits.test.n).toBe(2 * 66 - a.splits.train.n);
    expect(Array.from(a.splits.train.x)).toEqual(Array.from(b.splits.train.x));
    expect(Array.from(a.splits.train.x)).not.toEqual(Array.from(c.splits.train.x));
    const key = (x: Float32Array, r: number) => {
      const row = x.subarray(r * 24, (r + 1) * 24);
      return [row.indexOf(1), row.indexOf(1, 12) - 12] as const;
    };
    const side = new Map<string, string>();
    for (const s of ['train', 'test'] as const) {
      const sp = a.splits[s];
      for (let r = 0; r < sp.n; r++) {
        const [i, j] = key(sp.x, r);
        expect(sp.y[r]).toBe(i < j ? 1 : 0);
        side.set(`${i},${j}`, s);
      }
    }
    expect(side.size).toBe(132);
    for (const [k, s] of side) {
      const [i, j] = k.split(',');
      expect(side.get(`${j},${i}`)).toBe(s);
    }
  });
  it('stage A: trainNum unordered pairs i ≤ j of 55, label i + j over 19 classes', async () => {
    const t = await relations.create(parse({ relation: 'addition', trainNum: 45, encoding: 'index' }), { rng: new Rng(1) });
    expect(t.outputSize).toBe(19);
    expect(t.inputShape).toEqual([2]);
    const pairs = splitPairs(parse({ relation: 'addition', trainNum: 45 }), new Rng(1).split('split'));
    expect(pairs.train.length).toBe(45);
    expect(pairs.test.length).toBe(10);
    const sp = t.splits.train;
    for (let r = 0; r < sp.n; r++) {
      const s = sp.x[2 * r] + sp.x[2 * r + 1];
      expect(sp.y[r * 19 + s]).toBe(1);
    }
  });
  it('targets: spot checks', () => {
    expect(labeller(parse({ relation: 'equivalence', nodes: 9, k: 3 }))(1, 7)).toBe(1);
    expect(labeller(parse({ relation: 'equivalence', nodes: 9, k: 3 }))(1, 6)).toBe(0);
    expect(labeller(parse({ relation: 'cycle', nodes: 6 }))(0, 5)).toBe(1);
    expect(labeller(parse({ relation: 'cycle', nodes: 6 }))(0, 2)).toBe(0);
    expect(labeller(parse({ relation: 'lattice', side: 3 }))(2, 3)).toBe(0);
    expect(labeller(parse({ relation: 'lattice', side: 3 }))(1, 4)).toBe(1);
    expect(labeller(parse({ relation: 'addition-mod', nodes: 7 }))(5, 4)).toBe(2);
  });
});

describe('template targets (the grokking toy)', () => {
  it('accuracy is the nearest template by squared distance, on hand-made predictions; mse is the mean over values', () => {
    // three classes of 2-vectors
    const T = Float32Array.from([0, 0, 1, 0, 0, 1]);
    const y = Float32Array.from([0, 0, 1, 0, 0, 1, 1, 0]); // classes 0, 1, 2, 1
    // row 0 → (0.4, 0.1): nearest 0 ✓; row 1 → (0.6, 0.1): nearest 1 ✓; row 2 → (0.6, 0.5): |·−T1|² = 0.41 < |·−T2|² = 0.61, nearest 1 ✗;
    // row 3 → (0.1, 0.45): nearest 0 (0.2125) ✗
    const pred = Float32Array.from([0.4, 0.1, 0.6, 0.1, 0.6, 0.5, 0.1, 0.45]);
    const m = templateMetrics(pred, y, T, 2);
    expect(m.accuracy).toBe(0.5);
    let s = 0;
    for (let i = 0; i < 8; i++) s += (pred[i] - y[i]) ** 2;
    expect(m.mse).toBeCloseTo(s / 8, 12);
    expect(templateMetrics(y, y, T, 2)).toEqual({ accuracy: 1, mse: 0 });
  });

  it('targets are the class templates, drawn per seed from the task rng; mse loss, regression kind, accuracy and mse metrics', async () => {
    const o = parse({ relation: 'addition', trainNum: 45, encoding: 'index', target: 'template' });
    const a = await relations.create(o, { rng: new Rng(58) });
    const b = await relations.create(o, { rng: new Rng(58) });
    const c = await relations.create(o, { rng: new Rng(59) });
    expect(a.outputSize).toBe(30);
    expect(a.loss).toBe('mse');
    expect(a.outputKind).toBe('regression');
    expect(a.info?.templates).toMatchObject({ classes: 19, dim: 30, scale: 1 });
    const T = drawTemplates(o, new Rng(58).split('templates'));
    expect(T.length).toBe(19 * 30);
    for (const [t, same] of [[b, true], [c, false]] as const) {
      expect(Array.from(t.splits.train.y).slice(0, 30).join() === Array.from(a.splits.train.y).slice(0, 30).join()).toBe(same);
    }
    for (const sp of [a.splits.train, a.splits.test]) {
      for (let r = 0; r < sp.n; r++) {
        const cls = sp.x[2 * r] + sp.x[2 * r + 1];
        expect(Array.from(sp.y.subarray(r * 30, (r + 1) * 30))).toEqual(Array.from(T.subarray(cls * 30, (cls + 1) * 30)));
      }
    }
    const y = tf.tensor2d(a.splits.test.y, [a.splits.test.n, 30]);
    const m = a.metrics(y, y);
    expect(m).toEqual({ accuracy: 1, mse: 0 });
    y.dispose();
    const scaled = drawTemplates(parse({ relation: 'addition', target: 'template', templateDim: 5, templateScale: 3 }), new Rng(1));
    expect(scaled.length).toBe(19 * 5);
    const unit = drawTemplates(parse({ relation: 'addition', target: 'template', templateDim: 5 }), new Rng(1));
    for (let i = 0; i < unit.length; i++) expect(Math.abs(scaled[i] - 3 * unit[i])).toBeLessThan(1e-6 * (1 + Math.abs(scaled[i])));
  });
});

describe('orientations', () => {
  it('one: 55 pairs i ≤ j give 55 examples, each with a ≤ b (both: 100); symmetric relations a < b; order refused', async () => {
    const count = async (o: Record<string, unknown>) => {
      const t = await relations.create(parse({ encoding: 'index', ...o }), { rng: new Rng(2) });
      const rows = [t.splits.train, t.splits.test].flatMap((sp) => Array.from({ length: sp.n }, (_, r) => [sp.x[2 * r], sp.x[2 * r + 1]]));
      return { n: rows.length, train: t.splits.train.n, ordered: rows.every(([a, b]) => a <= b), diagonal: rows.filter(([a, b]) => a === b).length, info: t.info };
    };
    const one = await count({ relation: 'addition', trainNum: 45, orientations: 'one' });
    expect(one).toMatchObject({ n: 55, train: 45, ordered: true, diagonal: 10 });
    expect(one.info).toMatchObject({ orientations: 'one' });
    const both = await count({ relation: 'addition', trainNum: 45 });
    expect(both).toMatchObject({ n: 100, ordered: false, diagonal: 10 });
    const cyc = await count({ relation: 'cycle', nodes: 8, orientations: 'one' });
    expect(cyc).toMatchObject({ n: 28, ordered: true, diagonal: 0 });
    expect(await count({ relation: 'cycle', nodes: 8 })).toMatchObject({ n: 56 });
    expect(relationsOptions.safeParse({ relation: 'order', orientations: 'one' }).error?.issues[0]?.message).toMatch(/symmetric/);
  });
});

describe('bad options name the field', () => {
  const field = (o: Record<string, unknown>) => relationsOptions.safeParse(o).error?.issues[0]?.path.join('.');
  it.each([
    [{ relation: 'lattice', nodes: 10 }, 'nodes'],
    [{ relation: 'lattice', nodes: 10, side: 3 }, 'side'],
    [{ relation: 'equivalence', nodes: 5, k: 5 }, 'k'],
    [{ k: 1 }, 'k'],
    [{ nodes: 1 }, 'nodes'],
    [{ trainFraction: 1 }, 'trainFraction'],
    [{ relation: 'addition', trainNum: 55 }, 'trainNum'],
    [{ trainNum: 3, trainFraction: 0.5 }, 'trainNum'],
    [{ relation: 'order', orientations: 'one' }, 'orientations'],
    [{ relation: 'addition', templateDim: 30 }, 'templateDim'],
    [{ relation: 'addition', target: 'class', templateScale: 2 }, 'templateScale'],
    [{ relation: 'addition', target: 'template', templateDim: 0 }, 'templateDim'],
  ])('%j → %s', (o, f) => expect(field(o)).toBe(f));
});

describe('embedding-decoder trains on the total order', () => {
  it('reaches test accuracy well above chance on n = 20', async () => {
    const t = await relations.create(parse({ relation: 'order', nodes: 20, trainFraction: 0.5 }), { rng: new Rng(7) });
    const m = createEmbeddingDecoder(embeddingDecoderOptions.parse({ dim: 4, hidden: [32] }), { inputShape: t.inputShape, outputSize: t.outputSize });
    const r = await train({ model: m, task: t, params: m.init(new Rng(8)), rng: new Rng(9), config: { optimizer: { name: 'adam', lr: 0.01 }, epochs: 200, batchSize: 190 } });
    for (const v of Object.values(r.params)) v.dispose();
    expect(r.final['train.accuracy']).toBeGreaterThan(0.95);
    expect(r.final['test.accuracy']).toBeGreaterThan(0.8);
  }, 120_000);
});
