/**
 * Test helpers: a real redis-server on a free loopback port with its own temporary directory and
 * persistence on (appendonly), started and stopped by the tests, optionally with a password or TLS.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  /** Stop the server (SIGTERM: it writes its append-only file first) and wait until it is gone. */
  stop(): Promise<void>;
  /** Start it again on the same port and directory and wait until it answers. */
  start(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (asked of the kernel). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Poll until `probe` resolves true, for at most `ms` (a state, never a fixed sleep). */
export async function waitUntil(probe: () => boolean | Promise<boolean>, what: string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await Promise.resolve(probe()).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface TestRedisOptions {
  password?: string;
  /** Serve TLS only (rediss://), with a certificate made by `makeCertificates`. */
  tls?: { cert: string; key: string; ca: string };
}

export async function startRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'goldstone-redis-'));
  const args = ['--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no', '--protected-mode', 'no'];
  if (options.password) args.push('--requirepass', options.password);
  if (options.tls) args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.cert, '--tls-key-file', options.tls.key, '--tls-ca-cert-file', options.tls.ca, '--tls-auth-clients', 'no');
  else args.push('--port', String(port));
  let child: ChildProcess | undefined;
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const url = `${options.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`;
  const start = async () => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    const ping = async () => {
      const client = new Redis({ host: '127.0.0.1', port, password: options.password, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, ...(options.tls ? { tls: { ca: readCa(options.tls.ca), servername: 'localhost' } } : {}) });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } finally {
        client.disconnect();
      }
    };
    await waitUntil(ping, `redis-server on port ${port}`);
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    await gone;
  };
  await start();
  return {
    port,
    url,
    dir,
    start,
    stop: async () => {
      await stop();
    },
  };
}

/** Remove a test server's directory (after `stop`). */
export function removeRedisDir(redis: TestRedis): void {
  rmSync(redis.dir, { recursive: true, force: true });
}

function readCa(path: string): string {
  return readFileSync(path, 'utf8');
}

/** A CA and a server certificate for localhost/127.0.0.1, made with openssl; undefined when openssl is missing. */
export function makeCertificates(): { cert: string; key: string; ca: string; dir: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'goldstone-tls-'));
  const run = (args: string[]) => spawnSync('openssl', args, { cwd: dir, stdio: 'ignore' }).status === 0;
  const ok =
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=goldstone test CA', '-keyout', 'ca.key', '-out', 'ca.crt']) &&
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr']) &&
    run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'server.crt', '-extfile', writeExt(dir)]);
  return ok ? { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), ca: join(dir, 'ca.crt'), dir } : undefined;
}

function writeExt(dir: string): string {
  const path = join(dir, 'ext.cnf');
  writeFileSync(path, 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  return path;
}
