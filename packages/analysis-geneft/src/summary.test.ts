import { describe, expect, it } from 'vitest';
import { Rng } from '@goldstone/core';
import type { Json, SummaryInput } from '@goldstone/plugin-api';
import { transitionCurve } from './fit';
import { geneftOptions } from './options';
import { summarizeGeneft } from './summary';

const P = [0.05, 0.08, 0.12, 0.18, 0.27, 0.4, 0.6, 0.9];
const WIDTHS = [4, 16, 64, 256];
const VERDICTS = ['reproduced', 'partly', 'not reproduced', 'not measured'];

/** A stored geneft result as `analyzeGeneft` writes it (only what the summary reads). */
function result(relation: string, test: number, chance: number, extra: { k?: number; pcInfo?: number; absRho?: number; residual?: number } = {}): SummaryInput['result'] {
  return {
    result: {
      relation,
      nodes: 30,
      ...(extra.k !== undefined ? { k: extra.k } : {}),
      information: { bits: 107.7, pcInfo: extra.pcInfo ?? 0.248 },
      accuracy: { train: 1, test },
      chance: { train: chance, test: chance },
      geometry: { principal: { absRho: extra.absRho ?? 0.98 }, ...(extra.residual !== undefined ? { parallelogram: { residual: extra.residual }, classRatio: extra.residual / 2 } : {}) },
    } as unknown as Json,
    provenance: { analysis: 'geneft', seed: 1, backend: 'cpu' },
  };
}

function inputs(): SummaryInput[] {
  const rng = new Rng(11);
  const out: SummaryInput[] = [];
  for (const p of P) {
    for (const seed of [1, 2, 3]) {
      // order: p_c = 0.1, chance 0.5; equivalence mod 3: p_c = 0.2, chance 2/3 (unclipped noise, so the
      // fit has no bias from accuracies held below 1)
      out.push({ run: `order-${p}-${seed}`, part: 'p-scan', settings: { 'task.options.relation': 'order', 'task.options.trainFraction': p, seed }, result: result('order', transitionCurve(p, 0.1, 0.3, 0.5) + 0.02 * rng.normal(), 0.5, { absRho: 0.95 + 0.01 * rng.uniform() }) });
      out.push({ run: `eq-${p}-${seed}`, part: 'p-scan', settings: { 'task.options.relation': 'equivalence', 'task.options.trainFraction': p, seed }, result: result('equivalence', transitionCurve(p, 0.2, 0.2, 2 / 3) + 0.02 * rng.normal(), 2 / 3, { k: 3, pcInfo: 0.15, residual: p < 0.2 ? 1.5 : 0.05 }) });
    }
  }
  for (const depth of [1, 2]) {
    for (const w of WIDTHS) {
      for (const seed of [1, 2, 3]) {
        // depth 1 peaks at width 16; depth 2 rises with width; at a fixed p that is swept too, so
        // these runs must stay out of the p scan
        const acc = depth === 1 ? (w === 16 ? 0.95 : w === 64 ? 0.9 : 0.8) : 0.7 + 0.05 * Math.log2(w / 4) / 2;
        out.push({ run: `w-${depth}-${w}-${seed}`, part: 'width-depth', settings: { 'task.options.trainFraction': 0.1, 'model.options.hidden': Array(depth).fill(w), seed }, result: result('order', acc + 0.005 * rng.normal(), 0.5) });
      }
    }
  }
  // the lr-phase part: neither a p nor a width setting, so in no scan
  out.push({ run: 'lr-1', part: 'lr-phase', settings: { 'train.groups.encoder.lr': 0.01, 'train.groups.decoder.lr': 0.001, seed: 1 }, result: result('order', 0.6, 0.5) });
  out.push({ run: 'broken', settings: {}, result: { result: { nothing: 1 }, provenance: { analysis: 'geneft', seed: 1, backend: 'cpu' } } });
  return out;
}

const opts = geneftOptions.parse({ summaryResamples: 300 });

describe('summarizeGeneft on synthetic sweeps', () => {
  const { result: r, figures } = summarizeGeneft(inputs(), opts) as { result: any; figures: any[] };

  it('fits p_c per relation beside p_c^info, with bootstrap intervals around estimates near the true values', () => {
    expect(r.runs).toBe(2 * P.length * 3 + 2 * WIDTHS.length * 3 + 1);
    expect(r.parts).toEqual(['p-scan', 'width-depth', 'lr-phase']);
    expect(r.transition.map((t: any) => t.relation)).toEqual(['order', 'equivalence mod 3']);
    const [order, eq] = r.transition;
    expect(order.runs).toBe(P.length * 3);
    expect(order.chance).toBeCloseTo(0.5, 12);
    expect(order.halfway).toBeCloseTo(0.75, 12);
    expect(order.pcLo).toBeLessThanOrEqual(0.1);
    expect(order.pcHi).toBeGreaterThanOrEqual(0.1);
    expect(order.pcInfo).toBeCloseTo(0.248, 12);
    expect(eq.chance).toBeCloseTo(2 / 3, 12);
    // within 10 % (the coverage of the interval itself is tested in fit.test.ts)
    expect(Math.abs(eq.pc / 0.2 - 1)).toBeLessThan(0.1);
    expect(eq.pcLo).toBeLessThan(eq.pc);
    expect(eq.pcHi).toBeGreaterThan(eq.pc);
    expect(eq.pcInfo).toBeCloseTo(0.15, 12);
    expect(r.accuracyByP.filter((a: any) => a.relation === 'order').map((a: any) => a.p)).toEqual(P);
    expect(r.notes.some((n: string) => n.includes('run broken'))).toBe(true);
  });

  it('finds the Goldilocks maximum at depth 1 and none at depth 2', () => {
    const [d1, d2] = r.goldilocks;
    expect(d1).toMatchObject({ relation: 'order', depth: 1, argmax: 16, interiorMaximum: true });
    expect(d1.lo).toBeGreaterThan(0);
    expect(d2).toMatchObject({ depth: 2, argmax: 256, interiorMaximum: false });
    expect(r.widthScan).toHaveLength(2 * WIDTHS.length);
    expect(r.widthScan.every((c: any) => c.count === 3)).toBe(true);
  });

  it('judges the claims: transition reproduced, information bound not (p_c ≠ p_c^info by > 2×), Goldilocks partly (one depth of two), ordered embeddings reproduced', () => {
    expect(r.claims).toHaveLength(4);
    for (const c of r.claims) {
      expect(VERDICTS).toContain(c.verdict);
      expect(c.reason.length).toBeGreaterThan(10);
    }
    expect(r.claims.map((c: any) => c.verdict)).toEqual(['reproduced', 'partly', 'partly', 'reproduced']);
    // order p_c 0.1 against 0.248 (ratio 0.4: against); equivalence 0.2 against 0.15 (ratio 1.3: partly)
    expect(r.claims[1].reason).toContain('p_c^info = 0.248');
  });

  it('summarises the geometry against p and draws three figures on log axes', () => {
    const res = r.geometry.filter((g: any) => g.measure === 'parallelogram residual');
    expect(res.map((g: any) => g.p)).toEqual(P);
    expect(res[0].mean).toBeCloseTo(1.5, 12);
    expect(res.at(-1).mean).toBeCloseTo(0.05, 12);
    expect(figures.map((f) => f.name)).toEqual(['geneft-transition', 'geneft-goldilocks', 'geneft-geometry']);
    const layers = figures[0].spec.layer;
    for (const l of layers) expect(l.encoding.x.scale.type).toBe('log');
    expect(layers.find((l: any) => l.mark.type === 'rule' && l.mark.strokeDash).data.values.map((v: any) => v.p)).toEqual([0.248, 0.15]);
    expect(layers.find((l: any) => l.mark.type === 'rect').data.values).toHaveLength(2);
    expect(figures[1].spec.layer[0].encoding.x.scale.type).toBe('log');
    expect(JSON.parse(JSON.stringify(figures))).toEqual(figures);
  });

  it('says what is missing when the runs have no scans', () => {
    const only = summarizeGeneft(inputs().filter((i) => (i as any).part === 'lr-phase'), opts) as { result: any; figures: any[] };
    expect(only.figures).toEqual([]);
    expect(only.result.claims.map((c: any) => c.verdict)).toEqual(['not measured', 'not measured', 'not measured', 'not measured']);
    expect(only.result.notes.join(' ')).toContain('task.options.trainFraction');
  });
});
