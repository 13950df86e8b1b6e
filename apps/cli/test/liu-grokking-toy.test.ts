/**
 * The grokking-toy study (experiments/liu-grokking-toy.yaml, docs/grokking-toy.md) at its `--quick`
 * size, end to end on the built binary: a sweep of two parts (3 train_num values, a 2 × 2 corner of
 * the (η_r, η_d) phase map) of 500 steps each, every run with the grokking analysis; then the
 * sweep-level grokking summary (phase map with the predicted boundary, accuracy against train_num
 * beside the ideal accuracy, claims with verdicts) and the sweep report.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bin, experimentFile, quickSweep, readJson } from './experiment-sweep';

const VERDICTS = ['reproduced', 'partly', 'not reproduced', 'contradicted', 'not measured'];
const PHASES = ['comprehension', 'grokking', 'memorisation', 'confusion'];

describe('experiments/liu-grokking-toy.yaml --quick', () => {
  let run: ReturnType<typeof quickSweep>;
  let out = '';
  beforeAll(() => {
    run = quickSweep('liu-grokking-toy.yaml', 1);
    out = run.out;
  }, 960_000);

  it('runs every point of both parts to completion, and the point ids tell the encoder lr from the decoder lr', () => {
    expect(run.code, run.stderr).toBe(0);
    const index = readJson(join(out, 'sweep.json'));
    expect(index.points).toHaveLength(7);
    expect(index.points.every((p: any) => p.status === 'completed')).toBe(true);
    const map = index.points.filter((p: any) => p.assignments['train.groups.encoder.lr'] !== undefined);
    expect(map).toHaveLength(4);
    for (const p of map) expect(p.id).toMatch(/decoder\.lr=.*encoder\.lr=/);
  });

  it('each run records the toy\'s measurements: accuracies, RQI, ℓ_eff, the phase, the ideal accuracy and the repon picture', () => {
    const index = readJson(join(out, 'sweep.json'));
    for (const p of index.points) {
      const r = readJson(join(out, p.dir, 'analyses', 'grokking.json')).result;
      expect(r.task).toMatchObject({ relation: 'addition', nodes: 10 });
      expect(r.steps).toBe(500);
      expect(r.trajectory.step[0]).toBe(0);
      expect(r.trajectory.step.at(-1)).toBe(500);
      expect(r.trajectory.step).toHaveLength(51);
      expect(PHASES).toContain(r.phase);
      expect(r.ideal.counts.pairs).toBe(55);
      expect(r.ideal.counts.train).toBe(p.assignments['task.options.trainNum'] ?? 45);
      // the settings come from the run's run.json, so the phase-map cell's learning rates drive the repon part
      expect(r.repon.settingsFrom).toMatch(/run\.json config\.train/);
      expect(r.repon.optimizer).toBe('adamw');
      expect(r.repon.encoderLr).toBe(p.assignments['train.groups.encoder.lr'] ?? 1e-3);
      expect(r.repon.decoderLr).toBe(p.assignments['train.groups.decoder.lr'] ?? 1e-4);
      expect(r.repon.memorisation.cap).toBe(500);
      expect(r.repon.effective.steps).toBe(500);
      expect(typeof r.repon.agree).toBe('boolean');
    }
    // with every pair of a sum but one in training (train_num 50) the ideal test accuracy is high, with 10 it is low
    const at = (n: number) => readJson(join(out, index.points.find((p: any) => p.assignments['task.options.trainNum'] === n).dir, 'analyses', 'grokking.json')).result;
    expect(at(50).ideal.testAccuracy).toBeGreaterThan(at(10).ideal.testAccuracy);
  });

  it('summarises the sweep: the phase map of the four cells with the prediction over it, the curve against train_num, a verdict for every claim', () => {
    const summary = readJson(join(out, 'summaries', 'grokking.json'));
    const r = summary.result;
    expect(r.runs).toBe(7);
    expect(r.maps).toHaveLength(1);
    expect(r.maps[0].runs).toBe(4);
    expect(r.maps[0].cells).toHaveLength(4);
    expect(r.maps[0].compared).toBe(4);
    expect(r.maps[0].agreement).toBeGreaterThanOrEqual(0);
    expect(r.curves[0].points.map((p: any) => p.x)).toEqual([10, 30, 50]);
    for (const p of r.curves[0].points) expect(p.idealTestAccuracy).not.toBeNull();
    expect(r.claims).toHaveLength(4);
    for (const c of r.claims) {
      expect(VERDICTS).toContain(c.verdict);
      expect(c.reason.length).toBeGreaterThan(0);
    }
    expect(r.claims[1].verdict).not.toBe('not measured');
    expect(r.headline).toHaveLength(2);
    expect(summary.figures.map((f: any) => f.name)).toEqual(['grokking-phase-map', 'grokking-accuracy']);

    const html = readFileSync(join(out, 'sweep-report.html'), 'utf8');
    expect(html).toContain('<h2>Claims tested</h2>');
    expect(html).toContain('The effective (repon) theory predicts');
    expect(html).toContain('Phase map: representation lr');
  });
});

describe('liu-grokking-toy.yaml with a bad grokking option', () => {
  it('is a usage error naming the file and the field, before anything is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-grokking-bad-'));
    const file = join(dir, 'bad.yaml');
    const text = readFileSync(experimentFile('liu-grokking-toy.yaml'), 'utf8').replace('      every: 10\n      threshold: 0.9', '      every: 10\n      testSplit: ood\n      threshold: 0.9');
    expect(text).toContain('testSplit: ood');
    writeFileSync(file, text);
    const out = join(dir, 'run');
    const r = spawnSync(process.execPath, [bin, 'run', file, '--out', out], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 300_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${file}: analyses[0].options.testSplit: the task has no split "ood" (it has: train, test)`);
    expect(existsSync(out)).toBe(false);
  }, 300_000);
});
