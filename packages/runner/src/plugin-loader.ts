import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isObject, messageOf, pluginsOf, Registry, UsageError, type BuiltinPlugins, type Plugin, type PluginKind, type PluginSource } from '@goldstone/plugin-api';
import { shareHostModules } from './host-modules';

interface ResolvedModule {
  url: string;
  package: string;
  version: string;
}

function readPackageJson(dir: string): Record<string, any> | undefined {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  let pkg: unknown;
  try {
    pkg = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file}: cannot read this plugin's package.json: ${messageOf(err)}`, { file });
  }
  if (!isObject(pkg)) throw new UsageError(`${file}: expected a package.json object, got ${Array.isArray(pkg) ? 'an array' : String(pkg)}`, { file });
  return pkg;
}

/** The module a package.json points at: `exports` (".", then import/default/node conditions), `module`, `main`, `index.js`. */
function entryOf(pkgDir: string, pkg: Record<string, any>): string {
  const pick = (value: unknown, depth = 0): string | undefined => {
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) return depth < 8 ? value.map((v) => pick(v, depth + 1)).find((v) => v !== undefined) : undefined;
    if (!isObject(value) || depth >= 8) return undefined;
    for (const key of ['.', 'import', 'default', 'node']) if (Object.hasOwn(value, key)) return pick(value[key], depth + 1);
    return undefined;
  };
  const rel = pick(pkg.exports) ?? [pkg.module, pkg.main].find((v): v is string => typeof v === 'string') ?? 'index.js';
  return join(pkgDir, rel);
}

/** A package's name and version as recorded in run.json (what package.json says, if it says it). */
function identity(pkg: Record<string, any>, fallback: string): { package: string; version: string } {
  return { package: typeof pkg.name === 'string' ? pkg.name : fallback, version: typeof pkg.version === 'string' ? pkg.version : '0.0.0' };
}

/** An npm package name: `name` or `@scope/name`, no path segments. */
const PACKAGE_NAME = /^(@[a-z0-9~][a-z0-9._~-]*\/)?[a-z0-9~][a-z0-9._~-]*$/i;

/** Resolve a package name by walking up `node_modules` folders from each base directory in turn. */
function resolvePackage(name: string, bases: string[]): ResolvedModule | undefined {
  for (const base of bases) {
    let dir = resolve(base);
    for (;;) {
      const pkgDir = join(dir, 'node_modules', ...name.split('/'));
      const pkg = readPackageJson(pkgDir);
      if (pkg) return { url: pathToFileURL(entryOf(pkgDir, pkg)).href, ...identity(pkg, name) };
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return undefined;
}

/** Resolve a path to a plugin: a directory with a package.json, or a JS module file. */
function resolvePath(path: string): ResolvedModule | undefined {
  if (!existsSync(path)) return undefined;
  const pkg = readPackageJson(path);
  if (pkg) return { url: pathToFileURL(entryOf(path, pkg)).href, ...identity(pkg, path) };
  return { url: pathToFileURL(path).href, package: path, version: '0.0.0' };
}

export interface LoadOptions {
  /** Directories to resolve package names from (the experiment's folder, the cwd, the CLI's own folder). */
  bases: string[];
  /** Directory that relative paths are relative to (the experiment file's folder). */
  relativeTo: string;
  /** For error messages: where the specifier was written, e.g. `experiments/x.yaml: plugins[0]`. */
  where?: string;
}

/**
 * Import a plugin module given as a package name or a path (relative to `relativeTo`) and return its
 * plugins with their source. Fails with a UsageError naming what to install. The plugin's imports
 * of the engine and of goldstone's contract resolve to the host's copies (`shareHostModules`), so
 * one tfjs engine serves host and plugins.
 */
export async function loadPluginModule(
  specifier: string,
  opts: LoadOptions,
): Promise<{ plugins: Plugin[]; source: PluginSource }> {
  const isPath = specifier.startsWith('.') || isAbsolute(specifier);
  const where = opts.where ? `${opts.where}: ` : '';
  if (!isPath && !PACKAGE_NAME.test(specifier)) {
    throw new UsageError(`${where}"${specifier}" is neither a path (./…, ../…, /…) nor a package name`, { field: opts.where });
  }
  const resolved = isPath ? resolvePath(resolve(opts.relativeTo, specifier)) : resolvePackage(specifier, opts.bases);
  if (!resolved) {
    throw new UsageError(
      isPath
        ? `${where}plugin path "${specifier}" does not exist${isAbsolute(specifier) ? '' : ` (resolved to ${resolve(opts.relativeTo, specifier)})`}`
        : `${where}plugin package "${specifier}" is not installed: install ${specifier}`,
    );
  }
  let mod: Record<string, unknown>;
  try {
    // A plugin folder with its own node_modules (installed for its build and tests) would load a
    // second tfjs engine and contract: its imports of those get the host's copies instead.
    shareHostModules(fileURLToPath(resolved.url));
    mod = await import(resolved.url);
  } catch (err) {
    const msg = messageOf(err);
    throw new UsageError(`${where}could not load plugin module "${specifier}" (${resolved.url}): ${msg}`);
  }
  const plugins = pluginsOf(mod);
  if (plugins.length === 0) throw new UsageError(`${where}"${specifier}" exports no goldstone plugin`);
  return { plugins, source: { package: resolved.package, version: resolved.version } };
}

/**
 * Build a registry holding the built-in plugins that are named (short names, loaded from their
 * packages on demand) and every plugin module listed. Only packages actually needed are imported.
 */
export async function buildRegistry(opts: {
  /** The built-in plugins by short name and the packages that provide them (the CLI's map). */
  builtins: BuiltinPlugins;
  /** The plugins the experiment names; `where` (`exp.yaml: task.name`) is named when loading its package fails. */
  needed?: { kind: PluginKind; name: string; where?: string }[];
  plugins?: string[];
  allBuiltins?: boolean;
  bases: string[];
  relativeTo: string;
  where?: string;
  /** Called for a built-in package that is installed but cannot be loaded, when listing all built-ins (it is skipped). */
  onSkip?: (pkg: string, reason: string) => void;
}): Promise<Registry> {
  const registry = new Registry(opts.builtins);
  const builtins = opts.builtins;
  const loaded = new Set<string>();
  const add = (p: Plugin, source: PluginSource, where: string | undefined) => {
    try {
      registry.add(p, source);
    } catch (err) {
      if (err instanceof UsageError && where) throw new UsageError(`${where}: ${err.message}`, { file: opts.where, field: err.field });
      throw err;
    }
  };
  for (const [i, spec] of (opts.plugins ?? []).entries()) {
    const where = opts.where ? `${opts.where}: plugins[${i}]` : `plugins[${i}]`;
    const { plugins, source } = await loadPluginModule(spec, { bases: opts.bases, relativeTo: opts.relativeTo, where });
    for (const p of plugins) add(p, source, where);
    loaded.add(source.package);
  }
  const wanted = new Set<string>();
  if (opts.allBuiltins) {
    for (const kind of Object.keys(builtins) as PluginKind[]) {
      for (const pkg of Object.values(builtins[kind])) wanted.add(pkg);
    }
  }
  for (const { kind, name } of opts.needed ?? []) {
    if (registry.has(kind, name)) continue;
    const pkg = registry.builtinPackage(kind, name);
    if (pkg) wanted.add(pkg);
  }
  for (const pkg of wanted) {
    if (loaded.has(pkg)) continue;
    // The field that names this package, for errors: `exp.yaml: task.name: …`.
    const need = (opts.needed ?? []).find(({ kind, name }) => registry.builtinPackage(kind, name) === pkg);
    const where = need?.where ?? opts.where;
    let mod: Awaited<ReturnType<typeof loadPluginModule>>;
    try {
      if (!resolvePackage(pkg, opts.bases)) continue; // not installed: `get` names the package to install
      mod = await loadPluginModule(pkg, { bases: opts.bases, relativeTo: opts.relativeTo, where });
    } catch (err) {
      // Listing everything installed must not fail because one package is broken; a plugin an
      // experiment actually needs still fails loudly.
      if (need || !opts.onSkip) throw err;
      opts.onSkip(pkg, messageOf(err));
      continue;
    }
    for (const p of mod.plugins) if (!registry.has(p.kind, p.name)) add(p, mod.source, where);
    loaded.add(pkg);
  }
  return registry;
}
