import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, type BackendChoice } from '@goldstone/core';
import { isObject, messageOf, UsageError, type BuiltinPlugins, type PluginKind, type Registry } from '@goldstone/plugin-api';
import { locateField, type Experiment } from './experiment';
import { buildRegistry } from './plugin-loader';

/**
 * Where plugins come from, as data the application hands to the runner: the built-in short-name map
 * and the folders that package names resolve from. JSON-serialisable, so a sweep can send it to its
 * worker processes.
 */
export interface PluginEnvironment {
  /** Built-in plugins by kind and short name → the package that provides each (the CLI's map). */
  builtins: BuiltinPlugins;
  /**
   * Folders to resolve package names from after the experiment's folder and the working directory:
   * typically the application's own folder, so that what it installed is found.
   */
  bases: string[];
  /** The application running the experiment (`@goldstone/cli`), recorded with its version in run.json. */
  app?: { name: string; version: string };
}

/** The version of a package as resolved from `base` (walking up node_modules folders), if installed. */
export function installedVersion(name: string, base: string): string | undefined {
  let dir = base;
  for (;;) {
    const file = join(dir, 'node_modules', ...name.split('/'), 'package.json');
    if (existsSync(file)) {
      let pkg: unknown;
      try {
        pkg = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new UsageError(`${file}: cannot read the installed package's version: ${messageOf(err)}`, { file });
      }
      return isObject(pkg) && typeof pkg.version === 'string' ? pkg.version : undefined;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Where package names are resolved from: the experiment's folder, the working directory, then the environment's. */
export function resolutionBases(env: PluginEnvironment, experimentDir?: string): string[] {
  return [...(experimentDir ? [experimentDir] : []), process.cwd(), ...env.bases];
}

/** A registry holding exactly what an experiment names, plus its third-party plugins. */
export async function registryFor(env: PluginEnvironment, experiment: Experiment, experimentDir: string, file?: string): Promise<Registry> {
  // Where each name was written (the file, `quick:` or a flag), for errors loading its package.
  const where = (path: (string | number)[]) => {
    const loc = locateField(experiment, path, file);
    return `${loc.where ? `${loc.where}: ` : ''}${loc.field}`;
  };
  const needed: { kind: PluginKind; name: string; where: string }[] = [
    { kind: 'task', name: experiment.task.name, where: where(['task', 'name']) },
    { kind: 'model', name: experiment.model.name, where: where(['model', 'name']) },
    ...experiment.analyses.map((a, i) => ({ kind: 'analysis' as const, name: a.name, where: where(['analyses', i, 'name']) })),
  ];
  return buildRegistry({
    builtins: env.builtins,
    needed,
    plugins: experiment.plugins,
    bases: resolutionBases(env, experimentDir),
    relativeTo: experimentDir,
    where: file,
  });
}

/** This package's folder: the engine packages it depends on resolve from here. */
const runnerDir = dirname(fileURLToPath(import.meta.url));

/** The goldstone packages a run used beside its plugins, recorded with their versions. */
const ENGINE_PACKAGES = ['@goldstone/plugin-api', '@goldstone/core', '@goldstone/trainer', '@goldstone/run-store', '@goldstone/runner', '@goldstone/report', '@tensorflow/tfjs-core'];

/** Versions of the packages a run used, for run.json (read from their package.json files, never typed in). */
export function packageVersions(env: PluginEnvironment, registry: Registry): Record<string, string> {
  const out: Record<string, string> = env.app ? { [env.app.name]: env.app.version } : {};
  for (const name of ENGINE_PACKAGES) {
    for (const base of [runnerDir, ...env.bases]) {
      const v = installedVersion(name, base);
      if (v) {
        out[name] = v;
        break;
      }
    }
  }
  for (const e of registry.list()) out[e.package] = e.version;
  return out;
}

/** Start the tensor backend, logging fallbacks (an unusable tfjs-node, …) to stderr. */
export async function startBackend(choice: BackendChoice): Promise<string> {
  return initBackend(choice, { log: (line) => process.stderr.write(`${line}\n`) });
}
