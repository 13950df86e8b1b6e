import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '@goldstone/plugin-api';
import { checkSlurmFlags, emitSlurm, runArrayTask, runSweep, silentReporter, type SweepPointRecord } from '@goldstone/sweep';
import { cliDir, cliEnvironment } from '../environment';
import { isProblemLine } from '../progress';

/** The flags of `goldstone sweep` that hand points to a scheduler (Slurm) instead of running them. */
export interface SlurmSweepFlags {
  out?: string;
  quick?: boolean;
  report?: boolean;
  json?: boolean;
  dryRun?: boolean;
  force?: boolean;
  workers?: string;
  executor?: string;
  emit?: string;
  partition?: string;
  time?: string;
  cpus?: string;
  mem?: string;
  maxRunning?: string;
  arrayTask?: string;
  reconcile?: boolean;
  /** Warnings and errors only on stderr: no status lines, no submit hints (`--json` carries them). */
  quiet?: boolean;
}

/** Does this invocation ask for a scheduler mode (`--emit`, `--array-task`, `--reconcile`) or give one of its flags? */
export function usesScheduler(flags: SlurmSweepFlags): boolean {
  return [flags.emit, flags.arrayTask, flags.partition, flags.time, flags.cpus, flags.mem, flags.maxRunning].some((f) => f !== undefined) || Boolean(flags.reconcile);
}

const EMIT_TARGETS = ['slurm'];

/** Flag combinations that make no sense, refused before anything is read or written. */
function checkCombination(flags: SlurmSweepFlags): void {
  const modes = [flags.emit !== undefined && '--emit', flags.arrayTask !== undefined && '--array-task', flags.reconcile && '--reconcile'].filter(Boolean) as string[];
  if (modes.length > 1) throw new UsageError(`${modes[0]} and ${modes[1]} exclude each other`, { field: modes[1].slice(2) });
  const mode = modes[0];
  if (flags.emit !== undefined && !EMIT_TARGETS.includes(flags.emit)) throw new UsageError(`--emit: expected ${EMIT_TARGETS.join(' or ')}, found ${JSON.stringify(flags.emit)}`, { field: 'emit' });
  for (const flag of ['partition', 'time', 'cpus', 'mem'] as const) {
    if (flags[flag] !== undefined && flags.emit === undefined) throw new UsageError(`--${flag}: only with --emit slurm (it sets the job array's #SBATCH --${flag === 'cpus' ? 'cpus-per-task' : flag})`, { field: flag });
  }
  if (flags.maxRunning !== undefined && flags.emit === undefined) throw new UsageError(`--max-running: only with --emit slurm (it sets the job array's #SBATCH --array=0-N%K)`, { field: 'max-running' });
  if (!mode) return;
  if (flags.dryRun) throw new UsageError(`--dry-run and ${mode} exclude each other`, { field: 'dry-run' });
  if (flags.workers !== undefined) throw new UsageError(`--workers: not with ${mode} (the scheduler decides where points run)`, { field: 'workers' });
  if (flags.executor !== undefined && flags.executor !== 'local') throw new UsageError(`--executor ${flags.executor}: not with ${mode} (the scheduler runs the points)`, { field: 'executor' });
  if (flags.force && mode !== '--emit') throw new UsageError(`--force: not with ${mode} (only a sweep or --emit replaces an index)`, { field: 'force' });
}

/** How the emitted script calls goldstone: this very node and this package's bin.js, absolute. */
function selfCommand(): string[] {
  const bin = join(cliDir, 'dist', 'bin.js');
  const script = existsSync(bin) ? bin : realpathSync(process.argv[1]);
  return [process.execPath, ...process.execArgv, script];
}

const notFinished = (p: SweepPointRecord) => p.status !== 'completed' && p.status !== 'diverged';

/**
 * `goldstone sweep EXP --emit slurm | --array-task I | --reconcile`: write a Slurm job array for the
 * points that need a run, run one task of it, or take the finished array's outcomes into the index.
 */
export async function slurmSweepCommand(file: string, flags: SlurmSweepFlags, set: Record<string, unknown>, maxPoints: number | undefined): Promise<number> {
  checkCombination(flags);
  const env = cliEnvironment();
  const shared = { file, env, out: flags.out, quick: flags.quick, set, report: flags.report, maxPoints };
  if (flags.emit !== undefined) {
    const slurm = checkSlurmFlags({ partition: flags.partition, time: flags.time, cpus: flags.cpus, mem: flags.mem, maxRunning: flags.maxRunning });
    const reporter = { ...silentReporter, log: (m: string) => (flags.quiet && !isProblemLine(m) ? undefined : process.stderr.write(`${m}\n`)) };
    const e = await emitSlurm({ ...shared, force: flags.force, reporter, command: selfCommand(), slurm });
    if (flags.json) process.stdout.write(`${JSON.stringify({ dir: e.dir, tasks: e.tasks, points: e.points, script: e.script, pointsFile: e.pointsFile, readme: e.readme, submit: e.submit, reconcile: e.reconcile }, null, 2)}\n`);
    for (const w of e.warnings) process.stderr.write(`warning: ${w}\n`);
    const total = e.index.points.length;
    if (flags.quiet) return 0;
    if (e.tasks === 0) {
      process.stderr.write(`sweep ${e.dir}: all ${total} points have finished; no job array written\nreconcile: ${e.reconcile}\n`);
      return 0;
    }
    process.stderr.write(
      `sweep ${e.dir}: ${total} points, ${total - e.points} finished, ${e.points} in a Slurm job array of ${e.tasks} task${e.tasks === 1 ? '' : 's'}: ${e.script}\n` +
        `the sweep directory must be on a filesystem every node shares\n` +
        `submit:     ${e.submit}\n` +
        `afterwards: ${e.reconcile}\n`,
    );
    return 0;
  }
  if (flags.arrayTask !== undefined) {
    const r = await runArrayTask({ ...shared, task: flags.arrayTask });
    if (flags.json) process.stdout.write(`${JSON.stringify({ dir: r.dir, task: r.task, points: r.results.map((x) => ({ id: x.id, dir: x.dir, ...x.result })) }, null, 2)}\n`);
    for (const { dir, result } of r.results) if (!flags.quiet || result.status !== 'completed') process.stderr.write(`array task ${r.task}: ${result.status} ${dir}${result.error && result.status !== 'completed' ? `: ${result.error}` : ''}\n`);
    return r.results.every((x) => x.result.status === 'completed') ? 0 : 1;
  }
  const outcome = await runSweep({ ...shared, mode: 'reconcile' });
  const c = outcome.index.counts;
  if (flags.json) process.stdout.write(`${JSON.stringify(outcome.index, null, 2)}\n`);
  const open = outcome.index.points.filter(notFinished);
  if (!flags.quiet) {
    process.stderr.write(
      `reconciled ${outcome.dir}: ${c.completed} completed, ${c.diverged} diverged, ${c.failed} failed, ${open.length - c.failed} did not run or finish` +
        `${outcome.report ? ` (report: ${outcome.report})` : ''}\n`,
    );
  }
  for (const p of open) {
    if (p.status === 'failed') process.stderr.write(`error: ${p.id} failed: ${p.error ?? 'no message'}\n`);
    else process.stderr.write(`error: ${p.id} did not ${p.status === 'pending' ? 'run' : 'finish'} (${p.status}${p.error ? `: ${p.error}` : ''})\n`);
  }
  if (open.length > 0) process.stderr.write(`emit again for these ${open.length} point${open.length === 1 ? '' : 's'} (goldstone sweep ${file} --out ${outcome.dir} --emit slurm …, with the same --quick and --set) and submit the new script\n`);
  return open.length > 0 ? 1 : 0;
}
