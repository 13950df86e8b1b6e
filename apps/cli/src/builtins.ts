import { didYouMean, UsageError, type BuiltinPlugins } from '@goldstone/plugin-api';
import { InProcessExecutor, LocalExecutor, type SweepExecutor } from '@goldstone/sweep';
import { loadSweepRedis } from './sweep-redis';

/**
 * The one map of built-in plugins: short name → the package that provides it. A package is
 * imported only when an experiment names one of its plugins, so the CLI works with only those
 * installed; a name whose package is missing says which package to install. Only packages that
 * exist are listed here.
 */
export const BUILTIN_PLUGINS: BuiltinPlugins = {
  task: {
    clt: '@goldstone/task-clt',
    jets: '@goldstone/task-jets',
    mnist: '@goldstone/task-mnist',
    relations: '@goldstone/task-relations',
  },
  model: {
    mlp: '@goldstone/models',
    gnn: '@goldstone/models',
    'deep-sets': '@goldstone/models',
    'block-mlp': '@goldstone/models',
    'embedding-decoder': '@goldstone/models',
  },
  analysis: {
    hessian: '@goldstone/analysis-hessian',
    sharpness: '@goldstone/analysis-hessian',
    robustness: '@goldstone/analysis-robustness',
    compressibility: '@goldstone/analysis-compressibility',
    distillation: '@goldstone/analysis-distillation',
    'variance-flatness': '@goldstone/analysis-variance-flatness',
    correlations: '@goldstone/analysis-correlations',
    cumulants: '@goldstone/analysis-cumulants',
    geneft: '@goldstone/analysis-geneft',
    grokking: '@goldstone/analysis-grokking',
    landscape: '@goldstone/analysis-landscape',
  },
};

/** What `goldstone sweep` passes to an executor's factory. */
export interface ExecutorFlags {
  workers?: number;
  /** `--redis URL` (the redis executor). */
  redis?: string;
  /** `--queue NAME` (the redis executor; default: derived from the sweep directory). */
  queue?: string;
}

async function redisExecutor(options: ExecutorFlags): Promise<SweepExecutor> {
  if (options.redis === undefined || options.redis.trim() === '') {
    throw new UsageError('--redis: expected a redis://[user:password@]host[:port][/db] or rediss:// URL with --executor redis, found nothing', { field: 'redis' });
  }
  const { parseRedisUrl, queueNameIssue, RedisExecutor } = await loadSweepRedis('--executor redis');
  const issue = options.queue === undefined ? undefined : queueNameIssue(options.queue);
  if (issue) throw new UsageError(`--queue ${options.queue}: expected ${issue}`, { field: 'queue' });
  return new RedisExecutor({ target: parseRedisUrl(options.redis), queue: options.queue });
}

/** Sweep executors by `--executor` name. */
export const SWEEP_EXECUTORS: Readonly<Record<string, (options: ExecutorFlags) => SweepExecutor | Promise<SweepExecutor>>> = {
  local: (options) => new LocalExecutor({ workers: options.workers }),
  'in-process': () => new InProcessExecutor(),
  redis: redisExecutor,
};

/** The executor `--executor NAME` asks for. */
export async function createExecutor(name: string, options: ExecutorFlags): Promise<SweepExecutor> {
  // own names only: `constructor` or `__proto__` is an unknown executor, not Object's
  if (!Object.hasOwn(SWEEP_EXECUTORS, name)) {
    throw new UsageError(`--executor ${name}: unknown executor${didYouMean(name, Object.keys(SWEEP_EXECUTORS))}; known: ${Object.keys(SWEEP_EXECUTORS).join(', ')}`, { field: 'executor' });
  }
  if (name !== 'redis' && (options.redis !== undefined || options.queue !== undefined)) {
    throw new UsageError(`--${options.redis !== undefined ? 'redis' : 'queue'}: only with --executor redis, found --executor ${name}`, { field: options.redis !== undefined ? 'redis' : 'queue' });
  }
  return SWEEP_EXECUTORS[name](options);
}
