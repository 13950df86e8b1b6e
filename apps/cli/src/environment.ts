import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginEnvironment } from '@goldstone/runner';
import { BUILTIN_PLUGINS } from './builtins';

/** This package's folder: built-in plugin packages are resolved from here when the user's project lacks them. */
export const cliDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function cliVersion(): string {
  return JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8')).version as string;
}

/** What the runner needs to find plugins when the CLI runs an experiment. */
export function cliEnvironment(): PluginEnvironment {
  return { builtins: BUILTIN_PLUGINS, bases: [cliDir], app: { name: '@goldstone/cli', version: cliVersion() } };
}
