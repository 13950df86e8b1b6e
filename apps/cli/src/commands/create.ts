import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { UsageError, type PluginKind } from '@goldstone/plugin-api';
import { writeFileAtomic } from '@goldstone/run-store/format';
import { cliDir } from '../environment';
import { pluginNames } from '../templates/names';
import { pluginPackageFiles, type TemplateVersions } from '../templates/plugin-package';

export interface CreateFlags {
  kind?: string;
  dir?: string;
  json?: boolean;
}

const KINDS: readonly PluginKind[] = ['analysis', 'task', 'model'];

/** The testkit's version when this CLI was built (tsup `define`); the CLI does not depend on it. */
declare const __GOLDSTONE_TESTKIT_VERSION__: string | undefined;

/** The version of a package as the CLI resolves it (what it runs with). */
function installedVersion(name: string): string | undefined {
  try {
    const file = createRequire(join(cliDir, 'package.json')).resolve(`${name}/package.json`);
    const v = JSON.parse(readFileSync(file, 'utf8')).version;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The versions of the running CLI's goldstone packages and engine, which a new plugin peers on. */
export function templateVersions(): TemplateVersions {
  const need = (name: string) => {
    const v = installedVersion(name);
    if (!v) throw new Error(`create plugin: cannot find the version of ${name} this CLI runs with (is the CLI installed completely?)`);
    return v;
  };
  const pluginApi = need('@goldstone/plugin-api');
  const tfjsCore = need('@tensorflow/tfjs-core');
  const testkit = typeof __GOLDSTONE_TESTKIT_VERSION__ === 'string' ? __GOLDSTONE_TESTKIT_VERSION__ : (installedVersion('@goldstone/testkit') ?? pluginApi);
  return { pluginApi, core: need('@goldstone/core'), testkit, tfjsCore, tfjsBackendCpu: installedVersion('@tensorflow/tfjs-backend-cpu') ?? tfjsCore };
}

/** The folder to write into: new, or empty. A UsageError naming --dir (or NAME's default) otherwise. */
function checkTarget(dir: string, given: boolean): void {
  const field = given ? '--dir' : 'NAME';
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UsageError(`${dir}: ${field}: expected a new or empty folder, found a file`, { file: dir, field });
  const entries = readdirSync(dir);
  if (entries.length > 0) {
    const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? ', …' : '');
    throw new UsageError(`${dir}: ${field}: expected a new or empty folder, found ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} (${shown}); nothing was written`, {
      file: dir,
      field,
    });
  }
}

/**
 * `goldstone create plugin NAME --kind K [--dir DIR]`: a standalone plugin package (package.json,
 * build, the plugin, its conformance test, an experiment and a README) in DIR (default ./NAME
 * without its scope). Everything is validated before anything is written.
 */
export async function createCommand(what: string, name: string, flags: CreateFlags): Promise<number> {
  if (what !== 'plugin') throw new UsageError(`create: WHAT: expected "plugin" (the one thing create makes), found ${JSON.stringify(what)}`, { field: 'WHAT' });
  const kind = flags.kind as PluginKind;
  if (!KINDS.includes(kind)) {
    throw new UsageError(`create plugin: --kind: expected one of ${KINDS.join(', ')}, found ${flags.kind === undefined ? 'none' : JSON.stringify(flags.kind)}`, { field: 'kind' });
  }
  const names = pluginNames(name, kind);
  if (flags.dir !== undefined && flags.dir.trim() === '') throw new UsageError('create plugin: --dir: expected a folder path, found an empty string', { field: 'dir' });
  const dir = resolve(flags.dir ?? names.packageName.replace(/^@[^/]+\//, ''));
  checkTarget(dir, flags.dir !== undefined);
  const files = pluginPackageFiles(names, templateVersions());

  const existed = existsSync(dir);
  try {
    for (const [rel, text] of Object.entries(files)) await writeFileAtomic(join(dir, rel), text);
  } catch (err) {
    // A half-written package is worse than none: remove what this command made.
    if (!existed) rmSync(dir, { recursive: true, force: true });
    else for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
    throw err;
  }

  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ dir, package: names.packageName, kind, plugin: names.plugin, files: Object.keys(files) })}\n`);
  } else {
    process.stderr.write(
      [
        `created ${names.packageName} (${kind} plugin "${names.plugin}") in ${dir}`,
        'next:',
        `  cd ${dir}`,
        '  npm install && npm run build && npm test',
        `  goldstone run experiment.yaml --out runs/${names.plugin}`,
        '',
      ].join('\n'),
    );
  }
  return 0;
}
