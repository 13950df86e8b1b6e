/**
 * End-to-end tests of `goldstone sweep --executor redis` and `goldstone worker` on the built binary
 * against a real redis-server (started on a free loopback port with persistence on, stopped after):
 * workers killed with -9 or stopped with SIGTERM, the enqueuing sweep killed with -9, Redis restarted
 * mid-sweep, a point that fails deterministically, and connection errors. No finished run is lost.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, removeRedisDir, startRedis, waitUntil, type TestRedis } from '../../../packages/sweep-redis/src/test-support';

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(here, '..', 'dist', 'bin.js');
const gateFixture = join(here, 'fixtures', 'sweep-gate.mjs');
const probeFixture = join(here, 'fixtures', 'sweep-probe.mjs');
const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));

interface Proc {
  child: ChildProcess;
  out: () => string;
  exit: Promise<number | null>;
}

const started: Proc[] = [];

function goldstone(args: string[]): Proc {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (code, signal) => r(code ?? (signal ? -1 : null))));
  const p = { child, out: () => text, exit };
  started.push(p);
  return p;
}

function experiment(dir: string, analyses: unknown[], plugins: string[]): string {
  const file = join(dir, 'exp.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'tiny',
      backend: 'cpu',
      plugins,
      task: { name: 'clt', options: { sites: 8, block: 2, trainSize: 64, testSize: 32 } },
      model: { name: 'mlp', options: { hidden: [8], activation: 'relu' } },
      train: { optimizer: 'adam', lr: 0.01, epochs: 1, batchSize: 32 },
      analyses,
      sweep: { grid: { 'train.lr': [0.01, 0.03] }, seeds: [1, 2] },
    }),
  );
  return file;
}

/** A sweep whose points of `holdSeeds` wait for the file `gate`. */
function gated(holdSeeds: number[]) {
  const dir = mkdtempSync(join(tmpdir(), 'goldstone-redis-sweep-'));
  const gate = join(dir, 'gate');
  const file = experiment(dir, [{ name: 'sweep-gate', options: { gate, holdSeeds } }], [gateFixture]);
  return { dir, file, gate, out: join(dir, 'out') };
}

const index = (out: string): any => (existsSync(join(out, 'sweep.json')) ? readJson(join(out, 'sweep.json')) : undefined);
const pointsWhere = (out: string, pred: (p: any) => boolean): any[] => (index(out)?.points ?? []).filter(pred);
/** A point of `seed` that is running and has trained (its run directory says running): held at the gate. */
const held = (out: string, seed: number): any =>
  pointsWhere(out, (p) => p.status === 'running' && p.assignments.seed === seed).find((p) => {
    try {
      return readJson(join(out, p.dir, 'run.json')).status === 'running';
    } catch {
      return false;
    }
  });
const queueOf = (text: string) => /queue (goldstone-\S+) on /.exec(text)?.[1];

/** Per job id, how many times the queue's event stream says it completed. */
async function completions(redis: TestRedis, queue: string): Promise<Map<string, number>> {
  const client = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: true });
  client.on('error', () => undefined);
  await client.connect();
  const entries = await client.xrange(`bull:${queue}:events`, '-', '+');
  client.disconnect();
  const counts = new Map<string, number>();
  for (const [, fields] of entries) {
    const f = Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : [])));
    if (f.event === 'completed') counts.set(f.jobId, (counts.get(f.jobId) ?? 0) + 1);
  }
  return counts;
}

function expectAllCompletedOnce(out: string, counts: Map<string, number>) {
  const idx = index(out);
  expect(idx.counts, JSON.stringify(idx.points.filter((p: any) => p.status !== 'completed'))).toMatchObject({ completed: 4, failed: 0, running: 0, interrupted: 0, pending: 0 });
  for (const p of idx.points) {
    expect(readJson(join(out, p.dir, 'run.json')).status).toBe('completed');
    expect(counts.get(p.id), p.id).toBe(1);
  }
}

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  for (const p of started.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  // each test's queues go: the next one starts from an empty Redis
  const client = new Redis({ port: redis.port, host: '127.0.0.1' });
  await client.flushall();
  client.disconnect();
});
afterAll(async () => {
  await redis?.stop();
  if (redis) removeRedisDir(redis);
});

describe('goldstone sweep --executor redis with goldstone worker', () => {
  it('a worker killed with -9 mid-point: the point is retried on another worker and completes exactly once', async () => {
    const s = gated([1]);
    const a = goldstone(['worker', '--redis', redis.url, '--lock-duration', '2000']);
    const sweep = goldstone(['sweep', s.file, '--executor', 'redis', '--redis', redis.url, '--out', s.out, '--no-report']);
    // a seed-1 point is running on worker a (held at the gate)
    await waitUntil(() => held(s.out, 1) !== undefined, `a held point running\n${sweep.out()}`);
    a.child.kill('SIGKILL');
    await a.exit;
    const b = goldstone(['worker', '--redis', redis.url, '--lock-duration', '2000']);
    await waitUntil(() => /stopped answering/.test(sweep.out()), `the sweep noticing the lost worker\n${sweep.out()}`);
    writeFileSync(s.gate, '');
    expect(await sweep.exit, sweep.out()).toBe(0);
    expectAllCompletedOnce(s.out, await completions(redis, queueOf(sweep.out())!));
    b.child.kill('SIGTERM');
    expect(await b.exit).toBe(0); // idle: stops cleanly
  });

  it('a worker stopped with SIGTERM mid-point hands it back (run marked interrupted, exit 130); another worker finishes it', async () => {
    const s = gated([1]);
    const a = goldstone(['worker', '--redis', redis.url]);
    const sweep = goldstone(['sweep', s.file, '--executor', 'redis', '--redis', redis.url, '--out', s.out, '--no-report']);
    await waitUntil(() => held(s.out, 1) !== undefined, `a held point running\n${sweep.out()}`);
    const point = held(s.out, 1)!;
    a.child.kill('SIGTERM');
    expect(await a.exit, a.out()).toBe(130);
    expect(a.out()).toMatch(/handed back/);
    expect(readJson(join(s.out, point.dir, 'run.json')).status).toBe('interrupted');
    goldstone(['worker', '--redis', redis.url]);
    writeFileSync(s.gate, '');
    expect(await sweep.exit, sweep.out()).toBe(0);
    expectAllCompletedOnce(s.out, await completions(redis, queueOf(sweep.out())!));
  });

  it('the enqueuing sweep killed with -9: running it again resumes without redoing finished points', async () => {
    const s = gated([2]);
    goldstone(['worker', '--redis', redis.url, '--concurrency', '2']);
    const first = goldstone(['sweep', s.file, '--executor', 'redis', '--redis', redis.url, '--out', s.out, '--no-report']);
    await waitUntil(() => index(s.out)?.counts.completed === 2 && pointsWhere(s.out, (p) => p.status === 'running').length > 0, `two points finished\n${first.out()}`);
    first.child.kill('SIGKILL');
    await first.exit;
    const finished = Object.fromEntries(pointsWhere(s.out, (p) => p.status === 'completed').map((p) => [p.id, readJson(join(s.out, p.dir, 'run.json')).finishedAt]));
    const again = goldstone(['sweep', s.file, '--executor', 'redis', '--redis', redis.url, '--out', s.out, '--no-report']);
    await waitUntil(() => /already in the queue/.test(again.out()), `the re-run finding the queued jobs\n${again.out()}`);
    expect(again.out()).toMatch(/4 points, 2 already finished, 2 to run/);
    writeFileSync(s.gate, '');
    expect(await again.exit, again.out()).toBe(0);
    for (const [id, at] of Object.entries(finished)) expect(readJson(join(s.out, id, 'run.json')).finishedAt).toBe(at);
    expectAllCompletedOnce(s.out, await completions(redis, queueOf(again.out())!));
  });

  it('Redis restarted mid-sweep (appendonly): the sweep completes', async () => {
    const s = gated([2]);
    goldstone(['worker', '--redis', redis.url, '--concurrency', '2']);
    const sweep = goldstone(['sweep', s.file, '--executor', 'redis', '--redis', redis.url, '--out', s.out, '--no-report']);
    await waitUntil(() => index(s.out)?.counts.completed === 2 && pointsWhere(s.out, (p) => p.status === 'running').length > 0, `two points finished\n${sweep.out()}`);
    await redis.stop();
    await redis.start();
    writeFileSync(s.gate, '');
    expect(await sweep.exit, sweep.out()).toBe(0);
    expectAllCompletedOnce(s.out, await completions(redis, queueOf(sweep.out())!));
  });

  it('a point that fails deterministically ends failed after its attempts, with its message; the sweep exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-redis-sweep-'));
    const file = experiment(dir, [{ name: 'sweep-probe', options: { failOnSeed: 2 } }], [probeFixture]);
    const out = join(dir, 'out');
    const worker = goldstone(['worker', '--redis', redis.url]);
    const sweep = goldstone(['sweep', file, '--executor', 'redis', '--redis', redis.url, '--out', out, '--no-report']);
    expect(await sweep.exit, sweep.out()).toBe(1);
    expect(sweep.out()).toMatch(/seed=2-[0-9a-f]{8} failed: .*probe failure for seed 2/);
    const idx = index(out);
    expect(idx.counts).toMatchObject({ completed: 2, failed: 2 });
    const client = new Redis({ port: redis.port, host: '127.0.0.1' });
    for (const p of idx.points.filter((q: any) => q.status === 'failed')) {
      expect(p.error).toContain('probe failure for seed 2');
      const job = await client.hgetall(`bull:${queueOf(sweep.out())}:${p.id}`);
      expect(job.atm ?? job.attemptsMade, JSON.stringify(Object.keys(job))).toBe('2');
    }
    client.disconnect();
    // the worker carried on: it is still taking points
    expect(worker.child.exitCode).toBeNull();
  });

  it('connection errors: a bad URL or an unreachable Redis is exit 2 with a clear message, nothing written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-redis-sweep-'));
    const file = experiment(dir, [], []);
    const out = join(dir, 'out');
    const port = await freePort();
    const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
    const refused = run(['sweep', file, '--executor', 'redis', '--redis', `redis://127.0.0.1:${port}`, '--out', out]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^error: --redis redis:\/\/127\.0\.0\.1:\d+: cannot connect to Redis: .*ECONNREFUSED/m);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    const bad = run(['sweep', file, '--executor', 'redis', '--redis', 'localhost:6379', '--out', out]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--redis localhost:6379: expected redis:\/\//);
    expect(run(['sweep', file, '--executor', 'redis', '--out', out]).stderr).toMatch(/--redis: expected a redis:/);
    expect(run(['sweep', file, '--redis', redis.url, '--out', out]).stderr).toMatch(/--redis: only with --executor redis/);
    const worker = run(['worker', '--redis', `redis://:secret@127.0.0.1:${port}`]);
    expect(worker.status).toBe(2);
    expect(worker.stderr).toMatch(/cannot connect to Redis/);
    expect(worker.stderr).not.toContain('secret');
    expect(existsSync(out)).toBe(false);
  });
});
