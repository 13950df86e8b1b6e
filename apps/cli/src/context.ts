import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRegistry, initBackend, type BackendChoice, type Experiment, type PluginKind, type Registry } from '@goldstone/core';

/** This package's folder: built-in plugin packages are resolved from here when the user's project lacks them. */
export const cliDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The version of a package as resolved from the CLI's own folder, if installed. */
function installedVersion(name: string): string | undefined {
  let dir = cliDir;
  for (;;) {
    const file = join(dir, 'node_modules', ...name.split('/'), 'package.json');
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')).version as string;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function cliVersion(): string {
  return JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8')).version as string;
}

/** Where package names are resolved from: the experiment's folder, the working directory, the CLI. */
export function resolutionBases(experimentDir?: string): string[] {
  return [...(experimentDir ? [experimentDir] : []), process.cwd(), cliDir];
}

/** A registry holding exactly what an experiment names, plus its third-party plugins. */
export async function registryFor(experiment: Experiment, experimentDir: string, file?: string): Promise<Registry> {
  const needed: { kind: PluginKind; name: string }[] = [
    { kind: 'task', name: experiment.task.name },
    { kind: 'model', name: experiment.model.name },
    ...experiment.analyses.map((a) => ({ kind: 'analysis' as const, name: a.name })),
  ];
  return buildRegistry({ needed, plugins: experiment.plugins, bases: resolutionBases(experimentDir), relativeTo: experimentDir, where: file });
}

/** Versions of the packages a run used, for run.json. */
export function packageVersions(registry: Registry): Record<string, string> {
  const out: Record<string, string> = { '@goldstone/cli': cliVersion() };
  for (const name of ['@goldstone/core', '@goldstone/report', '@tensorflow/tfjs-core']) {
    const v = installedVersion(name);
    if (v) out[name] = v;
  }
  for (const e of registry.list()) out[e.package] = e.version;
  return out;
}

export async function startBackend(choice: BackendChoice): Promise<string> {
  return initBackend(choice, { log: (line) => process.stderr.write(`${line}\n`) });
}
