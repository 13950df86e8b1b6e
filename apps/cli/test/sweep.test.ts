/**
 * End-to-end tests of `goldstone sweep` on the built binary: expansion into run directories, the
 * index, determinism across worker counts, failures, resumption after SIGKILL, limits and the reuse
 * of a sweep directory.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(here, '..', 'dist', 'bin.js');
const probe = join(here, 'fixtures', 'sweep-probe.mjs');

function goldstone(args: string[], opts: { cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000, cwd: opts.cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'goldstone-sweep-'));
const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));
const gateFixture = join(here, 'fixtures', 'sweep-gate.mjs');

/** Is a process still running (a zombie left for an init that does not reap counts as gone)? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc: trust kill(pid, 0)
  }
}

/** Poll `probe` until it returns something, for at most two minutes (a state, never a fixed sleep). */
async function waitFor<T>(probe: () => T | undefined, context: () => string): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting; ${context()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
    const gate = join(dir, 'gate');
    // The points with seed 4 wait in their analysis until the gate file exists: they are known to be
    // running when the test kills, whatever the speed of the machine.
    const file = experiment(dir, {
      plugins: [gateFixture],
      analyses: [{ name: 'sweep-gate', options: { gate, holdSeeds: [4] } }],
      sweep: { grid: { 'train.lr': [0.01, 0.03] }, seeds: [1, 2, 3, 4] },
    });
    const out = join(dir, 'out');
    const child = spawn(process.execPath, [bin, 'sweep', file, '--out', out, '--workers', '2', '--no-report'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const pids = new Set<number>();
    const index = () => {
      try {
        const ix = readJson(join(out, 'sweep.json'));
        for (const p of ix.points) if (p.pid) pids.add(p.pid);
        return ix;
      } catch {
        return undefined; // not written yet
      }
    };
    const held = (ix: any) => ix.points.filter((p: any) => p.assignments.seed === 4 && p.status === 'running' && p.pid);
    // kill a worker while it holds a point (it cannot finish: its gate is closed)
    const first = await waitFor(() => {
      const ix = index();
      return ix && held(ix).length > 0 ? ix : undefined;
    }, () => stderr);
    const victim = held(first)[0];
    process.kill(victim.pid, 'SIGKILL');
    // then the whole sweep, once every other point has finished and both held points run again
    await waitFor(() => {
      const ix = index();
      return ix && ix.counts.completed === 6 && held(ix).length === 2 && held(ix).every((p: any) => p.pid !== victim.pid) ? ix : undefined;
    }, () => stderr);
    child.kill('SIGKILL');
    await exited;
    // orphaned workers notice the lost channel and stop
    await waitFor(() => ([...pids].some(alive) ? undefined : true), () => `workers still alive: ${[...pids].filter(alive).join(', ')}`);
    const before = index();
    expect(before.counts).toMatchObject({ completed: 6, running: 2 });
    const done = Object.fromEntries(
      readdirSync(out)
        .filter((d) => existsSync(join(out, d, 'run.json')) && readJson(join(out, d, 'run.json')).status === 'completed')
        .map((d) => [d, readJson(join(out, d, 'run.json')).createdAt]),
    );
    expect(Object.keys(done)).toHaveLength(6);

    writeFileSync(gate, 'open');
    const r = goldstone(['sweep', file, '--out', out, '--workers', '2', '--no-report', '--json']);
    // on failure, say why: the sweep's own words (and each point's error in its index)
    expect(r.code, `restarted sweep exited ${r.code}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`).toBe(0);
    const after = JSON.parse(r.stdout);
    expect(after.counts, JSON.stringify(after.points.filter((p: any) => p.status !== 'completed'))).toMatchObject({ completed: 8, failed: 0, interrupted: 0, running: 0 });
    expect(runDirs(out)).toHaveLength(8);
    for (const p of after.points) {
      const run = readJson(join(out, p.dir, 'run.json'));
      expect(run.status).toBe('completed');
      const epochs = readFileSync(join(out, p.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((row) => row.kind === 'epoch');
      expect(epochs.map((e) => e.epoch)).toEqual([1, 2]); // trained once, from scratch
      if (p.id in done) {
        expect(run.createdAt).toBe(done[p.id]); // a finished run is never run again
        expect(p.attempts).toBe(before.points.find((q: any) => q.id === p.id).attempts);
      }
    }
    // the killed point: attempt 1 lost with its worker, attempt 2 cut off with the sweep, attempt 3 finished
    expect(after.points.find((p: any) => p.id === victim.id).attempts).toBe(3);
  }, 300_000);

  it('bad sweep blocks exit 2 naming the field; --dry-run lists points and writes nothing', () => {
    const dir = tmp();
    const bad = experiment(dir, { sweep: { grid: { 'train.lr': 0.1 } } });
    const r = goldstone(['sweep', bad, '--out', join(dir, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}: sweep.grid.train.lr:`);
    const badPoint = experiment(dir, { sweep: { grid: { 'train.lr': [0.1, -1] } } });
    const r2 = goldstone(['sweep', badPoint, '--out', join(dir, 'x')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`error: ${badPoint}: sweep point train.lr=-1: train.lr: Too small`);
    expect(r2.stderr).toContain('in sweep point lr=-1');
    expect(existsSync(join(dir, 'x'))).toBe(false);
    const good = experiment(dir);
    const dry = goldstone(['sweep', good, '--out', join(dir, 'y'), '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout).points).toHaveLength(8);
    expect(existsSync(join(dir, 'y'))).toBe(false);
    expect(goldstone(['sweep', good, '--workers', '0']).code).toBe(2);
    // without --json: one line per point on stdout (what it would do, its id, its assignments)
    const listed = goldstone(['sweep', good, '--out', join(dir, 'y'), '--dry-run']);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines).toHaveLength(8);
    expect(lines[0]).toMatch(/^run {2}bs=16_lr=0\.01_seed=1-[0-9a-f]{8} train\.lr=0\.01 train\.batchSize=16 seed=1$/);
    expect(listed.stderr).toContain('8 would run; nothing was written');
    expect(existsSync(join(dir, 'y'))).toBe(false);
    // a sweep of parts lists each point with its part; a bad part names its field
    const parts = experiment(dir, { sweep: { parts: [{ name: 'scan', grid: { 'train.lr': [0.01, 0.02] } }, { name: 'batch', grid: { 'train.batchSize': [8] } }], seeds: [1] } });
    const partLines = goldstone(['sweep', parts, '--out', join(dir, 'z'), '--dry-run']).stdout.trim().split('\n');
    expect(partLines.map((l) => l.split(' ').slice(0, 4).join(' '))).toEqual([
      expect.stringMatching(/^run {2}lr=0\.01_seed=1-[0-9a-f]{8} \[scan\]$/),
      expect.stringMatching(/^run {2}lr=0\.02_seed=1-[0-9a-f]{8} \[scan\]$/),
      expect.stringMatching(/^run {2}bs=8_seed=1-[0-9a-f]{8} \[batch\]$/),
    ]);
    const badPart = goldstone(['sweep', experiment(dir, { sweep: { parts: [{ name: 'scan', grid: { 'train.lr': 0.1 } }] } }), '--dry-run']);
    expect(badPart.code).toBe(2);
    expect(badPart.stderr).toContain('sweep.parts[0].grid.train.lr:');
  });

  it('flags: an empty --out, --max-points, and a different sweep in the same directory are exit 2; --force carries on', () => {
    const dir = tmp();
    const file = experiment(dir, { sweep: { seeds: [1, 2] } });
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'mine.txt'), 'keep');
    const empty = goldstone(['sweep', file, '--out', ''], { cwd: project });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--out: expected a sweep directory, found an empty path');
    expect(readdirSync(project)).toEqual(['mine.txt']);

    // a billion points: refused at once, naming the count, the limit and the flag
    const huge = experiment(dir, { sweep: { grid: { 'train.lr': { logspace: { from: 1e-4, to: 1, num: 1000 } }, 'train.batchSize': { linspace: { from: 1, to: 1000, num: 1000 } } }, seeds: Array.from({ length: 1000 }, (_, i) => i) } });
    const big = goldstone(['sweep', huge, '--dry-run']);
    expect(big.code).toBe(2);
    expect(big.stderr).toContain('sweep: expected at most 10000 points, found 1000000000 points');
    expect(big.stderr).toContain('--max-points 1000000000');
    expect(goldstone(['sweep', huge, '--dry-run', '--max-points', 'many']).code).toBe(2);
    const tooMany = goldstone(['sweep', experiment(dir, { sweep: { seeds: [1, 2, 3] } }), '--dry-run', '--max-points', '2']);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toContain('expected at most 2 points, found 3 points (seeds 3)');

    const out = join(dir, 'out');
    experiment(dir, { sweep: { seeds: [1, 2] } });
    expect(goldstone(['sweep', file, '--out', out, '--workers', '1', '--no-report']).code).toBe(0);
    const index = readFileSync(join(out, 'sweep.json'), 'utf8');
    experiment(dir, { sweep: { seeds: [1, 2] }, train: { optimizer: 'adam', lr: 0.01, epochs: 3, batchSize: 32 } });
    const refused = goldstone(['sweep', file, '--out', out, '--workers', '1', '--no-report']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`error: ${join(out, 'sweep.json')}: expected the sweep of ${file}`);
    expect(refused.stderr).toContain('train.epochs is 2 there, 3 here');
    expect(refused.stderr).toContain('Pass --force');
    expect(readFileSync(join(out, 'sweep.json'), 'utf8')).toBe(index);
    const forced = goldstone(['sweep', file, '--out', out, '--workers', '1', '--no-report', '--force', '--json']);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('--force: 2 runs that differ from this experiment will run again');
    expect(JSON.parse(forced.stdout).counts.completed).toBe(2);
  });
});
