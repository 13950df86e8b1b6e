import { promises as fsp } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pathExists, writeFileAtomic } from './atomic-write';
import { loadCheckpoint, saveCheckpoint, type LoadedCheckpoint } from './checkpoint';
import { otherProcessAlive, ANALYSES_DIR as ANALYSES, CHECKPOINTS_DIR as CHECKPOINTS, MARKER_FILE, MARKER_FORMAT, METRICS_FILE, readMarker, RUN_DIR_FORMAT_VERSION, RUN_ENTRIES, RUN_FILE, temporaryOf, type RunMarker } from './format';
import { isObject, messageOf, UsageError, type OptimizerStateEntry, type Params, type ParamSpec, type AnalysisResult, type Json } from '@goldstone/plugin-api';

/** `checkpoints/last.json` names the tag of the last good checkpoint. */
const LAST_POINTER = 'last.json';
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkName(kind: string, name: string): void {
  if (!SAFE_NAME.test(name) || name.endsWith('.json')) {
    throw new Error(`${kind} "${name}": use letters, digits, ".", "_" and "-" only (and no ".json" ending)`);
  }
}


function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? messageOf(err);
}

/** The text of run.json as an object, or a UsageError naming the file and what is wrong with it. */
function parseRunFile(file: string, text: string): Record<string, Json> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON (${messageOf(err)})`, { file });
  }
  if (!isObject(value)) {
    const found = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new UsageError(`${file}: not a JSON object (it holds ${found})`, { file });
  }
  return value as Record<string, Json>;
}

/**
 * A run directory on disk:
 *
 * ```
 * .goldstone-run     the marker: written first, names the directory as goldstone's (see RunMarker)
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
  /** Set when opened to resume: the first metrics append first cuts off a line torn by a crash. */
  private repairPending = false;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Open a run directory. Without `resume` the directory must not already hold a run: it is created
   * (with its parents) with the marker `.goldstone-run` first, then an initial run.json; should that
   * fail (a read-only disk, no permission), what was created is removed again and the error (with
   * its errno `code`) is thrown. With `resume` it must hold a run whose run.json is a JSON object
   * (else a UsageError naming the file), and opening it writes nothing: a metrics line torn by a
   * crash is cut off by the first append, so that appends continue on a clean line.
   */
  static async create(dir: string, options: { resume?: boolean } = {}): Promise<RunStore> {
    const store = new RunStore(resolve(dir));
    const runFile = store.path(RUN_FILE);
    if (options.resume) {
      if (!(await pathExists(runFile))) throw new UsageError(`${runFile}: not found: not a goldstone run directory`, { file: runFile });
      await store.readRun();
      store.repairPending = true;
      return store;
    }
    if (await pathExists(runFile)) {
      throw new UsageError(`${store.dir}: already holds a run (run.json); resume it or choose another directory`, { file: runFile });
    }
    const made: string[] = [];
    try {
      const first = await fsp.mkdir(store.dir, { recursive: true });
      if (first) made.push(first);
      const now = new Date().toISOString();
      const marker: RunMarker = { format: MARKER_FORMAT, formatVersion: RUN_DIR_FORMAT_VERSION, createdAt: now };
      await writeFileAtomic(store.path(MARKER_FILE), `${JSON.stringify(marker, null, 2)}\n`);
      if (!first) made.push(store.path(MARKER_FILE));
      await store.writeJson(RUN_FILE, { status: 'created', createdAt: now, updatedAt: now });
      if (!first) made.push(runFile);
      for (const sub of [CHECKPOINTS, ANALYSES]) {
        await fsp.mkdir(store.path(sub), { recursive: true });
        if (!first) made.push(store.path(sub));
      }
    } catch (err) {
      // leave nothing behind: only what this call created goes
      for (const p of made.reverse()) await fsp.rm(p, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
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

  /**
   * Write text atomically. A top-level name that is not one of goldstone's own (a file an analysis
   * writes of its own) is first recorded in the marker, so that replacing the run removes it too.
   */
  async writeText(rel: string, text: string): Promise<void> {
    const file = this.path(rel);
    const top = relative(this.dir, file).split(/[\\/]/)[0];
    return this.serial(async () => {
      if (!RUN_ENTRIES.includes(top)) await this.recordEntry(top);
      await writeFileAtomic(file, text);
    });
  }

  /** Add a top-level name to the marker's `entries` (a directory without a marker gets none). */
  private async recordEntry(name: string): Promise<void> {
    const marker = readMarker(this.dir);
    if (!marker || marker.entries?.includes(name)) return;
    const next: RunMarker = { ...marker, entries: [...(marker.entries ?? []), name] };
    await writeFileAtomic(this.path(MARKER_FILE), `${JSON.stringify(next, null, 2)}\n`);
  }

  /**
   * Remove what writes cut short by a crash left behind: temporary files and directories of atomic
   * writes (`.<name>.tmp-<pid>-…`) in the run directory, `checkpoints/` and `analyses/`, unless the
   * process that wrote them is still running; and a checkpoint moved aside (`.<tag>.old-…`) once the
   * new one is in place, or moved back when the save died before the new one was. Call it before the
   * first write of a resumed run. Returns the paths removed or restored, relative to the directory.
   */
  async cleanupTemporaries(): Promise<string[]> {
    return this.serial(async () => {
      const done: string[] = [];
      for (const sub of ['', CHECKPOINTS, ANALYSES]) {
        const dir = sub ? this.path(sub) : this.dir;
        const entries = await fsp.readdir(dir).catch(() => [] as string[]);
        const olds: { entry: string; name: string }[] = [];
        for (const entry of entries.sort()) {
          const t = temporaryOf(entry);
          if (!t || otherProcessAlive(t.pid)) continue;
          if (t.kind === 'old') {
            olds.push({ entry, name: t.name });
            continue;
          }
          await fsp.rm(join(dir, entry), { recursive: true, force: true });
          done.push(sub ? `${sub}/${entry}` : entry);
        }
        // newest first: the last version moved aside is the one a dying save left
        for (const { entry, name } of olds.reverse()) {
          const rel = sub ? `${sub}/${entry}` : entry;
          if (!(await pathExists(join(dir, name)))) {
            await fsp.rename(join(dir, entry), join(dir, name));
            done.push(`${rel} (restored as ${name})`);
          } else {
            await fsp.rm(join(dir, entry), { recursive: true, force: true });
            done.push(rel);
          }
        }
      }
      return done;
    });
  }

  /**
   * Keep the rows of metrics.jsonl up to the first one `keep` rejects, and drop that one and every
   * later one (and a line torn by a crash), rewriting the file atomically. Kept lines stay byte for
   * byte. Returns how many rows were dropped. A resumed run calls it with "logged by the checkpoint
   * it continues from", so that no step or epoch appears twice.
   */
  async truncateMetrics(keep: (row: Record<string, Json>) => boolean): Promise<number> {
    const file = this.path(METRICS_FILE);
    return this.serial(async () => {
      let text: string;
      try {
        text = await fsp.readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw new Error(`${file}: cannot read (${errorCode(err)})`);
      }
      const lines = text.split('\n');
      let end = 0; // characters kept
      let dropped = 0;
      let cut = false;
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        if (i === lines.length - 1) break; // '' after the final newline, or a line torn by a crash
        let row: unknown;
        try {
          row = line.trim() === '' ? undefined : JSON.parse(line);
        } catch {
          row = undefined; // a damaged line is not ours to judge: it stays unless it follows the cut
        }
        if (!cut && isObject(row) && !keep(row as Record<string, Json>)) cut = true;
        if (cut) {
          if (isObject(row)) dropped += 1;
          continue;
        }
        end += line.length + 1;
      }
      this.repairPending = false;
      if (end !== text.length) await writeFileAtomic(file, text.slice(0, end));
      return dropped;
    });
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
    return this.serial(async () => {
      if (this.repairPending) {
        await this.repairMetrics();
        this.repairPending = false;
      }
      await fsp.appendFile(file, line, 'utf8');
    });
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

  /** The contents of run.json; a UsageError naming the file when it is not valid JSON or not an object. */
  async readRun(): Promise<Record<string, Json>> {
    const file = this.path(RUN_FILE);
    const text = await this.readRunText();
    if (text === undefined) throw new Error(`${file}: cannot read (ENOENT)`);
    return parseRunFile(file, text);
  }

  /** run.json's text, or undefined when there is no such file. */
  private async readRunText(): Promise<string | undefined> {
    const file = this.path(RUN_FILE);
    try {
      return await fsp.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`${file}: cannot read (${errorCode(err)})`);
    }
  }

  /**
   * Merge `patch` into run.json (top-level keys), refresh `updatedAt`, write atomically. A run.json
   * that is not valid JSON or not an object is never overwritten: that is a UsageError naming it.
   */
  async updateRun(patch: Record<string, Json | undefined>): Promise<Record<string, Json>> {
    const file = this.path(RUN_FILE);
    return this.serial(async () => {
      // a run.json removed under an open store holds nothing to keep; a damaged one is refused
      const text = await this.readRunText();
      let current: Record<string, Json> = {};
      try {
        if (text !== undefined) current = parseRunFile(file, text);
      } catch (err) {
        throw new UsageError(`${messageOf(err)}: not rewriting it (repair it, or start the run again elsewhere)`, { file });
      }
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

  /**
   * The tag `last` points at, if any checkpoint was saved (without a pointer file, a checkpoint
   * tagged `last` itself). A pointer file that cannot be read is an error naming it, never skipped.
   */
  async lastCheckpointTag(): Promise<string | undefined> {
    const file = this.path(CHECKPOINTS, LAST_POINTER);
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file}: cannot read (${errorCode(err)})`);
      return (await pathExists(this.path(CHECKPOINTS, 'last'))) ? 'last' : undefined;
    }
    let pointer: unknown;
    try {
      pointer = JSON.parse(text);
    } catch (err) {
      throw new Error(`${file}: not valid JSON (${messageOf(err)})`);
    }
    const tag = isObject(pointer) ? pointer.tag : undefined;
    if (typeof tag !== 'string' || !SAFE_NAME.test(tag) || tag.endsWith('.json')) {
      throw new Error(`${file}: expected {"tag": "<checkpoint directory name>"}, found ${text.trim().slice(0, 80)}`);
    }
    return tag;
  }

  /**
   * Tags of the checkpoints in the store in training order: `init` first, then by the step (else
   * the epoch) recorded in each checkpoint's metadata, else the first number in the tag
   * (`epoch-10` after `epoch-9`), with `last` at the end; ties by name.
   */
  async listCheckpoints(): Promise<string[]> {
    const entries = await fsp.readdir(this.path(CHECKPOINTS), { withFileTypes: true }).catch(() => []);
    const tags = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
    const position = async (tag: string): Promise<number> => {
      if (tag === 'init') return Number.NEGATIVE_INFINITY;
      if (tag === 'last') return Number.POSITIVE_INFINITY;
      try {
        const meta = (JSON.parse(await fsp.readFile(this.path(CHECKPOINTS, tag, 'model.json'), 'utf8')) as { meta?: { step?: unknown; epoch?: unknown } }).meta;
        const at = typeof meta?.step === 'number' ? meta.step : meta?.epoch;
        if (typeof at === 'number' && Number.isFinite(at)) return at;
      } catch {
        // no readable metadata: the tag's number says where it goes
      }
      const n = /(\d+)/.exec(tag);
      return n ? Number(n[1]) : Number.MAX_VALUE;
    };
    const placed = await Promise.all(tags.map(async (tag) => ({ tag, at: await position(tag) })));
    return placed.sort((a, b) => (a.at === b.at ? (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0) : a.at < b.at ? -1 : 1)).map((p) => p.tag);
  }

  /** Load `checkpoints/<tag>/`; `'last'` follows the pointer to the last good checkpoint. */
  async loadCheckpoint(tag = 'last'): Promise<LoadedCheckpoint> {
    checkName('checkpoint tag', tag);
    if (tag !== 'last') return loadCheckpoint(this.path(CHECKPOINTS, tag));
    const resolved = await this.lastCheckpointTag();
    if (resolved === undefined) throw new Error(`${this.path(CHECKPOINTS)}: no checkpoint saved yet`);
    const dir = this.path(CHECKPOINTS, resolved);
    try {
      return await loadCheckpoint(dir);
    } catch (err) {
      // a damaged checkpoint's own message names its file; a missing one is the pointer's fault
      const pointer = this.path(CHECKPOINTS, LAST_POINTER);
      if ((await pathExists(pointer)) && !(await pathExists(join(dir, 'model.json')))) {
        throw new Error(`${pointer} points to checkpoint "${resolved}": ${messageOf(err)}`);
      }
      throw err;
    }
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
