// Shared pieces of the reliability harness: running the built CLI with a hard time-out, snapshots of
// directories, waiting for a state on disk, and the classification of one command's outcome.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = join(ROOT, 'apps', 'cli', 'dist', 'bin.js');

/** Exit codes the CLI documents; anything else (or a signal) is a crash. */
export const DOCUMENTED_EXITS = new Set([0, 1, 2, 130]);

const OUTPUT_LIMIT = 1 << 20;

/** The process groups of commands still running, so that an interrupted harness can stop them all. */
const ACTIVE = new Set();

/** SIGKILL every command group still running. */
export function killAll() {
  for (const kill of ACTIVE) kill('SIGKILL');
}

/** The environment every command runs with: no colours, no debug stack traces. */
export function cliEnv(extra = {}) {
  const env = { ...process.env, NO_COLOR: '1', ...extra };
  delete env.GOLDSTONE_DEBUG;
  return env;
}

/**
 * Start `node BIN ...args` in its own process group (so a time-out or a kill reaches its workers too).
 * Returns the child, promises of its exit and of its result (once its output streams close, which
 * children holding them can delay) and `killGroup(signal)`. When the streams close, whatever is left
 * of the group is killed unless `reapGroup` is false.
 */
export function startCli(args, { cwd, timeoutMs = 120_000, env, reapGroup = true } = {}) {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: env ?? cliEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    if (stdout.length < OUTPUT_LIMIT) stdout += d;
  });
  child.stderr.on('data', (d) => {
    if (stderr.length < OUTPUT_LIMIT) stderr += d;
  });
  const killGroup = (signal = 'SIGKILL') => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  ACTIVE.add(killGroup);
  let timedOut = false;
  const timer = timeoutMs > 0
    ? setTimeout(() => {
        timedOut = true;
        killGroup('SIGKILL');
      }, timeoutMs)
    : undefined;
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const result = new Promise((resolvePromise) => {
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      ACTIVE.delete(killGroup);
      // Workers a command left behind (it exited, they did not) are not ours to keep.
      if (reapGroup) killGroup('SIGKILL');
      resolvePromise({ code, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
  return { child, result, exited, killGroup };
}

/** Run the CLI to the end (or to the time-out). */
export function runCli(args, opts) {
  return startCli(args, opts).result;
}

/** Every file and directory under `dir` by relative path: a file maps to the SHA-256 of its bytes, a directory to `dir`. */
export function snapshot(dir) {
  const out = {};
  const walk = (rel) => {
    let entries;
    try {
      entries = readdirSync(join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      const full = join(dir, path);
      if (e.isDirectory()) {
        out[path] = 'dir';
        walk(path);
      } else if (e.isSymbolicLink()) {
        out[path] = `link`;
      } else {
        try {
          out[path] = createHash('sha256').update(readFileSync(full)).digest('hex');
        } catch (err) {
          out[path] = `unreadable:${err.code}`;
        }
      }
    }
  };
  if (existsSync(dir) && lstatSync(dir).isDirectory()) walk('');
  return out;
}

/** What changed between two snapshots: files removed or changed, and paths created. */
export function diffSnapshots(before, after) {
  const removed = [];
  const changed = [];
  const created = [];
  for (const [path, hash] of Object.entries(before)) {
    if (!(path in after)) removed.push(path);
    else if (after[path] !== hash) changed.push(path);
  }
  for (const path of Object.keys(after)) if (!(path in before)) created.push(path);
  return { removed, changed, created };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `probe` (every `everyMs`) until it returns a truthy value, and return that value; throws when
 * `timeoutMs` passes first, or when `stop()` says the thing waited on is gone (e.g. the process exited).
 */
export async function waitFor(probe, { timeoutMs = 300_000, everyMs = 20, what = 'a state', stop } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value;
    try {
      value = probe();
    } catch {
      value = undefined;
    }
    if (value) return value;
    const why = stop?.();
    if (why) throw new Error(`gave up waiting for ${what}: ${why}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

export function tryReadJson(path) {
  try {
    return readJson(path);
  } catch {
    return undefined;
  }
}

export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Short commit hash and whether the tree has uncommitted changes. */
export function commitInfo() {
  const git = (...a) => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' });
  const head = git('rev-parse', '--short=10', 'HEAD');
  // The harness's own outputs do not count as changes to what was measured.
  const status = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!README.md', ':!tooling/scripts/reliability/results.json');
  return {
    commit: head.status === 0 ? head.stdout.trim() : 'unknown',
    dirty: status.status === 0 ? status.stdout.trim() !== '' : false,
    subject: git('log', '-1', '--format=%s').stdout?.trim() ?? '',
  };
}

const STACK_LINE = /^\s+at .+(\(.*:\d+:\d+\)|:\d+:\d+)$/m;
const V8_FATAL = /FATAL ERROR:|Fatal JavaScript|Fatal process out of memory|JavaScript heap out of memory|Segmentation fault|Aborted \(core dumped\)|\bnode::Abort\b/;

/**
 * The verdict on one command against its case: the outcome (`clear`: exit 2 with a clear message,
 * `ok`: an accepted exit other than 2, `unclear`: exit 2 without one, `other-exit`, `hang`,
 * `crash`) and the message checks behind it.
 */
export function classify(run, { expectExit = [2], mentions = [] } = {}) {
  const errorLines = run.stderr.split('\n').filter((l) => l.startsWith('error:'));
  const stackTrace = STACK_LINE.test(run.stderr);
  const fatal = V8_FATAL.test(run.stderr);
  const named = mentions.length === 0 ? errorLines.length > 0 : errorLines.some((l) => mentions.some((m) => l.includes(m)));
  const clearMessage = errorLines.length > 0 && !stackTrace && named;
  let outcome;
  if (run.timedOut) outcome = 'hang';
  else if (run.signal || fatal || !DOCUMENTED_EXITS.has(run.code)) outcome = 'crash';
  else if (run.code === 2 && expectExit.includes(2)) outcome = clearMessage ? 'clear' : 'unclear';
  else if (expectExit.includes(run.code)) outcome = 'ok';
  else outcome = 'other-exit';
  const fatalLine = fatal ? run.stderr.split('\n').find((l) => V8_FATAL.test(l)) : undefined;
  return { outcome, clearMessage, stackTrace, fatal, errorLine: (errorLines[0] ?? fatalLine)?.slice(0, 300) ?? null };
}

/** The last lines of a stream, for the results file. */
export function tail(text, lines = 6, chars = 1200) {
  const t = text.trimEnd().split('\n').slice(-lines).join('\n');
  return t.length > chars ? `…${t.slice(-chars)}` : t;
}
