/** `goldstone compare`: the built binary on two real `--quick` quickstart runs, and its usage errors. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(here, '..', 'dist', 'bin.js');
const quickstart = resolve(here, '..', '..', '..', 'experiments', 'quickstart.yaml');

function goldstone(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let root: string;
let seed1: string;
let seed2: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'goldstone-compare-'));
  seed1 = join(root, 'seed-1');
  seed2 = join(root, 'seed-2');
  for (const [dir, seed] of [
    [seed1, '1'],
    [seed2, '2'],
  ]) {
    const r = goldstone(['run', quickstart, '--quick', '--seed', seed, '--out', dir, '--no-report', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
  }
}, 600_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('goldstone compare', () => {
  it('prints the comparison as JSON only on stdout and writes one page with the curves overlaid', () => {
    const out = join(root, 'pages', 'seeds.html');
    const r = goldstone(['compare', seed1, seed2, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const cmp = JSON.parse(r.stdout);
    expect(cmp.page).toBe(out);
    expect(cmp.runs.map((x: { label: string; seed: number; primaryMetric: string }) => [x.label, x.seed, x.primaryMetric])).toEqual([
      ['seed-1', 1, 'mse'],
      ['seed-2', 2, 'mse'],
    ]);
    // the same experiment but for the seed (the plugin path is the same file for both)
    expect(cmp.configs).toEqual([{ key: 'seed', values: [1, 2] }]);
    expect(cmp.versions).toEqual([]);
    expect(cmp.notes).toEqual([]);

    const testMse = cmp.metrics.find((m: { key: string }) => m.key === 'test.mse');
    expect(testMse.better).toBe('lower');
    expect(testMse.values).toHaveLength(2);
    expect(testMse.values.every((v: unknown) => typeof v === 'number')).toBe(true);
    expect(testMse.best).toEqual([testMse.values[0] <= testMse.values[1] ? 0 : 1]);
    expect(cmp.metrics.some((m: { key: string }) => m.key === 'ood-gaussian.loss')).toBe(true);

    expect(cmp.headlines.map((a: { id: string; present: boolean[] }) => [a.id, a.present])).toEqual([
      ['hessian', [true, true]],
      ['weight-norms', [true, true]],
    ]);
    const trace = cmp.headlines[0].rows.find((h: { key: string }) => h.key === 'trace');
    expect(trace.values.every((v: { value: unknown }) => typeof v.value === 'number')).toBe(true);

    const html = readFileSync(out, 'utf8');
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/<script/i);
    expect(html.match(/<figure /g)).toHaveLength(1);
    expect(html).toContain('Training curves, runs overlaid');
    expect(html).toContain('>seed-1</text>');
    expect(html).toContain('>seed-2</text>');
    expect(html).toContain('<code>seed</code>');
  });

  it('prints the tables on stdout and writes compare.html in the working directory by default', () => {
    const cwd = mkdtempSync(join(root, 'cwd-'));
    const r = goldstone(['compare', seed1, seed2], cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Runs\n {2}run +seed-1 +seed-2\n/);
    expect(r.stdout).toMatch(/Config differences\n.*\n.*\n {2}seed +1 +2\n/);
    expect(r.stdout).toMatch(/\n {2}test\.mse +\d\S* +\d/);
    expect(r.stdout).toContain('* best of the runs');
    expect(r.stdout).toContain('Analysis: hessian');
    expect(r.stderr).toContain(`wrote ${join(cwd, 'compare.html')}`);
    expect(existsSync(join(cwd, 'compare.html'))).toBe(true);
  });

  it('refuses fewer than two runs, a directory that is not a run and an unreadable run.json with exit 2, writing nothing', () => {
    const cwd = mkdtempSync(join(root, 'bad-'));
    const out = join(cwd, 'page.html');
    const notRun = join(cwd, 'not-a-run');
    mkdirSync(notRun);
    const broken = join(cwd, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'run.json'), '{"name": "cut short');
    const cases: [string[], string][] = [
      [['compare', seed1], 'expected at least 2 run directories, found 1'],
      [['compare', seed1, notRun], join(notRun, 'run.json')],
      [['compare', seed1, join(cwd, 'missing')], join(cwd, 'missing')],
      [['compare', broken, seed1], `${join(broken, 'run.json')}: expected run.json as JSON`],
      [['compare', seed1, seed2, seed1], 'found this one twice'],
    ];
    for (const [args, message] of cases) {
      const r = goldstone([...args, '--out', out], cwd);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stdout).toBe('');
      expect(existsSync(out)).toBe(false);
    }
    expect(existsSync(join(cwd, 'compare.html'))).toBe(false);

    // --out a directory, or over a run's own files
    const dirOut = goldstone(['compare', seed1, seed2, '--out', cwd], cwd);
    expect(dirOut.code).toBe(2);
    expect(dirOut.stderr).toContain('found a directory');
    const before = readFileSync(join(seed1, 'run.json'), 'utf8');
    const own = goldstone(['compare', seed1, seed2, '--out', join(seed1, 'run.json')], cwd);
    expect(own.code).toBe(2);
    expect(own.stderr).toContain("outside goldstone's own files");
    expect(readFileSync(join(seed1, 'run.json'), 'utf8')).toBe(before);
  });
});
