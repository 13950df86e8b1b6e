import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Summary } from './stats';

/** What torch_bench.py reports, or why it could not run. */
export type TorchResult =
  | {
      available: true;
      torch: string;
      threads: number;
      blas: string;
      cases: Record<string, Summary & { params: number; batch: number }>;
    }
  | { available: false; reason: string };

export const TORCH_SCRIPT = fileURLToPath(new URL('../torch_bench.py', import.meta.url));

/** Why `python -c "import torch"` fails, with the install command; null when PyTorch imports. */
export function torchMissing(python: string): string | null {
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (!probe.error && probe.status === 0) return null;
  const why = probe.error ? probe.error.message : (probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`);
  return `PyTorch not importable by ${python} (${why}); install it with: apt-get install -y python3-torch libopenblas0-pthread`;
}

/**
 * Run the PyTorch peer as a subprocess, when `python -c "import torch"` works.
 * `python` defaults to Debian's `/usr/bin/python3` (the one `apt-get install python3-torch` serves).
 */
export function runTorch(opts: { python?: string; warmup: number; reps: number; quick: boolean }): TorchResult {
  const python = opts.python ?? '/usr/bin/python3';
  const missing = torchMissing(python);
  if (missing) return { available: false, reason: missing };
  const args = [TORCH_SCRIPT, '--warmup', String(opts.warmup), '--reps', String(opts.reps), '--threads', '2'];
  if (opts.quick) args.push('--quick');
  const run = spawnSync(python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 << 20 });
  if (run.error || run.status !== 0) {
    return { available: false, reason: `torch_bench.py failed (${run.error?.message ?? `exit ${run.status}`})` };
  }
  return parseTorchOutput(run.stdout);
}

/** Parse torch_bench.py's stdout (one JSON object) into a result keyed by case name. */
export function parseTorchOutput(stdout: string): TorchResult {
  let raw: {
    torch: string;
    threads: number;
    blas: string;
    cases: Array<Summary & { name: string; params: number; batch: number }>;
  };
  try {
    raw = JSON.parse(stdout.trim().split('\n').pop() ?? '');
  } catch {
    return { available: false, reason: 'torch_bench.py printed no JSON' };
  }
  const cases: Record<string, Summary & { params: number; batch: number }> = {};
  for (const { name, ...rest } of raw.cases) cases[name] = rest;
  return { available: true, torch: raw.torch, threads: raw.threads, blas: raw.blas, cases };
}
