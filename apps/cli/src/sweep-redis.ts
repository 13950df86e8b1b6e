import { UsageError } from '@goldstone/plugin-api';
import type * as SweepRedis from '@goldstone/sweep-redis';

/**
 * `@goldstone/sweep-redis`, loaded only when a command needs it (`--executor redis`, `goldstone
 * worker`): it is an optional peer of the CLI, so that installing the CLI does not install BullMQ
 * and Redis clients for everyone. Missing: a usage error saying what to install.
 */
export async function loadSweepRedis(flag: string): Promise<typeof SweepRedis> {
  try {
    return await import('@goldstone/sweep-redis');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((err as Error).message).includes('@goldstone/sweep-redis')) {
      throw new UsageError(`${flag}: needs the package @goldstone/sweep-redis, which is not installed: npm install @goldstone/sweep-redis`, { field: flag.replace(/^--?/, '').split(' ')[0] });
    }
    throw err;
  }
}
