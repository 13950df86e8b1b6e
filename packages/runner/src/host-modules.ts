import { existsSync, realpathSync } from 'node:fs';
import Module, { register } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The packages a plugin must share with the host that loads it: the tensor engine (tfjs keeps its
 * kernel, gradient and backend registries in globals, so a second copy re-registers every kernel,
 * "kernel … already registered") and goldstone's contract and tensor helpers (`instanceof
 * UsageError`, core's second-order gradient fixes). A plugin lists them as peer dependencies; when
 * its folder has copies of its own anyway (it was `npm install`ed for its build and tests), the
 * host's copies are the ones its imports get.
 */
export const HOST_PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  '@goldstone/plugin-api',
  '@goldstone/core',
  '@goldstone/curvature',
  '@goldstone/trainer',
] as const;

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`), or undefined for paths and URLs. */
export function packageNameOf(specifier: string): string | undefined {
  if (/^[./]|^[a-z][a-z0-9+.-]*:/i.test(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? (parts.length >= 2 ? `${parts[0]}/${parts[1]}` : undefined) : parts[0];
}

/** The real folder of package `name` as Node finds it from `from` (walking up node_modules folders). */
export function packageDirFrom(name: string, from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, 'node_modules', ...name.split('/'));
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** A host package: the folder resolution starts from (its anchor) and the real folder it finds. */
interface HostPackage {
  anchor: string;
  dir: string;
}

/** This package's folder (source or dist): the runner's own imports are the host's. */
const runnerDir = dirname(fileURLToPath(import.meta.url));

let hostPackagesCache: Map<string, HostPackage> | undefined;

/**
 * Where the host's copy of each shared package is: goldstone packages as the runner resolves them,
 * tfjs packages as the host's `@goldstone/core` resolves them (core imports the engine and loads
 * the backends). Packages the host cannot find are left to the plugin.
 */
export function hostPackages(): Map<string, HostPackage> {
  if (hostPackagesCache) return hostPackagesCache;
  const coreDir = packageDirFrom('@goldstone/core', runnerDir);
  const out = new Map<string, HostPackage>();
  for (const name of HOST_PACKAGES) {
    const anchors = name.startsWith('@tensorflow/') ? [coreDir, runnerDir] : [runnerDir, coreDir];
    for (const anchor of anchors) {
      const dir = anchor && packageDirFrom(name, anchor);
      if (anchor && dir) {
        out.set(name, { anchor, dir });
        break;
      }
    }
  }
  return (hostPackagesCache = out);
}

/**
 * The shared packages a module at `file` would load a copy of its own of: those it finds (walking
 * up from its folder) in another folder than the host's. Empty for a plugin installed beside the
 * host, or one whose folder has no copies of its own.
 */
export function ownCopies(file: string): { name: string; copy: string; host: string }[] {
  const out: { name: string; copy: string; host: string }[] = [];
  for (const [name, host] of hostPackages()) {
    const copy = packageDirFrom(name, dirname(file));
    if (copy && copy !== host.dir) out.push({ name, copy, host: host.dir });
  }
  return out;
}

/**
 * The resolve hook, run by Node on its module-loader thread (`module.register`, Node ≥ 20.6): an
 * import of a shared package is resolved as if written in the host's anchor folder; a subpath
 * the host's copy lacks falls back to the importer's own copy. Plain JavaScript in a data: URL,
 * so that it works from the built package and from source alike.
 */
const RESOLVE_HOOK = `
let anchors = {};
export async function initialize(data) { anchors = data.anchors; }
function packageNameOf(s) {
  if (/^[./]|^[a-z][a-z0-9+.-]*:/i.test(s)) return undefined;
  const p = s.split('/');
  return s.startsWith('@') ? (p.length >= 2 ? p[0] + '/' + p[1] : undefined) : p[0];
}
export async function resolve(specifier, context, nextResolve) {
  const anchor = anchors[packageNameOf(specifier)];
  if (anchor && context.parentURL !== anchor) {
    try { return await nextResolve(specifier, { ...context, parentURL: anchor }); } catch {}
  }
  return nextResolve(specifier, context);
}
`;

interface CjsLoader {
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: { paths?: string[] }): string;
  _nodeModulePaths(dir: string): string[];
}

let installed = false;

/**
 * From now on, resolve every import of a shared package (HOST_PACKAGES) to the host's copy,
 * whoever imports it: ESM `import` through a `module.register` resolve hook, CommonJS `require`
 * (CJS plugins, and CJS files such as tfjs's own bundles, which Node 20 resolves without the ESM
 * hooks) through `Module._resolveFilename`. The host's own imports resolve as before (their
 * anchor is where they already resolve from). Idempotent; returns whether it was installed now.
 */
export function useHostCopies(): boolean {
  if (installed) return false;
  installed = true;
  const packages = hostPackages();
  const anchorFile = (dir: string) => join(dir, 'package.json');
  const anchors: Record<string, string> = {};
  for (const [name, { anchor }] of packages) anchors[name] = pathToFileURL(anchorFile(anchor)).href;
  register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`, { data: { anchors } });

  const loader = Module as unknown as CjsLoader;
  const original = loader._resolveFilename;
  const parents = new Map<string, unknown>();
  const parentAt = (dir: string) => {
    let p = parents.get(dir);
    if (!p) {
      const filename = anchorFile(dir);
      p = { id: filename, filename, path: dir, paths: loader._nodeModulePaths(dir) };
      parents.set(dir, p);
    }
    return p;
  };
  loader._resolveFilename = function (this: unknown, request, parent, isMain, options) {
    const host = packages.get(packageNameOf(request) ?? '');
    if (host && !options?.paths) {
      try {
        return original.call(this, request, parentAt(host.anchor), isMain, options);
      } catch {
        // a subpath the host's copy lacks: the importer's own
      }
    }
    return original.call(this, request, parent, isMain, options);
  };
  return true;
}

/**
 * Before importing the plugin module at `file`: when it would load copies of its own of the
 * engine or the contract, resolve those to the host's (`useHostCopies`). A plugin without copies
 * of its own changes nothing (no hook, no cost). Returns the copies found.
 */
export function shareHostModules(file: string): { name: string; copy: string; host: string }[] {
  const copies = ownCopies(file);
  if (copies.length > 0) useHostCopies();
  return copies;
}
