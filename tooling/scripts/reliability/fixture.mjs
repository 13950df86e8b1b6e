// The project every case runs against: a user's folder with their own files, a finished run, the
// same run marked interrupted, a finished sweep and a run directory that names someone else's plugin.
// Built once with the CLI under test, then copied for each case.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runCli, tail } from './lib.mjs';

/** A tiny CLT experiment: trains in about a second on the cpu backend, with an exact Hessian analysis. */
export const TINY = {
  name: 'tiny',
  seed: 1,
  backend: 'cpu',
  task: { name: 'clt', options: { sites: 8, block: 2, trainSize: 128, testSize: 64 } },
  model: { name: 'mlp', options: { hidden: [8], activation: 'tanh' } },
  train: { optimizer: 'adam', lr: 0.01, epochs: 3, batchSize: 32 },
  analyses: [{ name: 'hessian', options: { maxExamples: 64 } }],
};

/** A two-point sweep over the tiny experiment (no analyses). */
export const SWEEP_EXP = {
  ...TINY,
  name: 'tiny-sweep',
  train: { ...TINY.train, epochs: 2 },
  analyses: [],
  sweep: { grid: { 'train.lr': [0.01, 0.02] } },
};

const RUN_FILES = ['run.json', 'metrics.jsonl', 'checkpoints', 'analyses', 'report.html'];
const EVIL_PLUGIN = `// Stands for someone else's code: importing it leaves a mark.
import { writeFileSync } from 'node:fs';
writeFileSync(new URL('./RAN', import.meta.url), 'plugin code ran on import\\n');
export const plugins = [];
`;

function write(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

async function must(args, cwd, what) {
  const r = await runCli(args, { cwd, timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`fixture: ${what} (goldstone ${args.join(' ')}) exited ${r.code ?? r.signal}:\n${tail(r.stderr, 20, 4000)}`);
  return r;
}

/** Build the fixture project in `dir` (created). */
export async function buildFixture(dir) {
  mkdirSync(dir, { recursive: true });
  write(join(dir, 'exp.json'), `${JSON.stringify(TINY, null, 2)}\n`);
  write(join(dir, 'exp.yaml'), `# the same experiment as YAML\n${JSON.stringify(TINY, null, 2)}\n`);
  write(join(dir, 'sweep-exp.json'), `${JSON.stringify(SWEEP_EXP, null, 2)}\n`);
  write(join(dir, 'notes.txt'), 'my own notes: must survive every case\n');
  write(join(dir, 'data', 'keep.csv'), 'a,b\n1,2\n');
  write(join(dir, 'evil', 'index.mjs'), EVIL_PLUGIN);
  await must(['run', 'exp.json', '--out', 'done-run'], dir, 'the finished run');
  await must(['sweep', 'sweep-exp.json', '--out', 'done-sweep', '--executor', 'in-process', '--no-report'], dir, 'the finished sweep');
  cpSync(join(dir, 'done-run'), join(dir, 'int-run'), { recursive: true });
  const runFile = join(dir, 'int-run', 'run.json');
  const run = JSON.parse(readFileSync(runFile, 'utf8'));
  writeFileSync(runFile, `${JSON.stringify({ ...run, status: 'interrupted', error: 'interrupted by SIGINT' }, null, 2)}\n`);
  cpSync(join(dir, 'done-run'), join(dir, 'hostile-run'), { recursive: true });
  return dir;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Make `dir` unwritable: chmod for a normal user; root ignores modes, so the immutable attribute. Returns false when neither works. */
function makeReadOnly(dir) {
  mkdirSync(dir, { recursive: true });
  if (!isRoot()) {
    chmodSync(dir, 0o555);
    return true;
  }
  return spawnSync('chattr', ['+i', dir]).status === 0;
}

function undoReadOnly(dir) {
  if (!existsSync(dir)) return;
  if (isRoot()) spawnSync('chattr', ['-i', dir]);
  else chmodSync(dir, 0o755);
}

/** Copy the fixture to `dir` and apply what the case needs before the "before" snapshot. Returns notes (e.g. a skipped set-up). */
export function prepareCase(base, dir, c) {
  cpSync(base, dir, { recursive: true });
  const notes = [];
  if (c.strayRunInProject) for (const f of RUN_FILES) cpSync(join(dir, 'done-run', f), join(dir, f), { recursive: true });
  if (c.hostileRun) {
    const runFile = join(dir, 'hostile-run', 'run.json');
    const run = JSON.parse(readFileSync(runFile, 'utf8'));
    run.config.plugins = [join(dir, 'evil', 'index.mjs')];
    writeFileSync(runFile, `${JSON.stringify(run, null, 2)}\n`);
  }
  for (const d of c.setupDirs ?? []) mkdirSync(join(dir, d), { recursive: true });
  for (const [rel, text] of Object.entries(c.files ?? {})) write(join(dir, rel), text);
  for (const [rel, size] of Object.entries(c.truncate ?? {})) truncateSync(join(dir, rel), size);
  if (c.readonly && !makeReadOnly(join(dir, c.readonly))) notes.push(`could not make ${c.readonly} read-only here`);
  return notes;
}

/** Remove the harness's work folder, read-only case folders included. */
export function removeWork(work) {
  if (isRoot()) spawnSync('chattr', ['-R', '-i', work], { stdio: 'ignore' });
  else spawnSync('chmod', ['-R', 'u+w', work], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true, maxRetries: 3 });
}

export function cleanupCase(dir, c) {
  if (c.readonly) undoReadOnly(join(dir, c.readonly));
  rmSync(dir, { recursive: true, force: true });
}
