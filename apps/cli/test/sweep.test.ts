/**
 * End-to-end tests of `goldstone sweep` on the built binary: expansion into run directories, the
 * index, determinism across worker counts, failures, and resumption after SIGKILL.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(here, '..', 'dist', 'bin.js');
const probe = join(here, 'fixtures', 'sweep-probe.mjs');

function goldstone(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'goldstone-sweep-'));
const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function experiment(dir: string, overrides: Record<string, unknown> = {}): string {
  const file = join(dir, 'exp.json');
  const body = {
    name: 'tiny',
    backend: 'cpu',
    task: { name: 'clt', options: { sites: 8, block: 2, trainSize: 128, testSize: 64 } },
    model: { name: 'mlp', options: { hidden: [8], activation: 'relu' } },
    train: { optimizer: 'adam', lr: 0.01, epochs: 2, batchSize: 32 },
    sweep: { grid: { 'train.lr': [0.01, 0.03], 'train.batchSize': { logspace: { from: 16, to: 32, num: 2 }, round: true } }, seeds: [1, 2] },
    ...overrides,
  };
  writeFileSync(file, JSON.stringify(body, null, 2));
  return file;
}

function runDirs(out: string): string[] {
  return readdirSync(out).filter((d) => existsSync(join(out, d, 'run.json'))).sort();
}

describe('goldstone sweep', () => {
  it('a 2×2×2 sweep gives 8 run directories, a correct index, and the same results with 1 or 2 workers', () => {
    const dir = tmp();
    const file = experiment(dir);
    const a = join(dir, 'a');
    const r2 = goldstone(['sweep', file, '--out', a, '--workers', '2', '--json']);
    expect(r2.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(r2.code).toBe(0);
    const index = JSON.parse(r2.stdout);
    expect(index).toEqual(readJson(join(a, 'sweep.json')));
    expect(index.counts).toMatchObject({ completed: 8, failed: 0, pending: 0, running: 0 });
    expect(runDirs(a)).toEqual(index.points.map((p: any) => p.id).sort());
    const combos = new Set<string>();
    for (const p of index.points) {
      const run = readJson(join(a, p.dir, 'run.json'));
      expect(run.status).toBe('completed');
      // each point ran with its assignments, as `goldstone run --set` would
      expect(run.config.train.lr).toBe(p.assignments['train.lr']);
      expect(run.config.train.batchSize).toBe(p.assignments['train.batchSize']);
      expect(run.seed).toBe(p.assignments.seed);
      expect(p.summary).toEqual(run.summary);
      expect(p.attempts).toBe(1);
      combos.add(JSON.stringify([p.assignments['train.lr'], p.assignments['train.batchSize'], p.assignments.seed]));
    }
    expect([...combos].sort()).toEqual(
      [0.01, 0.03].flatMap((lr) => [16, 32].flatMap((bs) => [1, 2].map((s) => JSON.stringify([lr, bs, s])))).sort(),
    );
    // summaries over seeds, grouped by the two grid settings
    const metrics = readJson(join(a, 'summaries', 'metrics.json'));
    expect(metrics.by).toEqual(['train.lr', 'train.batchSize']);
    expect(metrics.groups).toHaveLength(4);
    for (const g of metrics.groups) {
      const losses = index.points.filter((p: any) => p.assignments['train.lr'] === g.settings['train.lr'] && p.assignments['train.batchSize'] === g.settings['train.batchSize']).map((p: any) => p.summary['test.loss']);
      expect(g.metrics['test.loss'].n).toBe(2);
      expect(g.metrics['test.loss'].mean).toBeCloseTo((losses[0] + losses[1]) / 2, 12);
    }
    const html = readFileSync(join(a, 'sweep-report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('test.loss: train.batchSize × train.lr'); // the heat map of the 2-D grid
    expect(html).toContain('test.loss against train.lr');

    const b = join(dir, 'b');
    const r1 = goldstone(['sweep', file, '--out', b, '--workers', '1', '--no-report']);
    expect(r1.code).toBe(0);
    expect(r1.stdout).toBe('');
    for (const p of index.points) expect(readJson(join(b, p.dir, 'run.json')).summary).toEqual(readJson(join(a, p.dir, 'run.json')).summary);
    expect(existsSync(join(b, 'sweep-report.html'))).toBe(false);

    // running again skips every finished run
    const again = goldstone(['sweep', file, '--out', b, '--workers', '2', '--no-report', '--json']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('8 already finished, 0 to run');
    expect(JSON.parse(again.stdout).points.map((p: any) => p.attempts)).toEqual(Array(8).fill(1));
  });

  it('a point whose run throws is marked failed with its message; the others finish; exit 1; summaries cover the rest', () => {
    const dir = tmp();
    const file = experiment(dir, {
      plugins: [probe],
      analyses: [{ name: 'sweep-probe', options: { failOnSeed: 2 } }],
      sweep: { seeds: [1, 2, 3] },
    });
    const out = join(dir, 'out');
    const r = goldstone(['sweep', file, '--out', out, '--workers', '2', '--no-report']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/seed=2-[0-9a-f]{8} failed: .*probe failure for seed 2/);
    const index = readJson(join(out, 'sweep.json'));
    expect(index.counts).toMatchObject({ completed: 2, failed: 1 });
    const failed = index.points.find((p: any) => p.status === 'failed');
    expect(failed.assignments.seed).toBe(2);
    expect(failed.error).toContain('probe failure for seed 2');
    expect(readJson(join(out, failed.dir, 'run.json')).status).toBe('failed');
    const summary = readJson(join(out, 'summaries', 'sweep-probe.json'));
    expect(summary.result).toEqual({ n: 2, seeds: [1, 3], meanValue: 4 }); // values 2 and 6
    expect(summary.figures[0].name).toBe('probe');
    const finished = Object.fromEntries(index.points.filter((p: any) => p.status === 'completed').map((p: any) => [p.id, readJson(join(out, p.dir, 'run.json')).finishedAt]));

    // again: only the failed point runs (and fails again)
    const again = goldstone(['sweep', file, '--out', out, '--workers', '2', '--no-report', '--json']);
    expect(again.code).toBe(1);
    const next = JSON.parse(again.stdout);
    expect(next.points.find((p: any) => p.id === failed.id).attempts).toBe(2);
    for (const [id, at] of Object.entries(finished)) expect(readJson(join(out, id, 'run.json')).finishedAt).toBe(at);
  });

  it('killed midway (a worker, then the sweep, with SIGKILL) and restarted, it finishes every run exactly once', async () => {
    const dir = tmp();
    const file = experiment(dir, { train: { optimizer: 'adam', lr: 0.01, epochs: 4, batchSize: 16 } });
    const out = join(dir, 'out');
    const child = spawn(process.execPath, [bin, 'sweep', file, '--out', out, '--workers', '2', '--no-report'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const index = () => (existsSync(join(out, 'sweep.json')) ? readJson(join(out, 'sweep.json')) : undefined);
    const waitFor = async (pred: (ix: any) => boolean) => {
      for (let i = 0; i < 1200; i++) {
        const ix = index();
        if (ix && pred(ix)) return ix;
        await sleep(25);
      }
      throw new Error(`timed out waiting; stderr: ${stderr}`);
    };
    // kill one worker while it runs a point
    const running = await waitFor((ix) => ix.points.some((p: any) => p.status === 'running' && p.pid));
    const victim = running.points.find((p: any) => p.status === 'running' && p.pid);
    process.kill(victim.pid, 'SIGKILL');
    // then the whole sweep, once a few runs are done
    await waitFor((ix) => ix.counts.completed >= 3);
    child.kill('SIGKILL');
    await exited;
    await sleep(500); // orphaned workers notice the lost channel and stop
    const before = index();
    expect(before.counts.completed).toBeGreaterThanOrEqual(3);
    expect(before.counts.completed).toBeLessThan(8);
    const done = Object.fromEntries(
      readdirSync(out)
        .filter((d) => existsSync(join(out, d, 'run.json')) && readJson(join(out, d, 'run.json')).status === 'completed')
        .map((d) => [d, readJson(join(out, d, 'run.json')).createdAt]),
    );

    const r = goldstone(['sweep', file, '--out', out, '--workers', '2', '--no-report', '--json']);
    expect(r.code).toBe(0);
    const after = JSON.parse(r.stdout);
    expect(after.counts).toMatchObject({ completed: 8, failed: 0, interrupted: 0, running: 0 });
    expect(runDirs(out)).toHaveLength(8);
    for (const p of after.points) {
      const run = readJson(join(out, p.dir, 'run.json'));
      expect(run.status).toBe('completed');
      const epochs = readFileSync(join(out, p.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((row) => row.kind === 'epoch');
      expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]); // trained once, from scratch
      if (p.id in done) {
        expect(run.createdAt).toBe(done[p.id]); // a finished run is never run again
        expect(p.attempts).toBe(before.points.find((q: any) => q.id === p.id).attempts);
      }
    }
    const killed = after.points.find((p: any) => p.id === victim.id);
    expect(killed.attempts).toBeGreaterThanOrEqual(2);
  });

  it('bad sweep blocks exit 2 naming the field; --dry-run lists points and writes nothing', () => {
    const dir = tmp();
    const bad = experiment(dir, { sweep: { grid: { 'train.lr': 0.1 } } });
    const r = goldstone(['sweep', bad, '--out', join(dir, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}: sweep.grid.train.lr:`);
    const badPoint = experiment(dir, { sweep: { grid: { 'train.lr': [0.1, -1] } } });
    const r2 = goldstone(['sweep', badPoint, '--out', join(dir, 'x')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('train.lr');
    expect(r2.stderr).toContain('in sweep point lr=-1');
    expect(existsSync(join(dir, 'x'))).toBe(false);
    const good = experiment(dir);
    const dry = goldstone(['sweep', good, '--out', join(dir, 'y'), '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout).points).toHaveLength(8);
    expect(existsSync(join(dir, 'y'))).toBe(false);
    expect(goldstone(['sweep', good, '--workers', '0']).code).toBe(2);
  });
});
