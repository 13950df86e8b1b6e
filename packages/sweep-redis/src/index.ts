// Public surface of @goldstone/sweep-redis: named re-exports only. Sweeps on many machines (BullMQ on Redis).
export { connectionOptions, connectOnce, CONNECT_TIMEOUT_MS } from './connection';
export { RedisExecutor } from './redis-executor';
export type { RedisExecutorOptions } from './redis-executor';
export { RedisWorker } from './redis-worker';
export type { RedisWorkerOptions, WorkerStop } from './redis-worker';
export { mask, parseRedisUrl } from './redis-url';
export type { RedisTarget } from './redis-url';
export { QUEUES_KEY, queueNameFor, queueNameIssue } from './queue-name';
