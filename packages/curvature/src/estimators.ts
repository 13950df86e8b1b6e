import { defineEstimator, type Estimator, type EstimatorKind } from './estimator';
import { blockLanczosEstimator } from './block-lanczos-estimator';
import { denseEstimator } from './dense-estimator';
import { hutchPlusPlusEstimator } from './hutch-plus-plus-estimator';
import { hutchinsonEstimator } from './hutchinson-estimator';
import { lanczosEstimator } from './lanczos-estimator';
import { slqEstimator } from './slq-estimator';

/**
 * The built-in estimators, in the order names are listed. A new built-in estimator is its own
 * file (`src/<name>-estimator.ts`, made with `defineEstimator`), its test, and one entry here.
 */
const BUILT_IN: readonly Estimator[] = [denseEstimator, lanczosEstimator, blockLanczosEstimator, hutchinsonEstimator, hutchPlusPlusEstimator, slqEstimator];

const registry = new Map<string, Estimator>(BUILT_IN.map((e) => [e.name, e]));

/** Every registered estimator by name: the built-ins and any added with `registerEstimator`. */
export const estimators: ReadonlyMap<string, Estimator> = registry;

/** The names of the registered estimators of a kind, in registration order. */
export function estimatorNames(kind: EstimatorKind): string[] {
  return [...registry.values()].filter((e) => e.kinds.includes(kind)).map((e) => e.name);
}

/** The estimator `name`, which must estimate `kind`; the error lists the known names of that kind. */
export function estimator(kind: EstimatorKind, name: string): Estimator {
  const e = registry.get(name);
  const known = estimatorNames(kind).map((n) => JSON.stringify(n)).join(', ');
  if (!e) throw new RangeError(`unknown ${kind} estimator ${JSON.stringify(name)} (known: ${known})`);
  if (!e.kinds.includes(kind)) {
    throw new RangeError(`estimator ${JSON.stringify(name)} estimates ${e.kinds.join(', ')}, not ${kind} (${kind} estimators: ${known})`);
  }
  return e;
}

/**
 * Add an estimator to the registry, for code that brings its own (a plugin, a study): afterwards
 * it is picked by name like a built-in one. A name already taken is an error. Returns a function
 * that removes it again.
 */
export function registerEstimator(e: Estimator): () => void {
  defineEstimator(e);
  if (registry.has(e.name)) throw new Error(`registerEstimator: an estimator named ${JSON.stringify(e.name)} is already registered`);
  registry.set(e.name, e);
  return () => {
    if (registry.get(e.name) === e) registry.delete(e.name);
  };
}
