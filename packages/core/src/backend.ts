import * as tf from '@tensorflow/tfjs-core';
import { messageOf } from '@goldstone/plugin-api';
// tfjs-core registers no gradients on its own; every backend needs them.
import './gradients';
import { installWasmKernels, activeWasmKernels } from './wasm-kernels';

/** What a user may ask for: `auto` picks the fastest backend that loads. */
export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;

/** The backends `initBackend` can activate. */
export type BackendName = Exclude<BackendChoice, 'auto'>;

export interface InitBackendOptions {
  /** Receives one line per notable event (a broken optional backend skipped). Default: silent. */
  log?: (line: string) => void;
  /**
   * How optional backend packages are loaded (default: dynamic `import()`). For tests and for
   * hosts that bundle the backends themselves.
   */
  importer?: (specifier: string) => Promise<unknown>;
}

/** Provenance of the active backend, for run.json. */
export interface BackendInfo {
  /** Active backend (`tensorflow`, `wasm`, `cpu`), or `none` before `initBackend`. */
  name: string;
  /** What was asked for in the last `initBackend` call, if any. */
  choice: BackendChoice | null;
  /** Kernel fixes active on the current backend. */
  fixes: string[];
  /** Backends the last `auto` call tried and skipped, with the reason (one line each). */
  skipped: string[];
  /** tfjs-core version. */
  tfjs: string;
}

const PACKAGES: Record<BackendName, string> = {
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

const INSTALL_HINT: Record<BackendName, string> = {
  tensorflow:
    'install it where its native binary can be downloaded (`pnpm add @tensorflow/tfjs-node@4.22.0`, or `npm rebuild @tensorflow/tfjs-node` on a machine with internet access), or choose --backend wasm',
  wasm: 'install it (`pnpm add @tensorflow/tfjs-backend-wasm@4.22.0`), or choose --backend cpu',
  cpu: 'install it (`pnpm add @tensorflow/tfjs-backend-cpu@4.22.0`)',
};

/** Why a backend could not be used. */
export class BackendUnavailableError extends Error {
  readonly backend: BackendName;
  /** `missing`: package not installed; `broken`: installed but failed to load or initialise. */
  readonly reason: 'missing' | 'broken';
  /** The underlying failure, one line. */
  readonly detail: string;
  constructor(backend: BackendName, reason: 'missing' | 'broken', detail: string) {
    const what =
      reason === 'missing'
        ? `${PACKAGES[backend]} is not installed`
        : `${PACKAGES[backend]} is installed but cannot be used (${detail})`;
    super(`Backend "${backend}" is unavailable: ${what}. To use it, ${INSTALL_HINT[backend]}.`);
    this.name = 'BackendUnavailableError';
    this.backend = backend;
    this.reason = reason;
    this.detail = detail;
  }
}

export function isBackendChoice(value: unknown): value is BackendChoice {
  return typeof value === 'string' && (BACKEND_CHOICES as readonly string[]).includes(value);
}

const defaultImporter = (specifier: string): Promise<unknown> => import(specifier);

/** First line of an error's message, shortened, for one-line logs. */
function firstLine(err: unknown): string {
  const msg = messageOf(err);
  const line = (msg.split('\n')[0] ?? '').trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/**
 * True when `err` says the package itself (not one of its dependencies or files) is absent. Under
 * vite (vitest), an optional peer that is not installed is a stub throwing `Could not resolve "pkg"`.
 */
function isMissingPackage(err: unknown, pkg: string): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e || (e.code !== 'ERR_MODULE_NOT_FOUND' && e.code !== 'MODULE_NOT_FOUND' && !/Cannot find (package|module)|Could not resolve/.test(e.message ?? ''))) {
    return false;
  }
  const msg = e.message ?? '';
  return msg.includes(`'${pkg}'`) || msg.includes(`"${pkg}"`) || msg.includes(`${pkg} `) || msg.endsWith(pkg);
}

// State shared by every call in this process. Loads are memoised so repeated calls are cheap and
// a broken optional backend is reported once.
const loads = new Map<string, Promise<void>>();
let lastChoice: BackendChoice | null = null;
/** Skip lines already logged (memoised default loads are reported once per process). */
const reported = new Set<string>();
/** What the most recent `initBackend` call skipped. */
let skipped: string[] = [];
let queue: Promise<unknown> = Promise.resolve();

function load(backend: BackendName, importer: (s: string) => Promise<unknown>): Promise<void> {
  const key = backend;
  const useCache = importer === defaultImporter;
  const cached = useCache ? loads.get(key) : undefined;
  if (cached) return cached;
  const p = (async () => {
    try {
      await importer(PACKAGES[backend]);
    } catch (err) {
      throw new BackendUnavailableError(backend, isMissingPackage(err, PACKAGES[backend]) ? 'missing' : 'broken', firstLine(err));
    }
    if (!tf.findBackendFactory(backend)) {
      throw new BackendUnavailableError(backend, 'broken', `importing it registered no "${backend}" backend`);
    }
  })();
  if (useCache) loads.set(key, p);
  return p;
}

/**
 * tfjs's cpu backend prints a banner on its first tensor under Node ("install our node backend …",
 * console.warn: several lines on every process's stderr, cut off by progress bars). goldstone says
 * how to get the native backend in its own words (README, `--backend`), so the banner is marked as
 * shown before the backend's first use. Only this flag changes: other tfjs warnings still print.
 */
function silenceNodeBanner(backend: BackendName): void {
  if (backend !== 'cpu') return;
  const instance = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (instance && typeof instance.firstUse === 'boolean') instance.firstUse = false;
}

async function activate(backend: BackendName, importer: (s: string) => Promise<unknown>): Promise<void> {
  await load(backend, importer);
  if (backend === 'wasm') installWasmKernels();
  if (tf.getBackend() === backend && tf.findBackend(backend)) return silenceNodeBanner(backend);
  let ok: boolean;
  try {
    ok = await tf.setBackend(backend);
  } catch (err) {
    throw new BackendUnavailableError(backend, 'broken', `initialisation failed: ${firstLine(err)}`);
  }
  if (!ok) throw new BackendUnavailableError(backend, 'broken', 'initialisation failed');
  silenceNodeBanner(backend);
  await tf.ready();
}

async function init(choice: BackendChoice, opts: InitBackendOptions): Promise<string> {
  if (!isBackendChoice(choice)) {
    throw new Error(`Unknown backend "${String(choice)}": expected one of ${BACKEND_CHOICES.join(', ')}`);
  }
  const importer = opts.importer ?? defaultImporter;
  const log = opts.log ?? (() => {});
  lastChoice = choice;
  skipped = [];
  if (choice !== 'auto') {
    await activate(choice, importer);
    return tf.getBackend();
  }
  for (const backend of ['tensorflow', 'wasm'] as const) {
    try {
      await activate(backend, importer);
      return tf.getBackend();
    } catch (err) {
      if (!(err instanceof BackendUnavailableError)) throw err;
      // An optional backend that is simply not installed is skipped silently; one that is
      // present but broken is worth one line.
      if (err.reason === 'broken') {
        const line = `backend: skipping ${backend}: ${PACKAGES[backend]} is installed but cannot be used (${err.detail})`;
        skipped.push(line);
        // Loads through the default importer are memoised, so report them once per process.
        if (opts.importer || !reported.has(line)) log(line);
        if (!opts.importer) reported.add(line);
      }
    }
  }
  await activate('cpu', importer);
  return tf.getBackend();
}

/**
 * Select and initialise a tfjs backend; resolves to the active backend's name.
 *
 * `auto` tries `@tensorflow/tfjs-node` (native TensorFlow), then wasm, then cpu. An optional backend
 * that is installed but broken (tfjs-node without its native binary) is skipped with one line to
 * `opts.log`. An explicit choice that cannot be honoured throws a `BackendUnavailableError` saying
 * why and what to install. Optional backends are loaded with dynamic `import()` only when tried.
 * On wasm, the kernel fixes of `installWasmKernels` are registered (once).
 *
 * Idempotent: calls are serialised, loads are memoised, and calling again with the active backend
 * does nothing.
 */
export function initBackend(choice: BackendChoice = 'auto', opts: InitBackendOptions = {}): Promise<string> {
  const run = queue.then(
    () => init(choice, opts),
    () => init(choice, opts),
  );
  queue = run.catch(() => undefined);
  return run;
}

/** The active backend and what was done to it, for run provenance. */
export function backendInfo(): BackendInfo {
  const name = tf.getBackend() ?? 'none';
  return {
    name,
    choice: lastChoice,
    fixes: name === 'wasm' ? [...activeWasmKernels()] : [],
    skipped: [...skipped],
    tfjs: tf.version_core,
  };
}
