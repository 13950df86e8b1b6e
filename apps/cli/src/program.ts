import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BACKEND_CHOICES } from '@goldstone/core';
import { RunFailedError, UsageError } from '@goldstone/plugin-api';
import { cliVersion } from './environment';
import { analyzeCommand } from './commands/analyze';
import { compareCommand } from './commands/compare';
import { createCommand } from './commands/create';
import { exportCommand } from './commands/export';
import { listCommand } from './commands/list';
import { reportCommand } from './commands/report';
import { runCommand } from './commands/run';
import { sweepCommand } from './commands/sweep';
import { trainCommand } from './commands/train';
import { workerCommand } from './commands/worker';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `--seed N`: a non-negative integer, else a usage error naming the flag (not the experiment file). */
function parseSeed(value: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

function seedOption(): Option {
  return new Option('--seed <n>', 'random seed (a non-negative integer)').argParser(parseSeed);
}

function backendOption(): Option {
  return new Option('--backend <name>', 'tensor backend (default: the experiment\'s, else auto)').choices([...BACKEND_CHOICES]);
}

/** The `goldstone` command tree. Each action resolves to an exit code. */
export function createProgram(setExit: (code: number) => void): Command {
  const program = new Command('goldstone')
    .description('Train small networks on physics tasks and measure why they generalise.')
    .version(cliVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });

  const wrap =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A) => setExit(await fn(...args));

  program
    .command('list')
    .description('installed plugins by kind, with versions; with a NAME, that plugin\'s options')
    .argument('[name]', 'a plugin name: print its options (type, default) from its schema')
    .option('--json', 'print an array of {kind, name, package, version} (with NAME: its options as JSON Schema)')
    .option('--plugin <module>', 'also load a third-party plugin module (repeatable)', collect)
    .action(wrap((name, opts) => listCommand(name, opts)));

  program
    .command('train')
    .description('train a model on a task (no analyses) into a run directory')
    .requiredOption('--task <name>', 'task plugin')
    .requiredOption('--model <name>', 'model plugin')
    .option('--set <key=value>', 'set an experiment field, e.g. train.lr=0.01 or model.options.hidden=[32,32] (repeatable)', collect)
    .addOption(seedOption())
    .option('--out <dir>', 'run directory')
    .option('--plugin <module>', 'load a third-party plugin module (repeatable)', collect)
    .option('--force', 'replace a run directory goldstone created (only its own files)')
    .option('--quiet', 'no progress, log or summary lines on stderr (errors still)')
    .option('--json', 'print the outcome as JSON on stdout')
    .addOption(backendOption())
    .action(wrap((opts) => trainCommand(opts)));

  program
    .command('analyze')
    .description('run one analysis on a trained run directory')
    .argument('<run-dir>', 'run directory')
    .requiredOption('--analysis <name>', 'analysis plugin')
    .option('--set <key=value>', 'set an analysis option, e.g. hessian.method=exact (repeatable)', collect)
    .option('--id <id>', 'the result id: writes analyses/<id>.json (default: the analysis name), so that several results of one analysis can be kept')
    .option('--plugin <module>', 'load a third-party plugin module (repeatable)', collect)
    .option('--trust-plugins', 'also load the plugin modules listed in the run\'s run.json (they run code: only for runs you trust)')
    .option('--quiet', 'no progress, log or summary lines on stderr (errors still)')
    .option('--json', 'print the result as one JSON object on stdout')
    .addOption(backendOption())
    .action(wrap((dir, opts) => analyzeCommand(dir, opts)));

  program
    .command('run')
    .description('train, analyse and report: everything an experiment file asks for')
    .argument('<experiment>', 'experiment file (.yaml, .yml or .json)')
    .option('--out <dir>', 'run directory (default runs/<experiment name>)')
    .option('--quick', 'apply the experiment\'s quick: overrides (a CI-sized run)')
    .option('--set <key=value>', 'override an experiment field (repeatable)', collect)
    .addOption(seedOption())
    .option('--force', 'replace a run directory goldstone created (only its own files)')
    .option('--resume', 'continue an interrupted or diverged run in --out from its last good checkpoint')
    .option('--no-report', 'do not write report.html')
    .option('--quiet', 'no progress, log or summary lines on stderr (errors still)')
    .option('--json', 'print the outcome as JSON on stdout')
    .addOption(backendOption())
    .action(wrap((file, opts) => runCommand(file, opts)));

  program
    .command('sweep')
    .description('run every point of an experiment\'s sweep: block, each as its own run directory, in parallel workers; resumable')
    .argument('<experiment>', 'experiment file with a sweep: block (.yaml, .yml or .json)')
    .option('--out <dir>', 'sweep directory (default sweeps/<experiment name>)')
    .option('--workers <n>', 'worker processes of the local executor (default: the number of cores)')
    .option('--executor <name>', 'where points run: local (a process pool on this machine), in-process (one after another, in this process) or redis (a queue that `goldstone worker` processes on any machine take points from)', 'local')
    .option('--redis <url>', 'with --executor redis: redis://[user:password@]host[:port][/db] or rediss:// (TLS); the sweep directory and the experiment must be on a filesystem every worker shares')
    .option('--queue <name>', 'with --executor redis: the queue (default: derived from the sweep directory)')
    .option('--quick', 'apply the experiment\'s quick: overrides to every point')
    .option('--set <key=value>', 'override an experiment field for every point (repeatable)', collect)
    .option('--dry-run', 'list the points (run/skip, id, assignments; one a line on stdout) and write nothing')
    .option('--max-points <n>', 'the most points the sweep may have (default 10000), checked before anything is expanded')
    .option('--force', 'carry on in a sweep directory that holds a different sweep: replace its index; runs that differ run again, directories of points not in this sweep are kept')
    .option('--no-report', 'write no report.html per run and no sweep-report.html')
    .option('--json', 'print the sweep index (sweep.json) on stdout (with --dry-run: the index it would write)')
    .option('--quiet', 'no progress or status lines on stderr (warnings and errors still); stdout unchanged')
    .addOption(backendOption())
    .option('--emit <scheduler>', 'run nothing: write the index and a job array for the points that need a run (slurm: DIR/slurm/sweep.sbatch)')
    .option('--partition <name>', 'with --emit slurm: #SBATCH --partition')
    .option('--time <limit>', 'with --emit slurm: #SBATCH --time per array task (MM, HH:MM:SS, D-HH, …)')
    .option('--cpus <n>', 'with --emit slurm: #SBATCH --cpus-per-task')
    .option('--mem <size>', 'with --emit slurm: #SBATCH --mem per array task (e.g. 4G)')
    .option('--max-running <k>', 'with --emit slurm: at most K array tasks at once (#SBATCH --array=0-N%K)')
    .option('--array-task <i>', 'run entry i of an emitted job array (DIR/slurm/points.json) into its run directory; never writes sweep.json')
    .option('--reconcile', 'run nothing: update sweep.json, summaries and the report from the run directories (after a job array)')
    .action(wrap((file, opts) => sweepCommand(file, opts)));

  program
    .command('worker')
    .description('take sweep points from a Redis queue (goldstone sweep --executor redis) and run them until stopped; the sweep directory and the experiment must be on a filesystem this machine shares')
    .option('--redis <url>', 'redis://[user:password@]host[:port][/db] or rediss:// (TLS; a private CA through NODE_EXTRA_CA_CERTS)')
    .option('--concurrency <n>', 'points run at once: one worker process each (default 1)')
    .option('--queue <name>', 'the queue (default: the one sweep queued on this Redis; waits for one)')
    .option('--lock-duration <ms>', 'how long a point stays with a worker that stopped answering before it is handed out again (default 30000)')
    .option('--quiet', 'no start, waiting or stop lines on stderr (errors still)')
    .action(wrap((opts) => workerCommand(opts)));

  program
    .command('report')
    .description('(re)write report.html for a run directory (sweep-report.html for a sweep directory)')
    .argument('<dir>', 'run or sweep directory')
    .option('--interactive', 'also write report.interactive.html (sweep-report.interactive.html): hover values, zoom, legend toggles; one file that opens offline')
    .action(wrap((dir, opts) => reportCommand(dir, opts)));

  program
    .command('export')
    .description('write a run\'s metrics and analysis tables as CSV files')
    .argument('<run-dir>', 'run directory')
    .option('--csv', 'write CSV (RFC 4180): metrics.csv and <analysis>[.<table>].csv')
    .option('--out <dir>', 'where to write the files (default <run-dir>/export)')
    .option('--json', 'print the files written as JSON on stdout')
    .action(wrap((dir, opts) => exportCommand(dir, opts)));

  program
    .command('compare')
    .description('runs side by side: config paths that differ, final metrics and analysis headlines; an HTML page with their curves overlaid')
    .argument('<run-dirs...>', 'two or more run directories')
    .option('--out <file>', 'the HTML page to write (default ./compare.html)')
    .option('--json', 'print the comparison (runs, configs, versions, metrics, headlines, notes) as JSON on stdout, nothing else there')
    .action(wrap((dirs, opts) => compareCommand(dirs, opts)));

  program
    .command('create')
    .description('scaffold a plugin package (outside this repository) that builds, loads and passes the testkit as generated')
    .argument('<what>', 'what to create: plugin')
    .argument('<name>', 'the npm package name, e.g. goldstone-analysis-my-measure or @lab/my-task')
    .option('--kind <kind>', 'the plugin kind: analysis, task or model')
    .option('--dir <dir>', 'the folder to write (new or empty; default ./NAME without its scope)')
    .option('--json', 'print what was written as JSON on stdout')
    .action(wrap((what, name, opts) => createCommand(what, name, opts)));

  return program;
}

/** Run the CLI with the given arguments (without `node` and the script). Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = createProgram((c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
      return 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof RunFailedError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    const e = err as Error;
    process.stderr.write(`error: ${e?.message ?? String(err)}\n${process.env.GOLDSTONE_DEBUG ? `${e?.stack}\n` : ''}`);
    return 1;
  }
}
