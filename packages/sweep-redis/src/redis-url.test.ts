import { describe, expect, it } from 'vitest';
import { UsageError } from '@goldstone/plugin-api';
import { connectionOptions } from './connection';
import { mask, parseRedisUrl } from './redis-url';

describe('parseRedisUrl', () => {
  it('reads host, port, database, user and password; rediss:// asks for TLS', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/2')).toMatchObject({ host: '127.0.0.1', port: 6380, db: 2 });
    expect(parseRedisUrl('redis://localhost')).toMatchObject({ host: 'localhost', port: 6379, db: 0 });
    const t = parseRedisUrl('rediss://alice:p%40ss@redis.example.org:6390/1');
    expect(t).toMatchObject({ host: 'redis.example.org', port: 6390, db: 1, username: 'alice', password: 'p@ss', tls: { servername: 'redis.example.org' } });
    expect(t.display).toBe('rediss://alice:***@redis.example.org:6390/1');
    expect(parseRedisUrl('redis://:secret@h:1').password).toBe('secret');
    expect(parseRedisUrl('redis://[::1]:7000')).toMatchObject({ host: '::1', port: 7000 });
  });

  it('builds the connection options BullMQ gets: TLS only for rediss://, commands wait through reconnects', () => {
    const tls = connectionOptions(parseRedisUrl('rediss://:pw@h:7/3')) as Record<string, unknown>;
    expect(tls).toMatchObject({ host: 'h', port: 7, db: 3, password: 'pw', tls: { servername: 'h' }, maxRetriesPerRequest: null });
    const plain = connectionOptions(parseRedisUrl('redis://h:7')) as Record<string, unknown>;
    expect(plain.tls).toBeUndefined();
    expect(plain.password).toBeUndefined();
  });

  it('refuses anything else with a UsageError naming --redis, the password masked', () => {
    for (const [url, found] of [
      ['localhost:6379', 'scheme localhost'],
      ['http://h:1', 'scheme http'],
      ['redis://h:99999', 'not a URL'],
      ['redis://h:1/x', 'database "x"'],
      ['redis://h:1/16', 'database "16"'],
      ['redis://:hunter2@h:1/?a=b', 'query'],
      ['nonsense', 'not a URL'],
    ] as const) {
      let err: unknown;
      try {
        parseRedisUrl(url);
      } catch (e) {
        err = e;
      }
      expect(err, url).toBeInstanceOf(UsageError);
      expect((err as UsageError).message).toMatch(/^--redis /);
      expect((err as UsageError).message, url).toContain(found);
      expect((err as UsageError).message).not.toContain('hunter2');
    }
    expect(mask('redis://u:pw@h:1')).toBe('redis://u:***@h:1');
  });
});
