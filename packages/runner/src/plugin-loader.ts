import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { messageOf, pluginsOf, Registry, UsageError, type BuiltinPlugins, type Plugin, type PluginKind, type PluginSource } from '@goldstone/plugin-api';

interface ResolvedModule {
  url: string;
  package: string;
  version: string;
}

function readPackageJson(dir: string): Record<string, any> | undefined {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8'));
}

function entryOf(pkgDir: string, pkg: Record<string, any>): string {
  const exp = pkg.exports;
  let rel: unknown;
  if (typeof exp === 'string') rel = exp;
  else if (exp && typeof exp === 'object') {
    const dot = exp['.'] ?? exp;
    rel = typeof dot === 'string' ? dot : (dot.import ?? dot.default ?? dot.node);
    if (rel && typeof rel === 'object') rel = (rel as any).default;
  }
  rel ??= pkg.module ?? pkg.main ?? 'index.js';
  return join(pkgDir, String(rel));
}

/** Resolve a package name by walking up `node_modules` folders from each base directory in turn. */
function resolvePackage(name: string, bases: string[]): ResolvedModule | undefined {
  for (const base of bases) {
    let dir = resolve(base);
    for (;;) {
      const pkgDir = join(dir, 'node_modules', ...name.split('/'));
      const pkg = readPackageJson(pkgDir);
      if (pkg) {
        return { url: pathToFileURL(entryOf(pkgDir, pkg)).href, package: pkg.name ?? name, version: pkg.version ?? '0.0.0' };
      }
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
  if (pkg) return { url: pathToFileURL(entryOf(path, pkg)).href, package: pkg.name ?? path, version: pkg.version ?? '0.0.0' };
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
 * plugins with their source. Fails with a UsageError naming what to install.
 */
export async function loadPluginModule(
  specifier: string,
  opts: LoadOptions,
): Promise<{ plugins: Plugin[]; source: PluginSource }> {
  const isPath = specifier.startsWith('.') || isAbsolute(specifier);
  const resolved = isPath ? resolvePath(resolve(opts.relativeTo, specifier)) : resolvePackage(specifier, opts.bases);
  const where = opts.where ? `${opts.where}: ` : '';
  if (!resolved) {
    throw new UsageError(
      isPath
        ? `${where}plugin path "${specifier}" does not exist${isAbsolute(specifier) ? '' : ` (resolved to ${resolve(opts.relativeTo, specifier)})`}`
        : `${where}plugin package "${specifier}" is not installed: install ${specifier}`,
    );
  }
  let mod: Record<string, unknown>;
  try {
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
  needed?: { kind: PluginKind; name: string }[];
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
  for (const [i, spec] of (opts.plugins ?? []).entries()) {
    const { plugins, source } = await loadPluginModule(spec, {
      bases: opts.bases,
      relativeTo: opts.relativeTo,
      where: opts.where ? `${opts.where}: plugins[${i}]` : `plugins[${i}]`,
    });
    for (const p of plugins) registry.add(p, source);
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
    const pkg = builtins[kind][name];
    if (pkg) wanted.add(pkg);
  }
  for (const pkg of wanted) {
    if (loaded.has(pkg)) continue;
    const resolved = resolvePackage(pkg, opts.bases);
    if (!resolved) continue; // not installed: `get` names the package to install
    let mod: Awaited<ReturnType<typeof loadPluginModule>>;
    try {
      mod = await loadPluginModule(pkg, { bases: opts.bases, relativeTo: opts.relativeTo });
    } catch (err) {
      // Listing everything installed must not fail because one package is broken; a plugin an
      // experiment actually needs still fails loudly.
      const needed = (opts.needed ?? []).some(({ kind, name }) => builtins[kind][name] === pkg);
      if (needed || !opts.onSkip) throw err;
      opts.onSkip(pkg, messageOf(err));
      continue;
    }
    for (const p of mod.plugins) if (!registry.has(p.kind, p.name)) registry.add(p, mod.source);
    loaded.add(pkg);
  }
  return registry;
}
