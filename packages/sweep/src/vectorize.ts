import type { Json } from '@goldstone/plugin-api';
import { resolvedConfig, type ResolvedExperiment } from '@goldstone/runner';
import { canonicalJson } from './sweep-spec';

/**
 * The vectorised group of an experiment as run (after --quick, --set and a point's assignments):
 * its resolved config without `seed` and `train.lr` (and the labels `name`, `description`). Points
 * with equal keys differ only in seed and lr, and may train together as stacked replicas.
 */
export function replicaKey(resolved: ResolvedExperiment): string {
  const { seed: _seed, name: _name, description: _description, ...config } = resolvedConfig(resolved) as Record<string, Json>;
  const train = { ...(config.train as Record<string, Json>) };
  delete train.lr;
  return canonicalJson({ ...config, train });
}

/**
 * `items` in groups of equal `keyOf`, at most `maxReplicas` each: groups in the order of their first
 * item, items in their own order, a group larger than `maxReplicas` split into consecutive chunks.
 */
export function vectorGroups<T>(items: readonly T[], keyOf: (item: T) => string, maxReplicas: number): T[][] {
  const byKey = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    byKey.set(key, [...(byKey.get(key) ?? []), item]);
  }
  const out: T[][] = [];
  for (const group of byKey.values()) for (let i = 0; i < group.length; i += maxReplicas) out.push(group.slice(i, i + maxReplicas));
  return out;
}
