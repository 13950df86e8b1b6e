/**
 * `--quiet` and `--json` on the built binary: `goldstone sweep --quiet` and `goldstone worker --quiet`
 * print nothing on stderr when all goes well and still print errors, `--json` leaves nothing but
 * JSON on stdout (also through `pnpm -s goldstone`, as the README shows), and no command prints
 * tfjs's "install tfjs-node" banner, in the CLI's own process or in the processes it starts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, removeRedisDir, startRedis, waitUntil, type TestRedis } from '../../../packages/sweep-redis/src/test-support';

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(here, '..', 'dist', 'bin.js');
const repo = resolve(here, '..', '..', '..');
const probeFixture = join(here, 'fixtures', 'sweep-probe.mjs');
/** What tfjs prints when no native backend is registered (and any shortened form of it). */
const TFJS_BANNER = /tfjs-node|node backend|looks like you are running TensorFlow\.js/i;
const env = { ...process.env, NO_COLOR: '1' };

function goldstone(args: string[], opts: { cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env, timeout: 240_000, cwd: opts.cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A two-point sweep on the cpu backend (the one whose first tensor would print tfjs's banner): the
 * Slurm tests' tiny experiment with one axis, optionally with analyses.
 */
function experiment(analyses: unknown[] = [], plugins: string[] = []): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'goldstone-quiet-'));
  const file = join(dir, 'exp.json');
  const tiny = JSON.parse(readFileSync(join(here, 'fixtures', 'slurm-tiny.json'), 'utf8'));
  writeFileSync(file, JSON.stringify({ ...tiny, train: { ...tiny.train, epochs: 1 }, plugins, analyses, sweep: { grid: { 'train.lr': [0.01, 0.03] } } }));
  return { dir, file };
}

describe('goldstone sweep --quiet and --json', () => {
  it('--quiet: nothing on stderr for a sweep that succeeds, on both executors; --json: only the index on stdout', () => {
    const { dir, file } = experiment();
    for (const executor of ['local', 'in-process']) {
      const out = join(dir, executor);
      const r = goldstone(['sweep', file, '--out', out, '--executor', executor, '--workers', '2', '--quiet', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const index = JSON.parse(r.stdout);
      expect(index.counts).toMatchObject({ completed: 2, failed: 0 });
      expect(index).toEqual(JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')));
    }
    // without --json, stdout is as empty as before; the same sweep again skips its finished points quietly
    const again = goldstone(['sweep', file, '--out', join(dir, 'local'), '--quiet']);
    expect(again).toMatchObject({ code: 0, stdout: '', stderr: '' });
    // a dry run keeps its listing on stdout and drops its status line
    const dry = goldstone(['sweep', file, '--out', join(dir, 'dry'), '--dry-run', '--quiet']);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toBe('');
    expect(dry.stdout.trim().split('\n')).toHaveLength(2);
    expect(existsSync(join(dir, 'dry'))).toBe(false);
  });

  it('without --quiet the same sweep reports progress on stderr, and nothing there mentions tfjs-node', () => {
    const { dir, file } = experiment();
    const r = goldstone(['sweep', file, '--out', join(dir, 'out'), '--workers', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/2 points, 0 already finished, 2 to run/);
    expect(r.stderr).toMatch(/2 completed, 0 diverged, 0 failed/);
    expect(r.stderr).not.toMatch(TFJS_BANNER);
    expect(JSON.parse(r.stdout).counts.completed).toBe(2);
  });

  it('--quiet still prints errors: a usage error (exit 2) and a point that fails (exit 1)', () => {
    const { dir, file } = experiment([{ name: 'sweep-probe', options: { failOnSeed: 0 } }], [probeFixture]);
    const bad = goldstone(['sweep', file, '--out', join(dir, 'bad'), '--workers', 'two', '--quiet']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --workers two: expected a whole number ≥ 1/m);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
    const failing = goldstone(['sweep', file, '--out', join(dir, 'out'), '--workers', '2', '--quiet', '--json']);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/^error: lr=0\.01-[0-9a-f]{8} failed: .*probe failure for seed 0/m);
    expect(failing.stderr.split('\n').filter(Boolean).every((l) => l.startsWith('error: '))).toBe(true);
    expect(failing.stderr).not.toMatch(TFJS_BANNER);
    expect(JSON.parse(failing.stdout).counts.failed).toBe(2);
  });

  it('--quiet with Slurm: --emit prints nothing on stderr (--json has the commands), --reconcile still names what did not run', () => {
    const { dir, file } = experiment();
    const out = join(dir, 'out');
    const emit = goldstone(['sweep', file, '--out', out, '--emit', 'slurm', '--quiet', '--json']);
    expect(emit.code, emit.stderr).toBe(0);
    expect(emit.stderr).toBe('');
    expect(JSON.parse(emit.stdout)).toMatchObject({ tasks: 2, points: 2 });
    expect(existsSync(join(out, 'slurm', 'sweep.sbatch'))).toBe(true);
    const reconcile = goldstone(['sweep', file, '--out', out, '--reconcile', '--quiet']);
    expect(reconcile.code).toBe(1);
    expect(reconcile.stdout).toBe('');
    expect(reconcile.stderr).toMatch(/^error: lr=0\.01-[0-9a-f]{8} did not run/m);
    expect(reconcile.stderr).not.toMatch(/^reconciled /m);
  });

  it('`goldstone run` on the cpu backend prints no tfjs-node banner', () => {
    const { dir, file } = experiment();
    const r = goldstone(['run', file, '--out', join(dir, 'run'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/backend cpu/);
    expect(r.stderr).not.toMatch(TFJS_BANNER);
    expect(JSON.parse(r.stdout).status).toBe('completed');
  });

  it('`pnpm -s goldstone sweep … --json` from the repository, as the README shows, leaves only JSON on stdout', () => {
    const { dir, file } = experiment();
    const out = join(dir, 'out');
    const args = ['-s', 'goldstone', 'sweep', relative(repo, file), '--out', relative(repo, out), '--workers', '2', '--json'];
    const r = spawnSync('pnpm', args, { cwd: repo, encoding: 'utf8', env, timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).counts.completed).toBe(2);
    expect(r.stderr).not.toMatch(TFJS_BANNER);
    const dry = spawnSync('pnpm', [...args, '--dry-run'], { cwd: repo, encoding: 'utf8', env, timeout: 240_000 });
    expect(dry.status, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout).points).toHaveLength(2);
  });
});

interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

const started: Proc[] = [];

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (code, signal) => r(code ?? (signal ? -1 : null))));
  const p = { child, stdout: () => out, stderr: () => err, exit };
  started.push(p);
  return p;
}

describe('goldstone worker --quiet against a real redis-server', () => {
  let redis: TestRedis | undefined;
  /** A Redis with no queue on it (each test discovers its own sweep), started once for the file. */
  async function emptyRedis(): Promise<TestRedis> {
    redis ??= await startRedis();
    const client = new Redis({ port: redis.port, host: '127.0.0.1' });
    await client.flushall();
    client.disconnect();
    return redis;
  }
  afterAll(async () => {
    for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await redis?.stop();
    if (redis) removeRedisDir(redis);
  });

  it('quiet workers (one, and a pool of two) and a quiet sweep: every point completes, and nothing is printed on stderr', async () => {
    const server = await emptyRedis();
    const { dir, file } = experiment();
    const out = join(dir, 'out');
    // started before the sweep: the "waiting for a sweep" line is left out too
    const one = start(['worker', '--redis', server.url, '--quiet']);
    const pool = start(['worker', '--redis', server.url, '--concurrency', '2', '--quiet']);
    const sweep = start(['sweep', file, '--executor', 'redis', '--redis', server.url, '--out', out, '--quiet', '--json']);
    expect(await sweep.exit, sweep.stderr()).toBe(0);
    expect(sweep.stderr()).toBe('');
    expect(JSON.parse(sweep.stdout()).counts).toMatchObject({ completed: 2, failed: 0 });
    for (const w of [one, pool]) {
      w.child.kill('SIGTERM');
      expect(await w.exit, w.stderr()).toBe(0); // idle: stops cleanly
      expect(w.stderr()).toBe('');
      expect(w.stdout()).toBe('');
    }
  });

  it('a worker without --quiet says where it takes points from, and nothing about tfjs-node', async () => {
    const server = await emptyRedis();
    const { dir, file } = experiment();
    const worker = start(['worker', '--redis', server.url]);
    const sweep = start(['sweep', file, '--executor', 'redis', '--redis', server.url, '--out', join(dir, 'out'), '--quiet']);
    expect(await sweep.exit, sweep.stderr()).toBe(0);
    await waitUntil(() => /taking points from queue/.test(worker.stderr()), `the worker's start line\n${worker.stderr()}`);
    worker.child.kill('SIGTERM');
    expect(await worker.exit).toBe(0);
    expect(worker.stderr()).toMatch(/SIGTERM: stopped/);
    expect(worker.stderr()).not.toMatch(TFJS_BANNER);
  });

  it('--quiet still prints errors: a Redis that cannot be reached is exit 2 with one sentence', async () => {
    const port = await freePort();
    const r = goldstone(['worker', '--redis', `redis://127.0.0.1:${port}`, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*127\.0\.0\.1:\d+/m);
    expect(r.stderr).not.toMatch(TFJS_BANNER);
  });
});
