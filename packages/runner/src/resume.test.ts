import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { promises as fsp } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry, silentProgress, UsageError, type Progress } from '@goldstone/plugin-api';
import { RunStore } from '@goldstone/run-store';
import { snapshotDir } from '@goldstone/run-store/test-support';
import { toyMlp, toyRegressionTask } from '@goldstone/testkit';
import { parseExperiment } from './experiment';
import { resolveExperiment, runExperiment, type RunOutcome } from './run-experiment';

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
  const dir = newDir();
  const store = await RunStore.create(dir);
  const outcome = await runExperiment({ resolved: experiment(), store, backend: 'cpu', skipAnalyses: true });
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
    const message = await refusal(dir, experiment({ epochs: 4, hidden: 6 }));
    expect(message).toContain('does not fit the model "toy-mlp" the config builds');
    expect(message).toContain('"W1": [4,4] in the checkpoint, [4,6] in the model');
    expect(message).toContain('"b1": [4] in the checkpoint, [6] in the model');
  });

  it('refuses a checkpoint after the last epoch asked for, and optimiser state of another optimiser', async () => {
    const dir = await interruptedRun();
    expect(await refusal(dir, experiment({ epochs: 1 }))).toMatch(/after epoch 2, but train\.epochs is 1/);
    expect(await refusal(dir, experiment({ epochs: 4, train: { optimizer: 'sgd', momentum: 0.9 } }))).toMatch(/optimiser state .* train\.optimizer "sgd"/);
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
    expect(await refusal(dir)).toMatch(/holds the checkpoint epoch-2, but no last\.json says which one is the last good one/);
  });
});
