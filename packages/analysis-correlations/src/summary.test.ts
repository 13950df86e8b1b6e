import { describe, expect, it } from 'vitest';
import { assertJson } from '@goldstone/testkit';
import type { Json, SummaryInput } from '@goldstone/plugin-api';
import { correlationsOptions } from './options';
import { spearman } from './stats';
import { summarizeCorrelations, type TableRow } from './summary';

const provenance = { analysis: 'correlations', seed: 1, backend: 'cpu' };

function input(run: string, settings: Record<string, Json>, complexity: Record<string, number | null>, outcomes: Record<string, number | null>, notes: string[] = []): SummaryInput {
  return { run, settings, result: { result: { metric: 'auc', complexity, outcomes, notes }, provenance } };
}

/** 12 runs: lambdaMax rises with λ, robustness falls with it, trace is noise; one run lacks robustness. */
function sweep(): SummaryInput[] {
  const out: SummaryInput[] = [];
  const lambdas = [0, 0.01, 0.1, 1];
  const models = ['mlp', 'deep-sets'];
  let k = 0;
  for (const model of models) {
    for (const lambda of lambdas) {
      for (const seed of [1, 2]) {
        if (model === 'deep-sets' && lambda === 1) continue;
        k++;
        const lm = 10 + 3 * lambdas.indexOf(lambda) + seed * 0.1 + (model === 'mlp' ? 0 : 0.5);
        out.push(
          input(
            `run-${k}`,
            { 'model.name': model, 'train.symmetryPenalty.lambda': lambda, 'task.options.epsilon': seed === 1 ? 0.1 : 0.2, seed },
            { lambdaMax: lm, trace: (k * 7) % 5 },
            { 'test.auc': 0.9 - 0.01 * lm, robustness: k === 3 ? null : -lm * 2 },
            k === 3 ? ['outcome robustness: robustness.result.headline.pgdDrop: no analysis "robustness" ran before this one'] : [],
          ),
        );
      }
    }
  }
  return out;
}

const cell = (rows: TableRow[], group: string, c: string, o: string) => rows.find((r) => r.group === group && r.complexity === c && r.outcome === o)!;

describe('summarizeCorrelations', () => {
  it('tabulates ρ with interval and pair counts for every complexity × outcome, pooled and per group', () => {
    const inputs = sweep();
    const opts = correlationsOptions.parse({ complexity: { lambdaMax: 'hessian.result.topEigenvalues[0]', trace: 'hessian.result.trace' }, groupBy: 'model.name', resamples: 500 });
    const { result, figures } = summarizeCorrelations(inputs, opts);
    assertJson(result, '$result');
    const r = result as unknown as { table: TableRow[]; runs: number; groups: { group: string; n: number }[]; notes: string[]; metric: string };
    expect(r.runs).toBe(14);
    expect(r.metric).toBe('auc');
    expect(r.groups).toEqual([
      { group: 'all', n: 14 },
      { group: 'model.name=mlp', n: 8 },
      { group: 'model.name=deep-sets', n: 6 },
    ]);
    expect(r.table).toHaveLength(3 * 2 * 2);
    const up = cell(r.table, 'all', 'lambdaMax', 'test.auc');
    expect(up.rho).toBeCloseTo(-1, 12);
    expect(up.pairs).toBe(14);
    const rob = cell(r.table, 'all', 'lambdaMax', 'robustness');
    expect(rob.rho).toBeCloseTo(-1, 12);
    expect(rob.pairs).toBe(13); // the run without robustness is left out of this pair only
    expect(rob.n).toBe(14);
    const noise = cell(r.table, 'model.name=mlp', 'trace', 'test.auc');
    const mlp = inputs.filter((i) => i.settings['model.name'] === 'mlp').map((i) => (i.result.result as any));
    expect(noise.rho).toBeCloseTo(spearman(mlp.map((m) => m.complexity.trace), mlp.map((m) => m.outcomes['test.auc'])) as number, 12);
    expect(noise.lo!).toBeLessThanOrEqual(noise.rho!);
    expect(noise.hi!).toBeGreaterThanOrEqual(noise.rho!);
    expect(noise.estimate).toMatch(/^-?\d\.\d\d \[-?\d\.\d\d, -?\d\.\d\d\] \(n=8\)$/);
    expect(r.notes.join('\n')).toMatch(/robustness: missing in 1 of 14/);
    expect(r.notes.join('\n')).toMatch(/no analysis "robustness" ran/);

    const names = figures.map((f) => f.name);
    expect(names).toEqual(['correlations', 'correlations-1', 'correlations-2']);
    const heat = figures[0].spec as any;
    const rect = heat.layer.find((l: any) => l.mark.type === 'rect');
    expect(rect.encoding.color.scale.domain).toEqual([-1, 1]);
    expect(heat.data.values).toHaveLength(4);
    expect(heat.data.values[0]).toMatchObject({ complexity: 'lambdaMax', outcome: 'test.auc', label: 'ρ = -1.00' });
    expect(heat.data.values[0].interval).toMatch(/n=14/);
  });

  it('is deterministic for a seed and changes with it', () => {
    const opts = correlationsOptions.parse({ resamples: 300 });
    const a = JSON.stringify(summarizeCorrelations(sweep(), opts));
    expect(JSON.stringify(summarizeCorrelations(sweep(), opts))).toBe(a);
    expect(JSON.stringify(summarizeCorrelations(sweep(), { ...opts, seed: 1 }))).not.toBe(a);
  });

  it('trend figures: mean ± s.d. over seeds per (x, line), log x with x = 0 drawn apart', () => {
    const opts = correlationsOptions.parse({
      resamples: 100,
      trend: { x: 'train.symmetryPenalty.lambda', lines: 'model.name', metrics: ['lambdaMax', 'test.auc', 'nope'] },
    });
    const { result, figures } = summarizeCorrelations(sweep(), opts);
    const r = result as any;
    const p = r.trend.find((t: any) => t.metric === 'lambdaMax' && t.x === 0.1 && t.line === 'mlp');
    expect(p.count).toBe(2);
    expect(p.mean).toBeCloseTo(10 + 6 + 0.15, 12);
    expect(p.sd).toBeCloseTo(Math.sqrt(0.005), 12);
    expect(r.notes.join('\n')).toMatch(/trend: no measure "nope"/);
    const fig = figures.find((f) => f.name === 'trend-lambdaMax')!.spec as any;
    expect(fig.layer[0].encoding.x.scale).toEqual({ type: 'log' });
    expect(fig.layer[0].data.values.every((v: any) => v.x > 0)).toBe(true);
    const zeros = fig.layer.find((l: any) => l.mark.type === 'rule');
    expect(zeros.data.values.map((v: any) => v.line).sort()).toEqual(['deep-sets', 'mlp']);
    expect(JSON.stringify(fig.title)).toMatch(/= 0 \(not on the log axis\)/);
    expect(figures.some((f) => f.name === 'trend-test.auc')).toBe(true);
  });

  it('with groupBy, trend figures also within each group', () => {
    const { result, figures } = summarizeCorrelations(
      sweep(),
      correlationsOptions.parse({ resamples: 100, groupBy: 'model.name', trend: { x: 'train.symmetryPenalty.lambda', metrics: ['lambdaMax'] } }),
    );
    expect(figures.filter((f) => f.name.startsWith('trend-lambdaMax')).map((f) => f.title)).toEqual([
      'lambdaMax against train.symmetryPenalty.lambda',
      'lambdaMax against train.symmetryPenalty.lambda, model.name=mlp',
      'lambdaMax against train.symmetryPenalty.lambda, model.name=deep-sets',
    ]);
    const mlpPoint = (result as any).trend.find((p: any) => p.group === 'model.name=mlp' && p.x === 0.1);
    expect(mlpPoint.mean).toBeCloseTo(10 + 6 + 0.15, 12); // the mlp's own runs only
  });

  it('a log y axis for a positive measure spanning more than two decades, error bars cut above 0', () => {
    const inputs = [0.01, 0.1, 1, 10].flatMap((x, i) => [1, 2].map((seed) => input(`r${i}-${seed}`, { x, seed }, { c: 10 ** -i * (seed === 1 ? 0.5 : 1.5) }, { o: i })));
    const { figures } = summarizeCorrelations(inputs, correlationsOptions.parse({ resamples: 100, trend: { x: 'x' } }));
    const fig = figures.find((f) => f.name === 'trend-c')!.spec as any;
    expect(fig.layer[0].encoding.y.scale).toEqual({ type: 'log' });
    expect(fig.layer[1].data.values.every((v: any) => v.lo > 0)).toBe(true);
    expect(JSON.stringify(fig.title)).toMatch(/log y axis/);
    const flat = summarizeCorrelations(inputs, correlationsOptions.parse({ resamples: 100, trend: { x: 'x', metrics: ['o'] } }));
    expect((flat.figures.find((f) => f.name === 'trend-o')!.spec as any).layer[0].encoding.y.scale).toEqual({ zero: false });
  });

  it('a linear axis when some x is negative; ordinal for non-numeric x', () => {
    const inputs = [-1, 0, 1].map((x, i) => input(`r${i}`, { x, s: `v${i}` }, { c: i }, { o: -i }));
    const a = summarizeCorrelations(inputs, correlationsOptions.parse({ resamples: 100, trend: { x: 'x' } }));
    expect((a.figures.find((f) => f.name === 'trend-c')!.spec as any).layer[0].encoding.x.scale).toBeUndefined();
    const b = summarizeCorrelations(inputs, correlationsOptions.parse({ resamples: 100, trend: { x: 's' } }));
    expect((b.figures.find((f) => f.name === 'trend-c')!.spec as any).layer[0].encoding.x.type).toBe('ordinal');
  });

  it('copes with too few runs, constant measures and results that are not rows', () => {
    const inputs: SummaryInput[] = [
      input('a', { seed: 1 }, { c: 1 }, { o: 1 }),
      input('b', { seed: 2 }, { c: 1 }, { o: 2 }),
      { run: 'junk', settings: {}, result: { result: [1, 2] as Json, provenance } },
    ];
    const { result } = summarizeCorrelations(inputs, correlationsOptions.parse({ complexity: {}, resamples: 100 }));
    assertJson(result, '$result');
    const r = result as any;
    expect(r.runs).toBe(2);
    expect(r.table).toEqual([{ group: 'all', complexity: 'c', outcome: 'o', estimate: '— (n=2)', rho: null, lo: null, hi: null, n: 2, pairs: 2, validResamples: 0 }]);
    expect(r.notes.join('\n')).toMatch(/run junk: its result is not a correlations row/);
    const empty = summarizeCorrelations([], correlationsOptions.parse({ complexity: {}, resamples: 100 }));
    expect((empty.result as any).notes.join('\n')).toMatch(/nothing to correlate/);
    expect(empty.figures).toEqual([]);
  });
});

describe('claims', () => {
  const claim = (over: Record<string, unknown>) => ({ claim: 'c', x: 'lambdaMax', y: 'test.auc', expect: 'negative', ...over });
  const judge = (claims: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
    (summarizeCorrelations(sweep(), correlationsOptions.parse({ claims, resamples: 400, groupBy: 'model.name', ...extra })).result as any);

  it('reproduced when the interval excludes 0 on the predicted side, contradicted on the other side', () => {
    const r = judge([claim({ claim: 'sharper generalises worse' }), claim({ claim: 'sharper generalises better', expect: 'positive' })]);
    expect(r.claims.map((c: any) => c.verdict)).toEqual(['reproduced', 'contradicted']);
    expect(r.claims[0].reason).toBe('predicted negative; model.name=mlp: ρ = -1.00 [-1.00, -1.00] (n=8); model.name=deep-sets: ρ = -1.00 [-1.00, -1.00] (n=6); pooled: ρ = -1.00 [-1.00, -1.00] (n=14)');
    // one estimate row per claim and group, flat (the report shows it as a table)
    expect(r.claimEstimates.filter((e: any) => e.claim === 'sharper generalises worse').map((e: any) => e.group)).toEqual(['all', 'model.name=mlp', 'model.name=deep-sets']);
    assertJson(r);
  });

  it('reads a swept setting as x, filters runs with where, and says not measured when nothing pairs', () => {
    const r = judge([
      claim({ claim: 'λ sharpens', x: 'train.symmetryPenalty.lambda', y: 'lambdaMax', expect: 'positive' }),
      claim({ claim: 'λ sharpens, mlp only', x: 'train.symmetryPenalty.lambda', y: 'lambdaMax', expect: 'positive', where: { 'model.name': 'mlp' } }),
      claim({ claim: 'nothing', x: 'nope', y: 'lambdaMax' }),
    ]);
    expect(r.claims[0].verdict).toBe('reproduced');
    expect(r.claims[1].reason).toContain('(runs with model.name=mlp)');
    expect(r.claimEstimates.find((e: any) => e.claim === 'λ sharpens, mlp only' && e.group === 'all').pairs).toBe(8);
    expect(r.claims[2].verdict).toBe('not measured');
  });

  it('partly when the sign agrees but the interval includes 0; not reproduced when it does not', () => {
    // trace is noise against test.auc: ρ has some sign with an interval across 0
    const r = judge([claim({ x: 'trace', expect: 'negative' }), claim({ x: 'trace', expect: 'positive' })], { groupBy: undefined });
    const rho = r.claimEstimates[0].rho as number;
    expect(r.claimEstimates[0].lo).toBeLessThan(0);
    expect(r.claimEstimates[0].hi).toBeGreaterThan(0);
    expect(r.claims.map((c: any) => c.verdict)).toEqual(rho < 0 ? ['partly', 'not reproduced'] : ['not reproduced', 'partly']);
  });

  it('takes the verdict within groups: a pooled ρ made only by differences between groups is not reproduced', () => {
    // model A: sharp and worse, model B: flat and better; within each, sharpness and AUC unrelated
    const inputs: SummaryInput[] = [];
    for (const [model, base, auc] of [['A', 100, 0.6], ['B', 1, 0.9]] as const) {
      for (let k = 0; k < 12; k++) inputs.push(input(`${model}-${k}`, { 'model.name': model }, { lambdaMax: base + ((k * 5) % 12) }, { 'test.auc': auc + 0.001 * ((k * 7) % 12) }));
    }
    const opts = correlationsOptions.parse({ claims: [{ claim: 'flat generalises', x: 'lambdaMax', y: 'test.auc', expect: 'negative' }], resamples: 400 });
    const pooled = (summarizeCorrelations(inputs, opts).result as any).claims[0];
    expect(pooled.verdict).toBe('reproduced'); // across models: confounded
    const grouped = (summarizeCorrelations(inputs, { ...opts, groupBy: 'model.name' }).result as any).claims[0];
    expect(grouped.verdict).not.toBe('reproduced');
  });

  it('rejects a claim without a predicted sign', () => {
    expect(() => correlationsOptions.parse({ claims: [{ claim: 'c', x: 'a', y: 'b', expect: 'up' }] })).toThrow();
  });
});
