// Fault tests: SIGKILL at states read from disk (never after a fixed sleep), then the documented
// recovery (`--resume`, or running the sweep again) must finish with nothing lost, bit-identical to a
// run that was never interrupted.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { isAlive, runCli, startCli, tail, tryReadJson, waitFor } from './lib.mjs';

const base = {
  seed: 4,
  backend: 'cpu',
  task: { name: 'clt', options: { sites: 8, block: 2, trainSize: 1024, testSize: 128 } },
  model: { name: 'mlp', options: { hidden: [32, 32], activation: 'tanh' } },
};
/** About 60 short epochs: long enough to be killed in the middle, short enough to rerun. */
const TRAIN_EXP = { name: 'fault-train', ...base, train: { optimizer: 'adam', lr: 0.003, epochs: 60, batchSize: 32 } };
/** Many tiny epochs, each ending in a checkpoint write: most of the time goes to writing checkpoints. */
const CHECKPOINT_EXP = {
  name: 'fault-checkpoint',
  ...base,
  seed: 5,
  task: { name: 'clt', options: { sites: 8, block: 2, trainSize: 64, testSize: 32 } },
  model: { name: 'mlp', options: { hidden: [16], activation: 'tanh' } },
  train: { optimizer: 'adam', lr: 0.003, epochs: 150, batchSize: 32, logEvery: 1 },
};
const SWEEP_EXP = {
  name: 'fault-sweep',
  ...base,
  task: { name: 'clt', options: { sites: 8, block: 2, trainSize: 512, testSize: 128 } },
  model: { name: 'mlp', options: { hidden: [16], activation: 'tanh' } },
  train: { optimizer: 'adam', lr: 0.01, epochs: 8, batchSize: 16 },
  sweep: { grid: { 'train.lr': [0.01, 0.02] }, seeds: [1, 2, 3] },
};

const hash = (path) => (existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : null);
const checkpointEpoch = (run) => tryReadJson(join(run, 'checkpoints', 'last', 'model.json'))?.meta?.epoch;
const status = (run) => tryReadJson(join(run, 'run.json'))?.status;
const leftovers = (run) => {
  const dir = join(run, 'checkpoints');
  return existsSync(dir) ? readdirSync(dir).filter((e) => e.startsWith('.')) : [];
};

function metricRows(run) {
  const path = join(run, 'metrics.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return { unreadable: l.slice(0, 80) };
      }
    });
}

/** Rows without wall-clock fields, for comparing two runs. */
const comparable = (rows) => rows.map(({ time: _time, ...rest }) => rest);

function check(checks, name, ok, detail) {
  checks.push({ name, ok: Boolean(ok), ...(detail !== undefined ? { detail } : {}) });
}

/** The final state of a run compared with an uninterrupted one: parameters, optimiser state, summary, metrics. */
function compareRuns(checks, run, ref, epochs) {
  check(checks, 'status completed', status(run) === 'completed', status(run));
  for (const f of ['weights.bin', 'optimizer.bin']) {
    const a = hash(join(run, 'checkpoints', 'last', f));
    check(checks, `${f} bit-identical to the uninterrupted run`, a !== null && a === hash(join(ref, 'checkpoints', 'last', f)));
  }
  check(checks, 'summary equal to the uninterrupted run', isDeepStrictEqual(tryReadJson(join(run, 'run.json'))?.summary, tryReadJson(join(ref, 'run.json'))?.summary));
  const rows = metricRows(run);
  const epochsLogged = rows.filter((r) => r.kind === 'epoch').map((r) => r.epoch);
  const wanted = Array.from({ length: epochs }, (_, i) => i + 1);
  check(checks, 'each epoch logged once (no duplicate rows after resume)', isDeepStrictEqual(epochsLogged, wanted), epochsLogged.length === epochs ? undefined : `epochs logged: ${epochsLogged.length} rows for ${epochs} epochs`);
  const steps = rows.filter((r) => r.kind === 'step').map((r) => r.step);
  check(checks, 'each step row logged once', new Set(steps).size === steps.length, `${steps.length - new Set(steps).size} repeated step rows`);
  check(checks, 'metrics equal to the uninterrupted run', isDeepStrictEqual(comparable(rows.filter((r) => r.kind === 'epoch')), comparable(metricRows(ref).filter((r) => r.kind === 'epoch'))));
  const left = leftovers(run);
  check(checks, 'no temporary checkpoint left in checkpoints/', left.length === 0, left.length ? left.join(', ') : undefined);
}

function writeExp(dir, name, body) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}

/** A folder with the experiment file and an uninterrupted reference run of it (`ref/`). */
async function withReference(work, name, body, timeoutMs) {
  const dir = join(work, name);
  const file = writeExp(dir, 'exp.json', body);
  const ref = await runCli(['run', file, '--out', join(dir, 'ref'), '--no-report'], { cwd: dir, timeoutMs });
  if (ref.code !== 0) throw new Error(`the uninterrupted run failed: ${tail(ref.stderr, 4)}`);
  return { dir, file };
}

/** A process started with startCli, killed by SIGKILL once `ready()` holds; throws if it exits on its own first. */
async function killWhen(proc, ready, what, timeoutMs) {
  let exited;
  proc.result.then((r) => (exited = r));
  await waitFor(ready, { what, timeoutMs, everyMs: 10, stop: () => exited && `the process exited with ${exited.code ?? exited.signal} first: ${tail(exited.stderr, 3)}` });
  proc.killGroup('SIGKILL');
  return proc.result;
}

async function outcomeOf(id, title, body) {
  const started = Date.now();
  const checks = [];
  const info = {};
  try {
    await body(checks, info);
  } catch (err) {
    check(checks, 'the test ran to the end', false, err.message.slice(0, 500));
  }
  const failed = checks.filter((c) => !c.ok);
  return { id, title, outcome: failed.length === 0 ? 'pass' : 'fail', failed: failed.map((c) => c.name), checks, info, ms: Date.now() - started };
}

/** kill -9 in the middle of training, then `--resume`: the result must equal an uninterrupted run. */
export function killDuringTraining(work, { timeoutMs }) {
  return outcomeOf('kill-training', 'kill -9 during training, then --resume', async (checks, info) => {
    const { dir, file } = await withReference(work, 'fault-training', TRAIN_EXP, timeoutMs);
    const run = join(dir, 'victim');
    const proc = startCli(['run', file, '--out', run, '--no-report'], { cwd: dir, timeoutMs });
    await killWhen(proc, () => status(run) === 'running' && checkpointEpoch(run) >= 2, 'the second checkpoint', timeoutMs);
    info.killedAfterEpoch = checkpointEpoch(run);
    info.statusAfterKill = status(run);
    check(checks, 'killed before the run finished', status(run) !== 'completed' && checkpointEpoch(run) < TRAIN_EXP.train.epochs, `checkpoint epoch ${checkpointEpoch(run)}`);
    const resumed = await runCli(['run', file, '--out', run, '--resume', '--no-report'], { cwd: dir, timeoutMs });
    info.resumeMessage = resumed.stderr.split('\n').find((l) => l.startsWith('resuming')) ?? null;
    check(checks, '--resume exits 0', resumed.code === 0, resumed.code === 0 ? undefined : `exit ${resumed.code}: ${tail(resumed.stderr, 3)}`);
    check(checks, '--resume says what it resumes from', /resuming .* from checkpoint/.test(resumed.stderr));
    compareRuns(checks, run, join(dir, 'ref'), TRAIN_EXP.train.epochs);
  });
}

/** Ctrl-C (SIGINT) in the middle of training: exit 130, the run marked interrupted, then `--resume` as after a kill. */
export function interruptDuringTraining(work, { timeoutMs }) {
  return outcomeOf('sigint-training', 'Ctrl-C (SIGINT) during training, then --resume', async (checks, info) => {
    const { dir, file } = await withReference(work, 'fault-sigint', TRAIN_EXP, timeoutMs);
    const run = join(dir, 'victim');
    const proc = startCli(['run', file, '--out', run, '--no-report'], { cwd: dir, timeoutMs });
    let exited;
    proc.result.then((r) => (exited = r));
    await waitFor(() => status(run) === 'running' && checkpointEpoch(run) >= 2, { what: 'the second checkpoint', timeoutMs, everyMs: 10, stop: () => exited && `the run exited with ${exited.code} first` });
    process.kill(proc.child.pid, 'SIGINT');
    const r = await proc.result;
    check(checks, 'exit 130', r.code === 130, `exit ${r.code ?? r.signal}`);
    check(checks, 'run.json says interrupted', status(run) === 'interrupted', status(run));
    info.interruptedAfterEpoch = checkpointEpoch(run);
    const resumed = await runCli(['run', file, '--out', run, '--resume', '--no-report'], { cwd: dir, timeoutMs });
    check(checks, '--resume exits 0', resumed.code === 0, resumed.code === 0 ? undefined : `exit ${resumed.code}: ${tail(resumed.stderr, 3)}`);
    compareRuns(checks, run, join(dir, 'ref'), TRAIN_EXP.train.epochs);
  });
}

/** Two identical `run` commands started together into one fresh --out: one may run, the other must be refused; the run that results must be whole. */
export function concurrentRuns(work, { timeoutMs }) {
  return outcomeOf('concurrent-runs', 'two runs started together into the same --out', async (checks, info) => {
    const { dir, file } = await withReference(work, 'fault-concurrent', TRAIN_EXP, timeoutMs);
    const run = join(dir, 'shared');
    const [a, b] = await Promise.all([0, 1].map(() => runCli(['run', file, '--out', run, '--no-report'], { cwd: dir, timeoutMs })));
    info.exits = [a.code, b.code];
    const codes = [a.code, b.code].sort();
    check(checks, 'one exits 0, the other is refused with exit 2', codes[0] === 0 && codes[1] === 2, `exits ${a.code} and ${b.code}`);
    compareRuns(checks, run, join(dir, 'ref'), TRAIN_EXP.train.epochs);
  });
}

/** SIGKILL at random moments while checkpoints are written (many times), resuming after each; then resume to the end. */
export function killDuringCheckpoints(work, { timeoutMs, kills = 10, seed = 7 }) {
  return outcomeOf('kill-checkpoint', `kill -9 during checkpoint writes (${kills} kills at random moments), then --resume`, async (checks, info) => {
    const { dir, file } = await withReference(work, 'fault-checkpoint', CHECKPOINT_EXP, timeoutMs);
    const run = join(dir, 'victim');
    let s = seed;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    info.kills = [];
    for (let k = 0; k < kills; k++) {
      const args = ['run', file, '--out', run, '--no-report', ...(k > 0 ? ['--resume'] : [])];
      const startEpoch = checkpointEpoch(run) ?? 0;
      const earlier = new Set(leftovers(run));
      if (startEpoch >= CHECKPOINT_EXP.train.epochs - 5) break;
      const proc = startCli(args, { cwd: dir, timeoutMs });
      // The state: this process has written a checkpoint of its own. Then, within a random budget of
      // further checkpoints, the first moment a write is seen in progress (a temporary entry exists).
      const budget = 1 + Math.floor(rand() * 3);
      const mode = rand() < 0.5 ? 'mid-write' : 'after-checkpoint';
      let seenWrite = false;
      await killWhen(
        proc,
        () => {
          const epoch = checkpointEpoch(run) ?? 0;
          if (epoch <= startEpoch) return false;
          if (mode === 'mid-write' && leftovers(run).some((e) => !earlier.has(e))) return (seenWrite = true);
          return epoch >= startEpoch + budget;
        },
        `checkpoint writes after epoch ${startEpoch}`,
        timeoutMs,
      );
      const left = leftovers(run).filter((e) => !earlier.has(e));
      info.kills.push({ after: checkpointEpoch(run) ?? null, mode, seenWrite, left });
    }
    const midWrite = info.kills.filter((k) => k.left.length > 0).length;
    info.killsMidWrite = midWrite;
    check(checks, 'killed several times', info.kills.length >= Math.min(3, kills), `${info.kills.length} kills`);
    const resumed = await runCli(['run', file, '--out', run, '--resume', '--no-report'], { cwd: dir, timeoutMs });
    check(checks, 'the last --resume exits 0', resumed.code === 0, resumed.code === 0 ? undefined : `exit ${resumed.code}: ${tail(resumed.stderr, 3)}`);
    compareRuns(checks, run, join(dir, 'ref'), CHECKPOINT_EXP.train.epochs);
  });
}

const sweepIndex = (out) => tryReadJson(join(out, 'sweep.json'));

function finishedRuns(out) {
  const ix = sweepIndex(out);
  const res = {};
  for (const p of ix?.points ?? []) {
    const run = join(out, p.dir);
    if (status(run) === 'completed') res[p.id] = { runJson: hash(join(run, 'run.json')), weights: hash(join(run, 'checkpoints', 'last', 'weights.bin')), metrics: hash(join(run, 'metrics.jsonl')) };
  }
  return res;
}

function sweepChecks(checks, out, before, total) {
  const ix = sweepIndex(out);
  check(checks, `all ${total} points completed`, ix?.counts?.completed === total, JSON.stringify(ix?.counts ?? null));
  const dirs = existsSync(out) ? readdirSync(out).filter((d) => existsSync(join(out, d, 'run.json'))) : [];
  check(checks, `${total} run directories, no strays`, dirs.length === total, `${dirs.length} run directories`);
  const after = finishedRuns(out);
  const changed = Object.keys(before).filter((id) => !isDeepStrictEqual(before[id], after[id]));
  check(checks, 'no finished run lost or run again', changed.length === 0, changed.length ? `changed: ${changed.join(', ')}` : `${Object.keys(before).length} runs finished before the kill`);
  let once = true;
  for (const p of ix?.points ?? []) {
    const epochs = metricRows(join(out, p.dir)).filter((r) => r.kind === 'epoch').map((r) => r.epoch);
    if (!isDeepStrictEqual(epochs, Array.from({ length: SWEEP_EXP.train.epochs }, (_, i) => i + 1))) once = false;
  }
  check(checks, 'every run trained once, from scratch (epochs 1..N once each)', once);
}

/** kill -9 of one worker mid-point: the sweep itself must run that point again and finish. */
export function killSweepWorker(work, { timeoutMs }) {
  return outcomeOf('kill-sweep-worker', 'kill -9 of a sweep worker', async (checks, info) => {
    const dir = join(work, 'fault-sweep-worker');
    const file = writeExp(dir, 'exp.json', SWEEP_EXP);
    const out = join(dir, 'out');
    const proc = startCli(['sweep', file, '--out', out, '--workers', '2', '--no-report'], { cwd: dir, timeoutMs: timeoutMs * 3 });
    let exited;
    proc.result.then((r) => (exited = r));
    const running = await waitFor(() => sweepIndex(out)?.points.find((p) => p.status === 'running' && p.pid && isAlive(p.pid)), {
      what: 'a running point with a worker pid',
      timeoutMs,
      everyMs: 10,
      stop: () => exited && `the sweep exited with ${exited.code} first`,
    });
    info.victim = running.id;
    process.kill(running.pid, 'SIGKILL');
    const r = await proc.result;
    check(checks, 'the sweep exits 0', r.code === 0, r.code === 0 ? undefined : `exit ${r.code ?? r.signal}: ${tail(r.stderr, 3)}`);
    const point = sweepIndex(out)?.points.find((p) => p.id === running.id);
    check(checks, 'the killed point ran again', point?.attempts >= 2 && point?.status === 'completed', `attempts ${point?.attempts}, status ${point?.status}`);
    sweepChecks(checks, out, {}, 6);
  });
}

/** kill -9 of the sweep's parent process with finished runs: rerunning finishes every point and loses none. */
export function killSweepParent(work, { timeoutMs }) {
  return outcomeOf('kill-sweep-parent', 'kill -9 of the sweep parent, then the same sweep again', async (checks, info) => {
    const dir = join(work, 'fault-sweep-parent');
    const file = writeExp(dir, 'exp.json', SWEEP_EXP);
    const out = join(dir, 'out');
    const proc = startCli(['sweep', file, '--out', out, '--workers', '2', '--no-report'], { cwd: dir, timeoutMs: timeoutMs * 3, reapGroup: false });
    let exited;
    proc.exited.then((r) => (exited = r));
    await waitFor(() => (sweepIndex(out)?.counts?.completed ?? 0) >= 2, { what: 'two finished points', timeoutMs, everyMs: 10, stop: () => exited && `the sweep exited with ${exited.code} first` });
    const workers = (sweepIndex(out)?.points ?? []).filter((p) => p.status === 'running' && p.pid).map((p) => p.pid);
    process.kill(proc.child.pid, 'SIGKILL'); // the parent only: its workers are orphaned
    await proc.exited;
    // Orphaned workers must notice and stop; wait for that state.
    let orphansStopped = true;
    try {
      await waitFor(() => workers.every((pid) => !isAlive(pid)), { what: 'the orphaned workers to exit', timeoutMs: 60_000, everyMs: 50 });
    } catch {
      orphansStopped = false;
      for (const pid of workers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    check(checks, 'orphaned workers stop by themselves', orphansStopped, `${workers.length} workers were running`);
    proc.killGroup('SIGKILL');
    await proc.result;
    const before = finishedRuns(out);
    info.finishedBeforeKill = Object.keys(before).length;
    check(checks, 'killed before the sweep finished', info.finishedBeforeKill < 6, `${info.finishedBeforeKill} of 6 finished`);
    const again = await runCli(['sweep', file, '--out', out, '--workers', '2', '--no-report'], { cwd: dir, timeoutMs: timeoutMs * 3 });
    check(checks, 'the rerun exits 0', again.code === 0, again.code === 0 ? undefined : `exit ${again.code}: ${tail(again.stderr, 3)}`);
    sweepChecks(checks, out, before, 6);
  });
}

export const FAULTS = {
  'kill-training': killDuringTraining,
  'sigint-training': interruptDuringTraining,
  'kill-checkpoint': killDuringCheckpoints,
  'kill-sweep-worker': killSweepWorker,
  'kill-sweep-parent': killSweepParent,
  'concurrent-runs': concurrentRuns,
};
