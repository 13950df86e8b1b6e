/** Test helpers of this package's tests (not part of its public surface). */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginEnvironment } from '@goldstone/runner';

/** Built-in plugins resolve from this package's folder (its dev dependencies), as the CLI's do from its own. */
export const testEnv: PluginEnvironment = {
  builtins: { task: { clt: '@goldstone/task-clt' }, model: { mlp: '@goldstone/models' }, analysis: {} },
  bases: [join(dirname(fileURLToPath(import.meta.url)), '..')],
};

/** The training settings of `writeExperiment`'s experiment. */
export const TINY_TRAIN = { optimizer: 'adam', lr: 0.01, epochs: 1, batchSize: 16 };

/** Write `dir/exp.json`: a tiny clt/mlp experiment (cpu) swept over two learning rates × two seeds, with `overrides` on top. */
export function writeExperiment(dir: string, overrides: Record<string, unknown> = {}): string {
  const file = join(dir, 'exp.json');
  const body = {
    name: 'tiny',
    backend: 'cpu',
    task: { name: 'clt', options: { sites: 4, block: 2, trainSize: 32, testSize: 16 } },
    model: { name: 'mlp', options: { hidden: [4], activation: 'relu' } },
    train: TINY_TRAIN,
    sweep: { grid: { 'train.lr': [0.01, 0.03] }, seeds: [1, 2] },
    ...overrides,
  };
  writeFileSync(file, JSON.stringify(body));
  return file;
}
