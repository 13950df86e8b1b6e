import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '@goldstone/plugin-api';
import type { PluginEnvironment } from '@goldstone/runner';
import { runSweep, type ExecutorEvents, type PointJob } from '@goldstone/sweep';
import { connectionOptions, connectOnce } from './connection';
import { QUEUES_KEY, queueNameFor } from './queue-name';
import { RedisExecutor } from './redis-executor';
import { parseRedisUrl } from './redis-url';
import { RedisWorker } from './redis-worker';
import { freePort, makeCertificates, removeRedisDir, startRedis, waitUntil, type TestRedis } from './test-support';

const env: PluginEnvironment = {
  builtins: { task: { clt: '@goldstone/task-clt' }, model: { mlp: '@goldstone/models' }, analysis: {} },
  bases: [join(dirname(fileURLToPath(import.meta.url)), '..')],
};

function experiment(dir: string): string {
  const file = join(dir, 'exp.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'tiny',
      backend: 'cpu',
      task: { name: 'clt', options: { sites: 4, block: 2, trainSize: 32, testSize: 16 } },
      model: { name: 'mlp', options: { hidden: [4], activation: 'relu' } },
      train: { optimizer: 'adam', lr: 0.01, epochs: 1, batchSize: 16 },
      sweep: { grid: { 'train.lr': [0.01, 0.03] }, seeds: [1, 2] },
    }),
  );
  return file;
}

const PASSWORD = 'a p@ss:word';
let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
});
afterAll(async () => {
  await redis?.stop();
  if (redis) removeRedisDir(redis);
});

const noEvents: ExecutorEvents = { started() {}, finished() {}, retrying() {}, log() {} };

describe('RedisExecutor and RedisWorker against a real redis-server', () => {
  it('with a password URL: enqueuing the same sweep twice adds no job twice; one worker runs each point once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-sweep-redis-'));
    const file = experiment(dir);
    const out = join(dir, 'out');
    const target = parseRedisUrl(redis.url);
    const name = queueNameFor(out);
    const queue = new Queue(name, { connection: connectionOptions(target) });
    const events = new QueueEvents(name, { connection: connectionOptions(target) });
    const completedEvents: string[] = [];
    events.on('completed', ({ jobId }) => completedEvents.push(jobId));
    await events.waitUntilReady();
    try {
      // two sweep processes on one directory (say, one killed and started again): no worker yet
      const first = runSweep({ file, env, executor: new RedisExecutor({ target, pollInterval: 200 }), out, report: false });
      await waitUntil(async () => (await queue.getJobCounts('waiting')).waiting === 4, 'four waiting jobs');
      const jobs = (await queue.getJobs(['waiting'])).map((j) => j.data as PointJob);
      const again = new RedisExecutor({ target, pollInterval: 200 });
      const second = again.run(jobs, noEvents);
      // the second enqueue has read the queue when it registered itself; still four jobs
      await waitUntil(async () => (await queue.getJobCounts('waiting')).waiting === 4 && (await queue.count()) === 4, 'the second enqueue');
      expect(Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0)).toBe(4);

      const worker = new RedisWorker({ target, env, lockDuration: 5000 });
      expect(await worker.start()).toBe(name); // found through the sweep's registration
      const outcome = await first;
      await second;
      expect(await worker.stop('test over')).toBe('idle');
      expect(outcome.failed).toBe(0);
      expect(outcome.index.counts).toMatchObject({ completed: 4, failed: 0, running: 0 });
      for (const p of outcome.index.points) expect(JSON.parse(readFileSync(join(out, p.dir, 'run.json'), 'utf8')).status).toBe('completed');
      expect(completedEvents.sort()).toEqual(outcome.index.points.map((p) => p.id).sort());
      // the sweep is over: it is no longer registered for workers to find
      const probe = await connectOnce(target);
      expect(await probe.smembers(QUEUES_KEY)).not.toContain(name);
      probe.disconnect();
    } finally {
      await events.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a refused connection, a missing or wrong password: a UsageError naming --redis within a bounded time, the password masked', async () => {
    const closed = await freePort();
    const started = Date.now();
    await expect(connectOnce(parseRedisUrl(`redis://127.0.0.1:${closed}`), 5000)).rejects.toThrow(/^--redis redis:\/\/127\.0\.0\.1:\d+: cannot connect to Redis: .*ECONNREFUSED/);
    const noPassword = connectOnce(parseRedisUrl(`redis://127.0.0.1:${redis.port}`), 5000);
    await expect(noPassword).rejects.toBeInstanceOf(UsageError);
    await expect(noPassword).rejects.toThrow(/NOAUTH/);
    await expect(connectOnce(parseRedisUrl(`redis://:wrong-one@127.0.0.1:${redis.port}`), 5000)).rejects.toThrow(/^--redis redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: cannot connect to Redis: .*WRONGPASS/);
    expect(Date.now() - started).toBeLessThan(60_000);
    const ok = await connectOnce(parseRedisUrl(redis.url));
    expect(await ok.ping()).toBe('PONG');
    ok.disconnect();
  });

  it('rediss:// connects to a TLS-only redis-server with its CA; redis:// to it fails cleanly', async () => {
    const certs = makeCertificates();
    expect(certs, 'openssl makes the test certificates').toBeDefined();
    const tlsRedis = await startRedis({ tls: certs! });
    try {
      const target = parseRedisUrl(`rediss://127.0.0.1:${tlsRedis.port}`);
      const client = await connectOnce({ ...target, tls: { ...target.tls, servername: 'localhost', ca: readFileSync(certs!.ca, 'utf8') } });
      expect(await client.ping()).toBe('PONG');
      client.disconnect();
      // without the CA the certificate is not trusted: a clear error, not a hang
      await expect(connectOnce(target, 5000)).rejects.toThrow(/^--redis rediss:\/\/127\.0\.0\.1:\d+: cannot connect to Redis: /);
      await expect(connectOnce(parseRedisUrl(`redis://127.0.0.1:${tlsRedis.port}`), 3000)).rejects.toBeInstanceOf(UsageError);
    } finally {
      await tlsRedis.stop();
      removeRedisDir(tlsRedis);
      rmSync(certs!.dir, { recursive: true, force: true });
    }
  });
});
