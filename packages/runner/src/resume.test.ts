import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { promises as fsp } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry, silentProgress, UsageError, type Progress } from '@goldstone/plugin-api';
import { disposeParams } from '@goldstone/core';
import { RunStore } from '@goldstone/run-store';
import { snapshotDir } from '@goldstone/run-store/test-support';
import { toyMlp, toyRegressionTask } from '@goldstone/testkit';
import { parseExperiment } from './experiment';
import { resolvedConfig, runExperiment, type RunOutcome } from './run-experiment';
import { resolveExperiment } from './resolve';

const registry = new Registry();
registry.add(toyRegressionTask, { package: 'test', version: '0.0.0' });
registry.add(toyMlp, { package: 'test', version: '0.0.0' });

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'goldstone-resume-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let dirs = 0;
const newDir = () => join(root, `run-${++dirs}`);

function experiment(over: { epochs?: number; hidden?: number; train?: Record<string, unknown> } = {}) {
  return resolveExperiment(
    parseExperiment({
      seed: 4,
      task: { name: 'toy-regression' },
      model: { name: 'toy-mlp', options: { hidden: over.hidden ?? 4 } },
      train: { optimizer: 'adam', lr: 0.01, epochs: over.epochs ?? 2, batchSize: 16, ...over.train },
    }),
    registry,
  );
}

/** A run of 2 epochs, marked interrupted as if it was cut off after its last checkpoint. */
async function interruptedRun(): Promise<string> {
  return interruptedRunWith({});
}

async function interruptedRunWith(train: Record<string, unknown>): Promise<string> {
  const dir = newDir();
  const store = await RunStore.create(dir);
  const outcome = await runExperiment({ resolved: experiment({ train }), store, backend: 'cpu', skipAnalyses: true });
  expect(outcome.status).toBe('completed');
  await store.updateRun({ status: 'interrupted' });
  return dir;
}

async function resume(dir: string, resolved = experiment({ epochs: 4 }), log: string[] = []): Promise<RunOutcome> {
  const store = await RunStore.create(dir, { resume: true });
  const progress: Progress = { ...silentProgress, log: (line) => log.push(line) };
  return runExperiment({ resolved, store, backend: 'cpu', skipAnalyses: true, resume: true, progress });
}

/** Resume must refuse with a UsageError and leave every byte of the directory as it was. */
async function refusal(dir: string, resolved = experiment({ epochs: 4 })): Promise<string> {
  const before = await snapshotDir(dir);
  const tensors = tf.memory().numTensors;
  const err = await resume(dir, resolved).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  expect(await snapshotDir(dir)).toEqual(before);
  expect(tf.memory().numTensors).toBe(tensors);
  return (err as UsageError).message;
}

describe('runExperiment with resume', () => {
  it('says what it resumes and ends bit-identical to an uninterrupted run', async () => {
    const dir = await interruptedRun();
    const log: string[] = [];
    const outcome = await resume(dir, experiment({ epochs: 4 }), log);
    expect(outcome.status).toBe('completed');
    expect(log).toContain(`resuming ${dir} from checkpoint last (epoch 2)`);

    const straight = newDir();
    const whole = await runExperiment({ resolved: experiment({ epochs: 4 }), store: await RunStore.create(straight), backend: 'cpu', skipAnalyses: true });
    expect(outcome.final).toEqual(whole.final);
    const weights = (d: string) => fsp.readFile(join(d, 'checkpoints', 'last', 'weights.bin'));
    expect((await weights(dir)).equals(await weights(straight))).toBe(true);
    const rows = await (await RunStore.create(dir, { resume: true })).readMetrics();
    const epochs = rows.filter((row) => row.kind === 'epoch').map((row) => row.epoch);
    expect(epochs).toEqual([1, 2, 3, 4]);
  });

  it('refuses a last.json that points to a missing checkpoint, naming both', async () => {
    const dir = await interruptedRun();
    const pointer = join(dir, 'checkpoints', 'last.json');
    await fsp.writeFile(pointer, JSON.stringify({ tag: 'epoch-7' }));
    const message = await refusal(dir);
    expect(message).toContain(`cannot resume ${dir}`);
    expect(message).toContain(pointer);
    expect(message).toContain(join(dir, 'checkpoints', 'epoch-7', 'model.json'));
  });

  it('refuses a truncated weights.bin or model.json, naming the file and why', async () => {
    const dir = await interruptedRun();
    const weights = join(dir, 'checkpoints', 'last', 'weights.bin');
    const bin = await fsp.readFile(weights);
    await fsp.writeFile(weights, bin.subarray(0, bin.length - 8));
    expect(await refusal(dir)).toContain(`${weights}: ${bin.length - 8} bytes, the manifest needs ${bin.length}`);
    await fsp.writeFile(weights, bin);
    const manifest = join(dir, 'checkpoints', 'last', 'model.json');
    await fsp.writeFile(manifest, (await fsp.readFile(manifest, 'utf8')).slice(0, 50));
    expect(await refusal(dir)).toMatch(new RegExp(`${manifest.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not readable as JSON`));
  });

  it('refuses a checkpoint whose parameters do not fit the configured model, naming them', async () => {
    const dir = await interruptedRun();
    // the checkpoint of another run (a wider model) in place of this run's own
    const other = newDir();
    await runExperiment({ resolved: experiment({ hidden: 6 }), store: await RunStore.create(other), backend: 'cpu', skipAnalyses: true });
    await fsp.rm(join(dir, 'checkpoints'), { recursive: true });
    await fsp.cp(join(other, 'checkpoints'), join(dir, 'checkpoints'), { recursive: true });
    const message = await refusal(dir);
    expect(message).toContain('does not fit the model "toy-mlp" the config builds');
    expect(message).toContain('"W1": [4,6] in the checkpoint, [4,4] in the model');
    expect(message).toContain('"b1": [6] in the checkpoint, [4] in the model');
  });

  it('refuses an experiment that trains something else than the run, naming each field, before writing', async () => {
    const dir = await interruptedRun();
    const message = await refusal(dir, experiment({ epochs: 4, hidden: 6, train: { lr: 0.02 } }));
    expect(message).toContain(`cannot resume ${dir}: the experiment differs from the run (${join(dir, 'run.json')} config)`);
    expect(message).toContain('model.options.hidden: 4 in the run, 6 in the experiment');
    expect(message).toContain('train.lr: 0.01 in the run, 0.02 in the experiment');
    expect(message).not.toContain('train.epochs: ');
    const cosine = await interruptedRunWith({ schedule: { kind: 'cosine' } });
    expect(await refusal(cosine, experiment({ epochs: 4, train: { schedule: { kind: 'cosine' } } }))).toContain(
      'train.epochs: 2 in the run, 4 in the experiment (a cosine schedule depends on train.epochs)',
    );
  });

  it('accepts changes that do not touch what is trained: labels, epochs, how often rows are written', async () => {
    const dir = await interruptedRun();
    const resolved = experiment({ epochs: 3, train: { logEvery: 3, evalEvery: 1 } });
    resolved.experiment.name = 'renamed';
    resolved.experiment.description = 'a longer run';
    const outcome = await resume(dir, resolved);
    expect(outcome.status).toBe('completed');
    const run = await (await RunStore.create(dir, { resume: true })).readRun();
    expect(run).toMatchObject({ status: 'completed', name: 'renamed', config: { name: 'renamed', train: { epochs: 3, logEvery: 3 } } });
  });

  it('refuses a checkpoint after the last epoch asked for, and optimiser state of another optimiser', async () => {
    const dir = await interruptedRun();
    expect(await refusal(dir, experiment({ epochs: 1 }))).toMatch(/after epoch 2, but train\.epochs is 1/);
    const sgd = experiment({ epochs: 4, train: { optimizer: 'sgd', momentum: 0.9 } });
    expect(await refusal(dir, sgd)).toContain('train.optimizer: "adam" in the run, "sgd" in the experiment');
    // a run.json edited to say sgd, beside a checkpoint holding adam's state
    const runFile = join(dir, 'run.json');
    const run = JSON.parse(await fsp.readFile(runFile, 'utf8'));
    await fsp.writeFile(runFile, JSON.stringify({ ...run, config: resolvedConfig(sgd) }));
    expect(await refusal(dir, sgd)).toMatch(/optimiser state .* train\.optimizer "sgd"/);
  });

  it('refuses a run.json damaged after the store was opened, before writing anything', async () => {
    const dir = await interruptedRun();
    const store = await RunStore.create(dir, { resume: true });
    await fsp.writeFile(join(dir, 'run.json'), '[]\n');
    const before = await snapshotDir(dir);
    const err = await runExperiment({ resolved: experiment({ epochs: 4 }), store, backend: 'cpu', skipAnalyses: true, resume: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(`${join(dir, 'run.json')}: not a JSON object`);
    expect(await snapshotDir(dir)).toEqual(before);
  });

  it('starts from epoch 0 when no checkpoint was saved yet, and says so', async () => {
    const dir = await interruptedRun();
    await fsp.rm(join(dir, 'checkpoints'), { recursive: true });
    const log: string[] = [];
    const outcome = await resume(dir, experiment({ epochs: 2 }), log);
    expect(outcome.status).toBe('completed');
    expect(log).toContain(`resuming ${dir}: no checkpoint was saved yet, so training starts from epoch 0`);
  });

  it('refuses checkpoints that no last.json names', async () => {
    const dir = await interruptedRun();
    await fsp.rm(join(dir, 'checkpoints', 'last.json'));
    await fsp.rename(join(dir, 'checkpoints', 'last'), join(dir, 'checkpoints', 'epoch-2'));
    expect(await refusal(dir)).toMatch(/holds the checkpoint init, epoch-2, but no last\.json says which one is the last good one/);
  });
});

describe('runExperiment after a crash or a divergence', () => {
  /** A pid no process can have (above Linux's largest pid_max). */
  const deadPid = 4_194_305;
  const withoutTime = (rows: Record<string, unknown>[]) => rows.map(({ time: _time, ...rest }) => rest);

  it('a kill between checkpoints: rows after the checkpoint are dropped, temporaries removed, the end bit-identical', async () => {
    // what a run of 4 epochs killed in epoch 3 leaves: the checkpoint of epoch 2, rows logged up to
    // epoch 3 (taken from a run of 3 epochs: the same numbers), a torn line, a half-written checkpoint
    const dir = await interruptedRun();
    const three = newDir();
    await runExperiment({ resolved: experiment({ epochs: 3 }), store: await RunStore.create(three), backend: 'cpu', skipAnalyses: true });
    const logged = await fsp.readFile(join(three, 'metrics.jsonl'), 'utf8');
    await fsp.writeFile(join(dir, 'metrics.jsonl'), `${logged}{"kind":"step","step":4`);
    const tmp = join(dir, 'checkpoints', `.last.tmp-${deadPid}-x-1`);
    await fsp.mkdir(tmp);
    await fsp.writeFile(join(tmp, 'weights.bin'), 'half');
    const log: string[] = [];
    const outcome = await resume(dir, experiment({ epochs: 4 }), log);
    expect(outcome.status).toBe('completed');
    expect(log).toContain(`resuming ${dir} from checkpoint last (epoch 2)`);
    expect(log.some((l) => /^dropped \d+ metrics row\(s\) logged after the checkpoint/.test(l))).toBe(true);
    expect(log.some((l) => l.includes(`checkpoints/.last.tmp-${deadPid}-x-1`))).toBe(true);
    expect(await fsp.readdir(join(dir, 'checkpoints'))).not.toContain(`.last.tmp-${deadPid}-x-1`);

    const straight = newDir();
    const whole = await runExperiment({ resolved: experiment({ epochs: 4 }), store: await RunStore.create(straight), backend: 'cpu', skipAnalyses: true });
    expect(outcome.final).toEqual(whole.final);
    const weights = (d: string) => fsp.readFile(join(d, 'checkpoints', 'last', 'weights.bin'));
    expect((await weights(dir)).equals(await weights(straight))).toBe(true);
    const rows = async (d: string) => (await RunStore.create(d, { resume: true })).readMetrics();
    expect(withoutTime(await rows(dir))).toEqual(withoutTime(await rows(straight)));
  });

  it('a divergence at the first update keeps the initial parameters as the last good checkpoint, and the row', async () => {
    const dir = newDir();
    const store = await RunStore.create(dir);
    const diverging = experiment({ train: { optimizer: 'sgd', lr: 1e30, logEvery: 100 } });
    const outcome = await runExperiment({ resolved: diverging, store, backend: 'cpu', skipAnalyses: true });
    expect(outcome.status).toBe('diverged');
    // the loss of step 1 is that of the initial parameters; the first update makes step 2's infinite
    expect(outcome.message).toMatch(/diverged at step 2 \(epoch 1, batch 2\)/);
    expect(await store.lastCheckpointTag()).toBe('init');
    const init = await store.loadCheckpoint('last');
    expect(init.meta).toEqual({ epoch: 0, step: 0 });
    disposeParams(init.params);
    const rows = await store.readMetrics();
    expect(rows).toEqual([{ kind: 'step', step: 2, epoch: expect.any(Number), loss: null, lr: 1e30 }]);
    // resuming it (with a sane lr, which is a different experiment) is refused; with the same, it starts from init
    expect(await refusal(dir, experiment({ train: { optimizer: 'sgd', lr: 0.01, logEvery: 100 } }))).toContain('train.lr: 1e+30 in the run, 0.01 in the experiment');
    const log: string[] = [];
    expect((await resume(dir, diverging, log)).status).toBe('diverged');
    expect(log).toContain(`resuming ${dir} from checkpoint init (epoch 0)`);
    expect(log).toContain('dropped 1 metrics row(s) logged after the checkpoint (they are computed again)');
    expect(await (await RunStore.create(dir, { resume: true })).readMetrics()).toHaveLength(1);
  });
});
