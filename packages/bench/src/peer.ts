import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { torchMissing } from './torch';

/**
 * The part of every exported problem a PyTorch peer rebuilds an MLP from: the parameter layout
 * (`specs`, goldstone's order), the flat weights `w` in that order, the examples (row-major) and
 * goldstone's mean loss at `w` (the peer checks it computes the same function).
 */
export interface MlpPeerProblem {
  specs: Array<{ name: string; shape: number[] }>;
  x: number[];
  y: number[];
  w: number[];
  loss: number;
}

/** A model's parameter layout as the peers read it. */
export const specsOf = (specs: readonly { name: string; shape: readonly number[] }[]): MlpPeerProblem['specs'] => specs.map((s) => ({ name: s.name, shape: [...s.shape] }));

/** A committed script of this package (a PyTorch peer), by file name. */
export const peerScript = (name: string): string => fileURLToPath(new URL(`../${name}`, import.meta.url));

/** What a peer answered: its last stdout line parsed as JSON, or why there is none. */
export type PeerOutcome<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Parse a peer's stdout: its last line is one JSON object. */
export function lastJsonLine<T>(stdout: string, script: string): PeerOutcome<T> {
  try {
    return { ok: true, value: JSON.parse(stdout.trim().split('\n').pop() ?? '') as T };
  } catch {
    return { ok: false, reason: `${script} printed no JSON` };
  }
}

/**
 * Run a PyTorch peer on a problem: the problem is written as `problem.json` (and any binary
 * `files`) into a fresh temporary directory, the script is called with its path and `args`, and
 * its last stdout line is parsed. Unavailable (with the reason) when torch does not import or the
 * script fails. The directory is removed afterwards.
 */
export function runPeer<T>(
  script: string,
  input: unknown,
  opts: { python?: string; args?: string[]; files?: Record<string, Uint8Array> } = {},
): PeerOutcome<T> {
  const python = opts.python ?? '/usr/bin/python3';
  const missing = torchMissing(python);
  if (missing) return { ok: false, reason: missing };
  const name = script.split('/').pop() ?? script;
  const dir = mkdtempSync(join(tmpdir(), 'goldstone-peer-'));
  try {
    const file = join(dir, 'problem.json');
    writeFileSync(file, JSON.stringify(input));
    for (const [f, bytes] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, f), bytes);
    const run = spawnSync(python, [script, file, ...(opts.args ?? [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
    if (run.error || run.status !== 0) return { ok: false, reason: `${name} failed (${run.error?.message ?? `exit ${run.status}`})` };
    return lastJsonLine<T>(run.stdout, name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One child process's end: its exit status, stdout, and its wall time from spawn to exit (ms). */
export interface ChildRun {
  status: number | null;
  stdout: string;
  error?: string;
  wall_ms: number;
}

/** Spawn `command args` (stderr to ours) and resolve when it exits, with its stdout. */
export function runChild(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<ChildRun> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], env: env ?? process.env });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.on('error', (err) => resolve({ status: null, stdout, error: err.message, wall_ms: performance.now() - t0 }));
    child.on('close', (status) => resolve({ status, stdout, wall_ms: performance.now() - t0 }));
  });
}
