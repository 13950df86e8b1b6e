import { promises as fsp } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pathExists, writeFileAtomic } from './atomic-write';
import { loadCheckpoint, saveCheckpoint, type LoadedCheckpoint } from './checkpoint';
import { ANALYSES_DIR as ANALYSES, CHECKPOINTS_DIR as CHECKPOINTS, METRICS_FILE, RUN_FILE } from './format';
import { UsageError, type OptimizerStateEntry, type Params, type ParamSpec, type AnalysisResult, type Json } from '@goldstone/plugin-api';

/** `checkpoints/last.json` names the tag of the last good checkpoint. */
const LAST_POINTER = 'last.json';
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkName(kind: string, name: string): void {
  if (!SAFE_NAME.test(name) || name.endsWith('.json')) {
    throw new Error(`${kind} "${name}": use letters, digits, ".", "_" and "-" only (and no ".json" ending)`);
  }
}

/**
 * A run directory on disk:
 *
 * ```
 * run.json           config, seed, backend, versions, status, timestamps (merged by updateRun)
 * metrics.jsonl      one JSON line per logged step or epoch
 * checkpoints/<tag>/ tfjs weights manifest (model.json + weights.bin [+ optimizer.bin])
 * checkpoints/last.json  { tag } of the last good checkpoint
 * analyses/<a>.json  each analysis result with its provenance
 * ```
 *
 * Every write except the metrics append is atomic (temporary file or directory, then rename).
 * Writes from one store are serialised, so calls need not be awaited one by one to keep order.
 */
export class RunStore {
  /** The run directory (absolute). */
  readonly dir: string;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Open a run directory. Without `resume` the directory must not already hold a run (it is
   * created with an initial run.json); with `resume` it must hold one, and a metrics line torn by
   * a crash is cut off so that appends continue on a clean line.
   */
  static async create(dir: string, options: { resume?: boolean } = {}): Promise<RunStore> {
    const store = new RunStore(resolve(dir));
    const runFile = store.path(RUN_FILE);
    if (options.resume) {
      if (!(await pathExists(runFile))) throw new UsageError(`${runFile}: not found: not a goldstone run directory`, { file: runFile });
      await store.repairMetrics();
    } else {
      if (await pathExists(runFile)) {
        throw new UsageError(`${store.dir}: already holds a run (run.json); resume it or choose another directory`, { file: runFile });
      }
      await fsp.mkdir(store.dir, { recursive: true });
      const now = new Date().toISOString();
      await store.writeJson(RUN_FILE, { status: 'created', createdAt: now, updatedAt: now });
    }
    await fsp.mkdir(store.path(CHECKPOINTS), { recursive: true });
    await fsp.mkdir(store.path(ANALYSES), { recursive: true });
    return store;
  }

  /** A path inside the run directory. */
  path(...rel: string[]): string {
    const p = join(this.dir, ...rel);
    const r = relative(this.dir, p);
    if (r.startsWith('..') || isAbsolute(r)) throw new Error(`RunStore: "${rel.join('/')}" is outside the run directory ${this.dir}`);
    return p;
  }

  /** Run `fn` after every write queued before it (one writer at a time, in call order). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Write JSON (pretty, with a final newline) atomically. */
  async writeJson(rel: string, value: unknown): Promise<void> {
    const text = `${JSON.stringify(value, null, 2)}\n`;
    return this.writeText(rel, text);
  }

  /** Write text atomically. */
  async writeText(rel: string, text: string): Promise<void> {
    const file = this.path(rel);
    return this.serial(() => writeFileAtomic(file, text));
  }

  async readJson<T = Json>(rel: string): Promise<T> {
    const file = this.path(rel);
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      throw new Error(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new Error(`${file}: invalid JSON (${(err as Error).message})`);
    }
  }

  /** Append one row to metrics.jsonl (non-finite numbers become null). */
  async appendMetrics(row: object): Promise<void> {
    const line = `${JSON.stringify(row)}\n`;
    const file = this.path(METRICS_FILE);
    return this.serial(() => fsp.appendFile(file, line, 'utf8'));
  }

  /** Every row of metrics.jsonl. A torn last line (a crash mid-append) is ignored. */
  async readMetrics(): Promise<Record<string, Json>[]> {
    const file = this.path(METRICS_FILE);
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const lines = text.split('\n');
    const rows: Record<string, Json>[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line.trim() === '') continue;
      try {
        rows.push(JSON.parse(line));
      } catch {
        const isLast = i === lines.length - 1; // no newline after it: an append cut short
        if (isLast) break;
        throw new Error(`${file}:${i + 1}: invalid JSON line`);
      }
    }
    return rows;
  }

  /** Cut a torn last line off metrics.jsonl. */
  private async repairMetrics(): Promise<void> {
    const file = this.path(METRICS_FILE);
    let buf: Buffer;
    try {
      buf = await fsp.readFile(file);
    } catch {
      return;
    }
    if (buf.length === 0 || buf[buf.length - 1] === 0x0a) return;
    const cut = buf.lastIndexOf(0x0a) + 1;
    await fsp.truncate(file, cut);
  }

  /** The contents of run.json. */
  readRun(): Promise<Record<string, Json>> {
    return this.readJson<Record<string, Json>>(RUN_FILE);
  }

  /** Merge `patch` into run.json (top-level keys), refresh `updatedAt`, write atomically. */
  async updateRun(patch: Record<string, Json | undefined>): Promise<Record<string, Json>> {
    const file = this.path(RUN_FILE);
    return this.serial(async () => {
      const current = await this.readRun().catch(() => ({}) as Record<string, Json>);
      const next: Record<string, Json> = { ...current };
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) next[k] = v;
      next.updatedAt = new Date().toISOString();
      await writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`);
      return next;
    });
  }

  /**
   * Save a checkpoint as `checkpoints/<tag>/` (atomically) and, unless `markLast` is false, point
   * `last` at it. Callers save only good (finite) parameters; the trainer guarantees this.
   */
  async saveCheckpoint(
    tag: string,
    params: Params,
    specs: readonly ParamSpec[],
    meta: Json = {},
    options: { markLast?: boolean; optimizerState?: readonly OptimizerStateEntry[] } = {},
  ): Promise<void> {
    checkName('checkpoint tag', tag);
    const dir = this.path(CHECKPOINTS, tag);
    return this.serial(async () => {
      await saveCheckpoint(dir, params, specs, meta, { optimizerState: options.optimizerState });
      if (options.markLast !== false) {
        await writeFileAtomic(this.path(CHECKPOINTS, LAST_POINTER), `${JSON.stringify({ tag, savedAt: new Date().toISOString() })}\n`);
      }
    });
  }

  /** The tag `last` points at, if any checkpoint was saved. */
  async lastCheckpointTag(): Promise<string | undefined> {
    try {
      const pointer = await this.readJson<{ tag: string }>(join(CHECKPOINTS, LAST_POINTER));
      return pointer.tag;
    } catch {
      return (await pathExists(this.path(CHECKPOINTS, 'last'))) ? 'last' : undefined;
    }
  }

  /** Tags of the checkpoints in the store, sorted. */
  async listCheckpoints(): Promise<string[]> {
    const entries = await fsp.readdir(this.path(CHECKPOINTS), { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  }

  /** Load `checkpoints/<tag>/`; `'last'` follows the pointer to the last good checkpoint. */
  async loadCheckpoint(tag = 'last'): Promise<LoadedCheckpoint> {
    checkName('checkpoint tag', tag);
    let resolved = tag;
    if (tag === 'last') {
      const t = await this.lastCheckpointTag();
      if (t === undefined) throw new Error(`${this.path(CHECKPOINTS)}: no checkpoint saved yet`);
      resolved = t;
    }
    return loadCheckpoint(this.path(CHECKPOINTS, resolved));
  }

  /** Write an analysis result to `analyses/<name>.json` (atomically). */
  async writeAnalysis(name: string, result: AnalysisResult): Promise<void> {
    checkName('analysis name', name);
    return this.writeJson(join(ANALYSES, `${name}.json`), result);
  }

  /** Every stored analysis result, by name. */
  async readAnalyses(): Promise<Record<string, AnalysisResult>> {
    const entries = await fsp.readdir(this.path(ANALYSES)).catch(() => [] as string[]);
    const out: Record<string, AnalysisResult> = {};
    for (const e of entries.filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort()) {
      out[e.slice(0, -'.json'.length)] = await this.readJson<AnalysisResult>(join(ANALYSES, e));
    }
    return out;
  }
}
