import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '@goldstone/plugin-api';
import { parseExperiment, prepareExperiment, resolveExperiment } from '@goldstone/runner';
import { mlp } from '@goldstone/models';
import { toyRegressionTask, usageErrorOf } from '@goldstone/testkit';
import { varianceFlatness } from './variance-flatness';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const FILE = 'exp.yaml';

function registry(): Registry {
  const r = new Registry();
  for (const p of [toyRegressionTask, mlp, varianceFlatness]) r.add(p, { package: 'test', version: '0.0.0' });
  return r;
}

/** toy-regression: 64 training examples by default; batches of 16 → 4 steps per epoch. */
async function prepare(train: Record<string, unknown>, options: Record<string, unknown> = {}) {
  const exp = parseExperiment(
    { task: { name: 'toy-regression' }, model: { name: 'mlp', options: { hidden: [4, 4] } }, train, analyses: [{ name: 'variance-flatness', options }] },
    { file: FILE },
  );
  return prepareExperiment(resolveExperiment(exp, registry(), FILE), { file: FILE });
}

const usageError = (...args: Parameters<typeof prepare>) => usageErrorOf(prepare(...args));

describe('variance-flatness options are checked before training (the check hook)', () => {
  it('windowEpochs longer than train.epochs is an exit-2 error naming both, not a silent clamp', async () => {
    const err = await usageError({ epochs: 3, batchSize: 16 }, { windowEpochs: 10 });
    expect(err.message).toBe('exp.yaml: analyses[0].options.windowEpochs: a window of the last 10 epochs is longer than the training (train.epochs: 3); use at most 3');
    expect(err.field).toBe('analyses[0].options.windowEpochs');
    // the default window of 10 epochs against a shorter training is the same mistake
    expect((await usageError({ epochs: 5, batchSize: 16 })).field).toBe('analyses[0].options.windowEpochs');
    await expect(prepare({ epochs: 3, batchSize: 16 }, { windowEpochs: 3 })).resolves.toBeDefined();
  });

  it('unknown params name analyses[0].options.params[i] and list the parameters', async () => {
    const err = await usageError({ epochs: 3, batchSize: 16 }, { windowEpochs: 2, params: ['dense1.weight', 'w'] });
    expect(err.message).toBe(
      'exp.yaml: analyses[0].options.params[1]: the model has no parameter "w" (it has: dense0.weight, dense0.bias, dense1.weight, dense1.bias, dense2.weight, dense2.bias)',
    );
  });

  it('a window that records fewer than 3 snapshots names every', async () => {
    const err = await usageError({ epochs: 2, batchSize: 64 }, { windowEpochs: 1, every: 5 });
    expect(err.message).toBe(
      'exp.yaml: analyses[0].options.every: recording every 5 steps of the last 1 epochs (1 steps each) gives 1 snapshots; at least 3 are needed: lower every or widen the window',
    );
  });

  it('learning-time windows: lr (default train.lr) must equal train.lr, the windows lie inside the training, the end defaults to the end of training', async () => {
    // 4 steps per epoch, 5 epochs: 20 steps, t = 0.05·20 = 1 at the end of training
    const train = { epochs: 5, batchSize: 16, lr: 0.05 };
    const lrErr = await usageError(train, { lr: 0.1, windowLength: 0.2, windowEnd: 1 });
    expect(lrErr.message).toBe("exp.yaml: analyses[0].options.lr: lr places the windows in learning time and must equal the run's learning rate (train.lr: 0.05); found 0.1 (leave lr out to use the run's)");
    const late = await usageError(train, { lr: 0.05, windowLength: 0.2, windowEnds: [0.5, 1.5], every: 1 });
    expect(late.message).toBe('exp.yaml: analyses[0].options.windowEnds: a window ending at learning time t = 1.5 (step 30) ends after the training (t = α·steps = 0.05·20 = 1); use at most 1');
    const early = await usageError(train, { lr: 0.05, windowLength: 0.5, windowEnd: 0.3 });
    expect(early.field).toBe('analyses[0].options.windowLength');
    // without lr the run's train.lr places the windows; without an end the window ends with the training
    await expect(prepare(train, { windowLength: 0.5, every: 1 })).resolves.toBeDefined();
    const tooLong = await usageError(train, { windowLength: 1.5 });
    expect(tooLong.message).toBe('exp.yaml: analyses[0].options.windowLength: a window of length 1.5 ending at t = 1 would start before training (at step -9); shorten windowLength or move the end after t = 1.5');
    // an end without a length is still an error
    const noLength = await usageError(train, { windowEnd: 1 });
    expect(noLength.field).toBe('analyses[0].options.windowLength');
    const both = await usageError(train, { lr: 0.05, windowLength: 0.5, windowEnd: 1, windowEpochs: 2 });
    expect(both.field).toBe('analyses[0].options.windowEpochs');
    await expect(prepare(train, { lr: 0.05, windowLength: 0.25, windowEnds: [0.5, 1], every: 1 })).resolves.toBeDefined();
  });
});
