import { accessSync, constants, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isObject, UsageError } from '@goldstone/plugin-api';
import { RunStore } from '@goldstone/run-store';
import { MARKER_FILE, readMarker, RUN_ENTRIES, RUN_FILE, temporaryOf } from '@goldstone/run-store/format';

const PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a file is in the way',
  EEXIST: 'a file is in the way',
  EISDIR: 'a directory is in the way',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'too many symbolic links on the way',
};

function errnoOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The first path on the way to `path` (itself included) that exists and is not a directory. */
function fileInTheWay(path: string): string | undefined {
  const chain: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    chain.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of chain) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      return undefined; // missing (or unreadable): nothing in the way from here on
    }
    if (!isDir) return p;
  }
  return undefined;
}

/**
 * A file-system failure on `--out` as a UsageError: a sentence naming the path and the problem
 * (`--out runs/x: a file is in the way: runs/x is a regular file`). Errors without an errno code are
 * returned unchanged.
 */
export function outDirError(out: string, err: unknown, doing = 'cannot write the run directory'): unknown {
  const code = errnoOf(err);
  if (!code || err instanceof UsageError) return err;
  const file = code === 'ENOTDIR' || code === 'EEXIST' ? fileInTheWay(out) : undefined;
  const where = (err as NodeJS.ErrnoException).path;
  const detail = file ? `${file} is a regular file, not a directory` : `${doing}${where && !doing.includes(where) ? ` (${where})` : ''}`;
  return new UsageError(`--out ${out}: ${PROBLEMS[code] ?? 'cannot be used'}: ${detail} [${code}]`, { field: 'out' });
}

/** `--out` as given: an empty or blank path would write into the working directory, so it is refused. */
export function checkOutFlag(out: string | undefined): void {
  if (out !== undefined && out.trim() === '') {
    throw new UsageError(`--out: expected a directory path, got ${out === '' ? 'an empty string' : JSON.stringify(out)}`, { field: 'out' });
  }
}

/** That the directory `dir` (existing) can be written into, or a UsageError naming it. */
function checkWritable(out: string, dir: string): void {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw outDirError(out, err, `cannot write in ${dir}`);
  }
}

/** Whether an entry of a run directory is one goldstone wrote (its own names, names its marker lists, temporaries of those). */
function ownedEntry(entry: string, extra: readonly string[]): boolean {
  const owned = (name: string) => RUN_ENTRIES.includes(name) || extra.includes(name);
  if (owned(entry)) return true;
  const t = temporaryOf(entry);
  return t !== undefined && owned(t.name);
}

/** A run.json of a run made before run directories carried a marker: a JSON object with a status and a config. */
function looksLikeRun(dir: string): boolean {
  try {
    const run: unknown = JSON.parse(readFileSync(join(dir, RUN_FILE), 'utf8'));
    return isObject(run) && typeof run.status === 'string' && isObject(run.config);
  } catch {
    return false;
  }
}

const listed = (names: string[]) => `${names.slice(0, 5).join(', ')}${names.length > 5 ? ` (and ${names.length - 5} more)` : ''}`;

/**
 * Check that a directory can be made or written at `out` (`--out` of a run or a sweep), before
 * anything is: a non-blank path, no file in its way, and it (or its nearest existing parent)
 * writable. True when `out` exists as a directory, false when it would be created. Every problem
 * is a UsageError naming the path.
 */
export function checkOutTarget(out: string): boolean {
  checkOutFlag(out);
  let stats;
  try {
    stats = statSync(out);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT' && errnoOf(err) !== 'ENOTDIR') throw outDirError(out, err, 'cannot read it');
    const file = fileInTheWay(out);
    if (file) throw new UsageError(`--out ${out}: a file is in the way: ${file} is a regular file, not a directory`, { field: 'out' });
    let parent = resolve(out);
    while (!existsSync(parent)) parent = dirname(parent);
    checkWritable(out, parent);
    return false;
  }
  if (!stats.isDirectory()) throw new UsageError(`--out ${out}: a file is in the way: ${out} is a regular file, not a directory`, { field: 'out' });
  checkWritable(out, out);
  return true;
}

/**
 * Make sure a new run can be written to `out`, before anything is: `out` is a non-blank path, no file
 * is in its way, and it (or the nearest existing parent) is writable; an existing non-empty directory
 * is refused unless it holds a run and `force` is set. `--force` replaces only a run directory
 * goldstone created (its `.goldstone-run` marker, or, for runs made before markers, a run.json
 * describing a run beside nothing but goldstone's own file names) and only if it holds nothing
 * else; it then removes goldstone's own entries one by one (the marker last), never the directory
 * itself, so a file of the user's can never be lost. Every problem is a UsageError naming the path.
 */
export function prepareOutDir(out: string, force: boolean | undefined): void {
  if (!checkOutTarget(out)) return;
  const entries = readdirSync(out).sort();
  if (entries.length === 0) return;
  const marker = readMarker(out);
  if (!marker && !entries.includes(RUN_FILE)) {
    throw new UsageError(`--out ${out}: the directory exists and is not a goldstone run directory (it holds ${listed(entries)}); choose another --out`, { field: 'out' });
  }
  if (!force) {
    throw new UsageError(`--out ${out}: already holds a run; pass --force to replace it, or choose another --out`, { field: 'out' });
  }
  const foreign = entries.filter((e) => !ownedEntry(e, marker?.entries ?? []));
  if (foreign.length > 0) {
    throw new UsageError(
      `--out ${out}: --force replaces only goldstone's own files, and the directory also holds ${listed(foreign)}; move ${foreign.length > 1 ? 'them' : 'it'} away or choose another --out`,
      { field: 'out' },
    );
  }
  if (!marker && !looksLikeRun(out)) {
    throw new UsageError(
      `--out ${out}: --force replaces only a run directory goldstone created, and this one has no ${MARKER_FILE} marker and its run.json does not describe a run; remove it yourself or choose another --out`,
      { field: 'out' },
    );
  }
  checkWritable(out, out);
  try {
    for (const e of entries.filter((name) => name !== MARKER_FILE)) rmSync(join(out, e), { recursive: true, force: true });
    rmSync(join(out, MARKER_FILE), { force: true });
  } catch (err) {
    throw outDirError(out, err, 'cannot remove the old run');
  }
}

/**
 * A new run directory at `out`, checked by `prepareOutDir` (replacing an old run with `force`) and
 * created with its marker; a file-system failure is a UsageError naming `--out` and the problem.
 * Call it after every other check has passed: it is the first write.
 */
export async function createRunDirectory(out: string, force: boolean | undefined): Promise<RunStore> {
  prepareOutDir(out, force);
  try {
    return await RunStore.create(out);
  } catch (err) {
    throw outDirError(out, err);
  }
}

/** The run in `out` to resume, opened without writing: a missing directory or one without run.json is a UsageError. */
export async function openRunToResume(out: string): Promise<RunStore> {
  checkOutFlag(out);
  if (!existsSync(out)) throw new UsageError(`--resume: nothing to resume in ${out}: the directory does not exist`, { field: 'out' });
  if (!existsSync(join(out, RUN_FILE))) throw new UsageError(`--resume: nothing to resume in ${out}: it holds no ${RUN_FILE}`, { field: 'out' });
  try {
    return await RunStore.create(out, { resume: true });
  } catch (err) {
    throw outDirError(out, err, 'cannot read the run');
  }
}

/**
 * On Ctrl-C or SIGTERM, record the run as interrupted (its last good checkpoint stays) and exit 130.
 * Returns a function that removes the handlers.
 */
export function markInterruptedOnSignal(store: RunStore): () => void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: marking ${store.dir} as interrupted\n`);
    store
      .updateRun({ status: 'interrupted', error: `interrupted by ${signal}`, finishedAt: new Date().toISOString() })
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
