import { didYouMean, UsageError, type BuiltinPlugins } from '@goldstone/plugin-api';
import { InProcessExecutor, LocalExecutor, type SweepExecutor } from '@goldstone/sweep';

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

/** Sweep executors by `--executor` name. */
export const SWEEP_EXECUTORS: Readonly<Record<string, (options: { workers?: number }) => SweepExecutor>> = {
  local: (options) => new LocalExecutor({ workers: options.workers }),
  'in-process': () => new InProcessExecutor(),
};

/** The executor `--executor NAME` asks for. */
export function createExecutor(name: string, options: { workers?: number }): SweepExecutor {
  // own names only: `constructor` or `__proto__` is an unknown executor, not Object's
  if (!Object.hasOwn(SWEEP_EXECUTORS, name)) {
    throw new UsageError(`--executor ${name}: unknown executor${didYouMean(name, Object.keys(SWEEP_EXECUTORS))}; known: ${Object.keys(SWEEP_EXECUTORS).join(', ')}`, { field: 'executor' });
  }
  return SWEEP_EXECUTORS[name](options);
}
