/**
 * GenEFT stage B (experiments/geneft-graphs.yaml, docs/geneft-graphs.md) at its `--quick` size, end to end on
 * the built binary: a sweep with three parts (p-scan: the order on 30 nodes at three train fractions,
 * two seeds; width-depth: three decoder widths at p = 0.1; lr-phase: a 2 × 2 grid of encoder and
 * decoder learning rates), each run with the geneft analysis; then the sweep-level geneft summary
 * (p_c fit beside p_c^info, the width scan, the geometry, the claims with verdicts) and the report.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bin, quickSweep, readJson } from './experiment-sweep';

const VERDICTS = ['reproduced', 'partly', 'not reproduced', 'not measured'];

describe('experiments/geneft-graphs.yaml --quick', () => {
  let run: ReturnType<typeof quickSweep>;
  let out = '';
  beforeAll(() => {
    run = quickSweep('geneft-graphs.yaml', 2);
    out = run.out;
  }, 960_000);

  it('runs every point of the three parts to completion', () => {
    expect(run.code, run.stderr).toBe(0);
    const index = readJson(join(out, 'sweep.json'));
    expect(index.points).toHaveLength(13);
    expect(index.points.every((p: any) => p.status === 'completed')).toBe(true);
  });

  it('each run records accuracy, the information bound and the embedding geometry; the order at p = 0.5 generalises and is laid out along a line', () => {
    const index = readJson(join(out, 'sweep.json'));
    const point = index.points.find((p: any) => p.assignments['task.options.trainFraction'] === 0.5 && p.assignments.seed === 1);
    expect(point).toBeDefined();
    const r = readJson(join(out, point.dir, 'analyses', 'geneft.json')).result;
    expect(r.relation).toBe('order');
    expect(r.nodes).toBe(30);
    expect(r.information.bits).toBeCloseTo(107.709, 2);
    expect(r.information.pcInfo).toBeCloseTo(107.709 / 435, 4);
    expect(r.accuracy.train).toBeGreaterThan(0.95);
    expect(r.accuracy.test).toBeGreaterThan(0.85);
    expect(r.geometry.principal.absRho).toBeGreaterThan(0.8);
    expect(r.embedding).toEqual({ nodes: 30, dim: 8 });
  });

  it('summarises the p scan with a fitted p_c beside p_c^info, the width scan and the claims, and draws three figures', () => {
    const summary = readJson(join(out, 'summaries', 'geneft.json'));
    const r = summary.result;
    expect(r.runs).toBe(13);
    expect(r.parts).toEqual(['p-scan', 'width-depth', 'lr-phase']);
    // the width-depth runs sweep p too, but they are not part of the p scan
    expect(r.transition).toHaveLength(1);
    const t = r.transition[0];
    expect(t).toMatchObject({ relation: 'order', runs: 6, points: 3, chance: 0.5 });
    expect(t.pc).toBeGreaterThan(0.02);
    expect(t.pc).toBeLessThan(0.5);
    expect(t.pcLo).toBeLessThanOrEqual(t.pc);
    expect(t.pcHi).toBeGreaterThanOrEqual(t.pc);
    expect(t.pcInfo).toBeCloseTo(0.2476, 3);
    expect(r.widthScan.map((c: any) => c.width)).toEqual([8, 64, 256]);
    expect(r.goldilocks).toHaveLength(1);
    expect(r.claims).toHaveLength(4);
    for (const c of r.claims) {
      expect(VERDICTS).toContain(c.verdict);
      expect(c.reason.length).toBeGreaterThan(0);
    }
    expect(summary.figures.map((f: any) => f.name)).toEqual(['geneft-transition', 'geneft-goldilocks', 'geneft-geometry']);

    const html = readFileSync(join(out, 'sweep-report.html'), 'utf8');
    expect(html).toContain('<h2>Claims tested</h2>');
    expect(html).toContain('A generalisation transition in the train fraction');
    expect(html).toContain('Test accuracy against the train fraction p');
  });
});

describe('geneft on a model without embeddings', () => {
  it('is refused before anything is written: exit 2, FILE: analyses[0].options: the missing embedding and the parameters the model has', () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-geneft-bad-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, ['name: bad', 'task: { name: relations, options: { relation: order, nodes: 10 } }', 'model: { name: mlp, options: { hidden: [8] } }', 'train: { epochs: 1 }', 'analyses:', '  - name: geneft', ''].join('\n'));
    const out = join(dir, 'run');
    const r = spawnSync(process.execPath, [bin, 'run', file, '--out', out], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 300_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${file}: analyses[0].options: the geneft analysis measures the learned node embeddings, so it needs a model with an "embedding" parameter [nodes, dim]`);
    expect(r.stderr).toContain('dense0.weight');
    expect(existsSync(out)).toBe(false);
  }, 300_000);
});
