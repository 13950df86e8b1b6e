import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { messageOf, UsageError } from '@goldstone/plugin-api';
import type { RedisTarget } from './redis-url';

/** How long the first connection may take before the command gives up (ms). */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * ioredis options for BullMQ's long-lived connections: commands wait through a reconnect
 * (`maxRetriesPerRequest: null`, as BullMQ's workers require), so a Redis restarted mid-sweep is
 * picked up again; reconnects back off up to 2 s.
 */
export function connectionOptions(target: RedisTarget): ConnectionOptions {
  return redisOptions(target) as ConnectionOptions;
}

function redisOptions(target: RedisTarget): RedisOptions {
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: { ...target.tls } } : {}),
    maxRetriesPerRequest: null,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  };
}

/**
 * Connect once, without retrying, and PING: a refused connection, a failed TLS handshake or a
 * wrong password is a UsageError (`--redis URL: cannot connect: …`) within `timeoutMs`, before
 * anything is written. Returns the connected client (the caller quits it).
 */
export async function connectOnce(target: RedisTarget, timeoutMs = CONNECT_TIMEOUT_MS, flag = '--redis'): Promise<Redis> {
  const client = new Redis({ ...redisOptions(target), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, enableOfflineQueue: false });
  // with no retries, connect() rejects with "Connection is closed."; the cause came as an 'error' event
  let cause: unknown;
  client.on('error', (err) => (cause ??= err));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs))),
    ]);
    return client;
  } catch (err) {
    client.disconnect();
    throw new UsageError(`${flag} ${target.display}: cannot connect to Redis: ${describeConnectError(cause ?? err)}`, { field: flag.replace(/^--/, '') });
  } finally {
    clearTimeout(timer);
  }
}

function describeConnectError(err: unknown): string {
  const message = messageOf(err);
  if (/WRONGPASS|invalid username-password/i.test(message)) return `${message} (check the user and password in the URL)`;
  if (/NOAUTH/i.test(message)) return `${message} (the server wants a password: redis://:PASSWORD@host:port)`;
  if (/ECONNREFUSED/.test(message)) return `${message} (is redis-server running there, on that port?)`;
  if (/SSL|TLS|certificate|wrong version number|EPROTO/i.test(message)) return `${message} (TLS: rediss:// needs a server with tls-port; redis:// one without)`;
  return message;
}
