import { isIP } from 'node:net';
import { UsageError } from '@goldstone/plugin-api';

/** Where and how to connect: what `redis://` and `rediss://` URLs say, as ioredis options. */
export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** `rediss://`: TLS, verifying the server's certificate against `ca` (else the system's roots). */
  tls?: { servername?: string; ca?: string; rejectUnauthorized?: boolean };
  /** The URL with its password masked, for messages. */
  display: string;
}

/**
 * Parse `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS). Anything else is a
 * UsageError naming `flag`: `--redis URL: expected …, found …`.
 */
export function parseRedisUrl(text: string, flag = '--redis'): RedisTarget {
  const bad = (what: string) => new UsageError(`${flag} ${mask(text)}: expected redis://[user:password@]host[:port][/db] or rediss://… (TLS), ${what}`, { field: flag.replace(/^--/, '') });
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw bad('found something that is not a URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw bad(`found the scheme ${url.protocol.replace(/:$/, '')}`);
  if (url.hostname === '') throw bad('found no host');
  const port = url.port === '' ? 6379 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`found the port ${url.port}`);
  const path = url.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!/^\d*$/.test(path) || !Number.isInteger(db) || db > 15) throw bad(`found the database "${path}" (a number 0–15)`);
  if (url.search !== '' || url.hash !== '') throw bad('found query parameters or a fragment');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  return {
    host,
    port,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(url.protocol === 'rediss:' ? { tls: isIP(host) ? {} : { servername: host } } : {}),
    display: mask(text),
  };
}

/** A Redis URL with its password replaced by `***` (for logs and messages). */
export function mask(text: string): string {
  return text.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}
