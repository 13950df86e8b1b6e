import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { API_VERSION, defineModel, defineTask, Registry, UsageError, type Plugin } from '@goldstone/plugin-api';
import { toyLinearModel, toyRegressionTask, usageErrorOf } from '@goldstone/testkit';
import { blockMlp, deepSets, embeddingDecoder, gnn, mlp } from '@goldstone/models';
import { clt } from '@goldstone/task-clt';
import { mnist } from '@goldstone/task-mnist';
import { hessian } from '@goldstone/analysis-hessian';
import { robustness } from '@goldstone/analysis-robustness';
import { compressibility } from '@goldstone/analysis-compressibility';
import { distillation } from '@goldstone/analysis-distillation';
import { parseExperiment } from './experiment';
import { loadExperimentFile } from './experiment-file';
import { memoryBudget, MEMORY_LIMIT_ENV, parseByteSize, WASM_HEAP_MAX, type MemoryBudget } from './memory-budget';
import { registryFor, type PluginEnvironment } from './plugin-environment';
import { prepareExperiment } from './preflight';
import { prepareOutDir } from './run-directory';
import { resolveExperiment } from './resolve';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const FILE = 'exp.yaml';
const BUILTINS: Plugin[] = [clt, mnist, mlp, blockMlp, gnn, deepSets, embeddingDecoder, hessian, robustness, compressibility, distillation];

function registryOf(plugins: readonly Plugin[]): Registry {
  const r = new Registry();
  for (const p of plugins) r.add(p, { package: 'test', version: '0.0.0' });
  return r;
}

/** A budget from a given limit (as GOLDSTONE_MEMORY_LIMIT would set it), independent of this machine. */
const limit = (size: string, backend = 'cpu'): MemoryBudget => memoryBudget({ backend, env: { [MEMORY_LIMIT_ENV]: size } });

const SMALL_CLT = { trainSize: 64, testSize: 32, oodSize: 16 };
const base = (over: Record<string, unknown> = {}) => ({
  task: { name: 'clt', options: SMALL_CLT },
  model: { name: 'mlp', options: { hidden: [8] } },
  train: { epochs: 3, batchSize: 16 },
  ...over,
});

async function prepare(raw: Record<string, unknown>, opts: { budget?: MemoryBudget; plugins?: readonly Plugin[] } = {}) {
  const exp = parseExperiment(raw, { file: FILE });
  const resolved = resolveExperiment(exp, registryOf(opts.plugins ?? BUILTINS), FILE);
  return prepareExperiment(resolved, { file: FILE, budget: opts.budget ?? limit('8GiB') });
}

/** The UsageError a preparation fails with. */
const usageError = (raw: Record<string, unknown>, opts: Parameters<typeof prepare>[1] = {}) => usageErrorOf(prepare(raw, opts));

describe('prepareExperiment: names in train', () => {
  it('an unknown train.groups name names the file, the field and the groups that exist', async () => {
    const err = await usageError(base({ train: { epochs: 3, groups: { dense0: { lr: 0.1 }, encoder: { lr: 0.01 } } } }));
    expect(err.message).toBe('exp.yaml: train.groups.encoder: the model "mlp" has no parameter group "encoder" (it has: dense0, dense1)');
    expect(err.file).toBe(FILE);
    expect(err.field).toBe('train.groups.encoder');
  });

  it('an unknown symmetryPenalty.symmetry names the file, the field and the symmetries that exist', async () => {
    const err = await usageError(base({ train: { epochs: 3, symmetryPenalty: { form: 'sampled', lambda: 0.1, symmetry: 'rotation' } } }));
    expect(err.message).toBe('exp.yaml: train.symmetryPenalty.symmetry: the task has no symmetry "rotation" (it has: permute-within-blocks)');
    expect(err.field).toBe('train.symmetryPenalty.symmetry');
  });

  it('known names pass, and the groups come back resolved', async () => {
    const prepared = await prepare(base({ train: { epochs: 3, groups: { dense1: { lr: 0.1 } }, symmetryPenalty: { form: 'sampled', lambda: 0.1, symmetry: 'permute-within-blocks' } } }));
    expect(prepared.groups).toEqual([{ name: 'dense1', params: ['dense1.weight', 'dense1.bias'], lr: 0.1 }]);
  });
});

describe('cross-field rules of the models', () => {
  it('tied or shared without block fails in resolveExperiment (the schema), naming model.options.block', () => {
    for (const name of ['block-mlp', 'mlp']) {
      for (const flag of ['tied', 'shared']) {
        const exp = parseExperiment(base({ model: { name, options: { hidden: [4], [flag]: true } } }), { file: FILE });
        expect(() => resolveExperiment(exp, registryOf(BUILTINS), FILE)).toThrow(new RegExp(`^exp\\.yaml: model\\.options\\.block: ${flag}: true needs block`));
      }
    }
  });

  it("a block that does not divide the task's sites is found before model.create, naming model.options.block", async () => {
    const create = vi.fn(blockMlp.create);
    const err = await usageError(base({ model: { name: 'block-mlp', options: { block: 3, tied: true } } }), { plugins: [clt, { ...blockMlp, create }] });
    expect(err.message).toBe("exp.yaml: model.options.block: block 3 must divide the task's 16 input sites (divisors: 1, 2, 4, 8, 16)");
    expect(create).not.toHaveBeenCalled();
  });

  it('shared weights whose outputs do not divide by the blocks name model.options.shared', async () => {
    const err = await usageError(base({ task: { name: 'clt', options: { ...SMALL_CLT, sites: 8, block: 4 } }, model: { name: 'block-mlp', options: { block: 2, shared: true } } }));
    expect(err.message).toBe("exp.yaml: model.options.shared: shared weights give the same outputs per block, but the task's 2 outputs are not a multiple of its 4 blocks of 2 sites");
  });

  it('graph, set and embedding models check the task shapes before create', async () => {
    const gnnGraph = await usageError(base({ model: { name: 'gnn', options: { graph: { kind: 'complete', size: 100000 } } } }));
    expect(gnnGraph.message).toBe("exp.yaml: model.options.graph.size: the graph has 100000 nodes but the task's inputs have 16 (inputShape [16])");
    const gnnBlock = await usageError(base({ model: { name: 'gnn', options: { readout: 'block', block: 3 } } }));
    expect(gnnBlock.message).toBe('exp.yaml: model.options.block: block 3 must divide the 16 nodes for the block readout');
    const sets = await usageError(base({ model: { name: 'deep-sets' } }));
    expect(sets.message).toBe("exp.yaml: model.options: deep-sets needs inputs of shape [elements, features]; the task's inputs are [16]");
    const pairs = await usageError(base({ model: { name: 'embedding-decoder' } }));
    expect(pairs.message).toMatch(/^exp\.yaml: model\.options: embedding-decoder needs inputs of shape \[2\]/);
  });
});

describe('impossible sizes', () => {
  it('hidden: [100000, 100000] is an error naming model.options.hidden, with the estimate and the limit, and model.create never runs', async () => {
    const create = vi.fn(mlp.create);
    const err = await usageError(base({ model: { name: 'mlp', options: { hidden: [100000, 100000] } } }), { plugins: [clt, { ...mlp, create }], budget: limit('12GiB') });
    expect(err.message).toBe(
      'exp.yaml: model.options.hidden: the model would have 1.0e10 parameters (~149 GiB to train with adam), more than the limit of 12 GiB set by GOLDSTONE_MEMORY_LIMIT',
    );
    expect(err.field).toBe('model.options.hidden');
    expect(create).not.toHaveBeenCalled();
  });

  it('with this machine as the budget, the message names its limit', async () => {
    const err = await usageError(base({ model: { name: 'mlp', options: { hidden: [100000, 100000] } } }), { budget: memoryBudget({ backend: 'cpu', env: {} }) });
    expect(err.message).toMatch(/^exp\.yaml: model\.options\.hidden: the model would have 1\.0e10 parameters \(~149 GiB to train with adam\), more than this machine's limit of [\d.]+ [GT]iB \(half of its/);
  });

  it('clt trainSize: 1e9 is an error naming task.options.trainSize before any data is drawn', async () => {
    const create = vi.fn(clt.create);
    const err = await usageError(base({ task: { name: 'clt', options: { trainSize: 1e9 } } }), { plugins: [{ ...clt, create }, mlp] });
    expect(err.message).toMatch(/^exp\.yaml: task\.options\.trainSize: the task's data \(8 splits of 1\.0e9 examples in all, 24 values each\) would need an array of 1\.6e10 values, more than the 4\.3e9 this JavaScript engine allocates in one array$/);
    expect(create).not.toHaveBeenCalled();
    const smaller = await usageError(base({ task: { name: 'clt', options: { trainSize: 1e8 } } }), { plugins: [{ ...clt, create }, mlp] , budget: limit('4GiB') });
    expect(smaller.message).toMatch(/^exp\.yaml: task\.options\.trainSize: the task's data \(.*\) would take ~8\.9 GiB, more than the limit of 4 GiB set by GOLDSTONE_MEMORY_LIMIT$/);
    expect(create).not.toHaveBeenCalled();
  });

  it('clt sites and ood sizes are blamed when they are what is big', async () => {
    const sites = await usageError(base({ task: { name: 'clt', options: { ...SMALL_CLT, sites: 2 ** 30, block: 1 } } }), { budget: limit('1GiB') });
    expect(sites.field).toBe('task.options.sites');
    const ood = await usageError(base({ task: { name: 'clt', options: { ...SMALL_CLT, oodSize: 1e8 } } }), { budget: limit('1GiB') });
    expect(ood.field).toBe('task.options.oodSize');
  });

  it('mnist trainSize: 1e9 fails in its schema (the package ships 10,000 digits)', () => {
    const exp = parseExperiment(base({ task: { name: 'mnist', options: { trainSize: 1e9 } } }), { file: FILE });
    expect(() => resolveExperiment(exp, registryOf(BUILTINS), FILE)).toThrow(/^exp\.yaml: task\.options\.trainSize: Too big: expected number to be <=9999/);
  });

  it('a batch whose activations do not fit names train.batchSize', async () => {
    const err = await usageError(
      base({ task: { name: 'clt', options: { trainSize: 100000, testSize: 16, oodSize: 16 } }, model: { name: 'mlp', options: { hidden: [4096, 4096] } }, train: { epochs: 1, batchSize: 100000 } }),
      { budget: limit('4GiB') },
    );
    expect(err.message).toMatch(/^exp\.yaml: train\.batchSize: a batch of 100000 examples would take ~6\.1 GiB of activations to train \(~6\.4 GiB in all\), more than the limit of 4 GiB/);
  });

  it("a graph network's activations count every node (the model's estimate says so)", async () => {
    const err = await usageError(
      base({ task: { name: 'clt', options: { sites: 4096, trainSize: 2048, testSize: 16, oodSize: 16 } }, model: { name: 'gnn', options: { hidden: [256, 256] } }, train: { epochs: 1, batchSize: 2048 } }),
    );
    expect(err.message).toMatch(/^exp\.yaml: train\.batchSize: a batch of 2048 examples would take ~32\.1 GiB of activations to train \(~32\.1 GiB in all\), more than the limit of 8 GiB/);
  });

  it('on wasm, tensors are limited by its 4 GiB heap whatever the machine has', async () => {
    const budget = limit('100GB', 'wasm');
    expect(budget.tensors).toBe(WASM_HEAP_MAX);
    const err = await usageError(base({ model: { name: 'mlp', options: { hidden: [20000, 20000] } } }), { budget });
    expect(err.message).toBe("exp.yaml: model.options.hidden: the model would have 4.0e8 parameters (~6 GiB to train with adam), more than the wasm backend's limit of 4 GiB of tensors");
  });

  it("a model plugin without hooks is still checked after create, from its specs (field: model.options)", async () => {
    const huge = defineModel({
      name: 'huge',
      apiVersion: API_VERSION,
      options: z.strictObject({ width: z.number().default(100000) }),
      create: (o) => ({
        specs: [{ name: 'w', shape: [o.width, o.width] }],
        paramCount: o.width * o.width,
        init: () => {
          throw new Error('init must not run');
        },
        apply: (_p, x) => x,
      }),
    });
    const err = await usageError(base({ model: { name: 'huge' } }), { plugins: [clt, huge] });
    expect(err.message).toBe('exp.yaml: model.options: the model would have 1.0e10 parameters (~149 GiB to train with adam), more than the limit of 8 GiB set by GOLDSTONE_MEMORY_LIMIT');
    const sgd = await usageError(base({ model: { name: 'huge' }, train: { optimizer: 'sgd', lr: 0.1 } }), { plugins: [clt, huge] });
    expect(sgd.message).toMatch(/~74.6 GiB to train with sgd/);
    // the model fits alone, but not with the task's data
    const withData = await usageError(
      { task: { name: 'toy-regression', options: { trainSize: 200000, testSize: 16, inputs: 100 } }, model: { name: 'huge', options: { width: 4472 } } },
      { plugins: [toyRegressionTask, huge], budget: limit('350MiB') },
    );
    expect(withData.message).toBe(
      "exp.yaml: model.options: the model would have 2.0e7 parameters (~326 MiB to train with adam), which with the task's 77.8 MiB of data is more than the limit of 350 MiB set by GOLDSTONE_MEMORY_LIMIT",
    );
    const array = await usageError(base({ model: { name: 'huge', options: { width: 80000 } } }), { plugins: [clt, huge], budget: limit('1PB') });
    expect(array.message).toBe('exp.yaml: model.options: the parameter "w" would have 6.4e9 values, more than the 4.3e9 this JavaScript engine allocates in one array');
  });

  it('a gnn on a huge given graph names model.options.graph.size before the graph is built', async () => {
    const err = await usageError(
      base({ task: { name: 'clt', options: { ...SMALL_CLT, sites: 50000, block: 50000 } }, model: { name: 'gnn', options: { graph: { kind: 'complete', size: 50000 }, hidden: [2] } } }),
    );
    expect(err.message).toMatch(/^exp\.yaml: model\.options\.graph\.size: model "gnn" \(a complete graph of 50000 nodes and 2\.5e9 directed edges\) would take ~\d+ GiB, more than the limit of 8 GiB/);
  });

  it('a graph whose construction does not fit in the JavaScript heap names the graph, with the heap left', async () => {
    const raw = base({ task: { name: 'clt', options: { ...SMALL_CLT, sites: 3000, block: 3000 } }, model: { name: 'gnn', options: { graph: { kind: 'complete', size: 3000 }, hidden: [2] } } });
    const err = await usageError(raw, { budget: { ...limit('8GiB'), heap: 2 ** 28 } });
    expect(err.message).toBe(
      "exp.yaml: model.options.graph.size: model \"gnn\" (a complete graph of 3000 nodes and 9.0e6 directed edges) would take ~1 GiB of JavaScript objects, more than the 256 MiB the engine's heap has free (node --max-old-space-size raises its limit)",
    );
  });
});

describe('plugins whose create throws', () => {
  const throwing = (error: Error) =>
    defineTask({
      name: 'boom',
      apiVersion: API_VERSION,
      options: z.strictObject({}),
      create: () => {
        throw error;
      },
    });

  it('a RangeError or TypeError from task.create or model.create becomes a UsageError naming their options', async () => {
    const task = await usageError(base({ task: { name: 'boom' } }), { plugins: [throwing(new RangeError('Invalid typed array length: 5')), mlp] });
    expect(task.message).toBe('exp.yaml: task.options: the task "boom" cannot be built from these options: Invalid typed array length: 5');
    expect(task.field).toBe('task.options');
    const bad = defineModel({
      name: 'bad',
      apiVersion: API_VERSION,
      options: z.strictObject({}),
      create: () => {
        throw new TypeError('cannot read width');
      },
    });
    const model = await usageError(base({ model: { name: 'bad' } }), { plugins: [clt, bad] });
    expect(model.message).toBe('exp.yaml: model.options: the model "bad" cannot be built from these options: cannot read width');
  });

  it('other errors stay internal errors', async () => {
    const err = await prepare(base({ task: { name: 'boom' } }), { plugins: [throwing(new Error('disk on fire')), mlp] }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe('disk on fire');
  });

  it('plugins without any hook (written before them) prepare as before', async () => {
    const prepared = await prepare({ task: { name: 'toy-regression' }, model: { name: 'toy-linear' }, train: { epochs: 1 } }, { plugins: [toyRegressionTask, toyLinearModel] });
    expect(prepared.model.paramCount).toBeGreaterThan(0);
    expect(prepared.memory.training).toBeGreaterThan(0);
  });
});

describe('analysis options checked before training', () => {
  const PARAMS = 'dense0.weight, dense0.bias, dense1.weight, dense1.bias';

  it('unknown params and splits name analyses[i].options.FIELD and list what exists, for every built-in analysis', async () => {
    const err = await usageError(
      base({
        analyses: [
          { name: 'hessian', options: { params: ['dense0.weight', 'dense9.weight'] } },
          { name: 'hessian', options: { split: 'ood' } },
          { name: 'compressibility', options: { split: 'validation' } },
          { name: 'robustness', options: { weightSplit: 'nope' } },
          { name: 'distillation', options: { poolSplit: 'unlabelled' } },
        ],
      }),
    );
    const splits = 'train, test, ood-gaussian, ood-uniform, ood-laplace, ood-spins, ood-gamma, ood-student-t';
    expect(err.message.split('\n')).toEqual([
      `exp.yaml: analyses[0].options.params[1]: the model has no parameter "dense9.weight" (it has: ${PARAMS})`,
      `exp.yaml: analyses[1].options.split: the task has no split "ood" (it has: ${splits})`,
      `exp.yaml: analyses[2].options.split: the task has no split "validation" (it has: ${splits})`,
      `exp.yaml: analyses[3].options.weightSplit: the task has no split "nope" (it has: ${splits})`,
      `exp.yaml: analyses[4].options.poolSplit: the task has no split "unlabelled" (it has: ${splits})`,
    ]);
    expect(err.field).toBe('analyses[0].options.params[1]');
  });

  it('compressibility of a model without weight matrices names include', async () => {
    const scales = defineModel({
      name: 'scales',
      apiVersion: API_VERSION,
      options: z.strictObject({}),
      create: (_o, ctx) => ({
        specs: [{ name: 'scale', shape: [ctx.outputSize] }],
        paramCount: ctx.outputSize,
        init: () => ({ scale: tf.ones([ctx.outputSize]) }),
        apply: (p, x) => tf.mul(tf.slice(x, [0, 0], [-1, ctx.outputSize]), p.scale),
      }),
    });
    const err = await usageError(base({ model: { name: 'scales' }, analyses: [{ name: 'compressibility', options: { include: 'weights' } }] }), { plugins: [clt, scales, compressibility] });
    expect(err.message).toBe('exp.yaml: analyses[0].options.include: the model has no parameters of rank ≥ 2 to compress (it has: scale [8]); use include: all');
  });

  it('hessian method: exact on a model whose dense Hessian does not fit names method', async () => {
    const err = await usageError(base({ model: { name: 'mlp', options: { hidden: [1000] } }, analyses: [{ name: 'hessian', options: { method: 'exact' } }] }), { budget: limit('1GiB') });
    expect(err.message).toBe('exp.yaml: analyses[0].options.method: the exact method would hold dense 25008×25008 matrices (~14 GiB), more than the memory limit of 1 GiB; use method: lanczos');
    await expect(prepare(base({ model: { name: 'mlp', options: { hidden: [1000] } }, analyses: [{ name: 'hessian' }] }), { budget: limit('1GiB') })).resolves.toBeDefined();
  });

  it('a distillation student too big to train names its entry in students', async () => {
    const err = await usageError(base({ analyses: [{ name: 'distillation', options: { students: [[4], [100000, 100000]] } }] }), { budget: limit('12GiB') });
    expect(err.message).toBe('exp.yaml: analyses[0].options.students[1]: the student [100000, 100000] would have 1.0e10 parameters (~149 GiB to train), more than the memory limit of 12 GiB');
  });

  it('a check hook that throws a UsageError about its field is reported under analyses[i].options', async () => {
    const analysis = { ...hessian, name: 'strict', check: () => { throw new UsageError('topK: must be odd', { field: 'topK' }); } };
    const err = await usageError(base({ analyses: [{ name: 'strict' }] }), { plugins: [clt, mlp, analysis] });
    expect(err.message).toBe('exp.yaml: analyses[0].options.topK: must be odd');
  });
});

describe('the memory budget', () => {
  it('reads GOLDSTONE_MEMORY_LIMIT in bytes or with units, and refuses what it cannot read', () => {
    expect(parseByteSize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseByteSize('12 GB')).toBe(12e9);
    expect(parseByteSize('2e9')).toBe(2e9);
    expect(parseByteSize('lots')).toBeUndefined();
    expect(parseByteSize('-3GB')).toBeUndefined();
    expect(limit('4GiB').total).toBe(4 * 2 ** 30);
    expect(() => limit('lots')).toThrow(/^GOLDSTONE_MEMORY_LIMIT: expected a size such as 8GB, 512MiB or a number of bytes, got "lots"$/);
  });

  it("defaults to half the machine's memory", async () => {
    const { totalmem } = await import('node:os');
    const b = memoryBudget({ backend: 'cpu', env: {} });
    expect(b.total).toBe(Math.floor(totalmem() / 2));
    expect(b.totalLabel).toMatch(/^this machine's limit of .* \(half of its .*; set GOLDSTONE_MEMORY_LIMIT to change it\)$/);
  });
});

describe('a CLI-style run with the built-in plugins', () => {
  const root = mkdtempSync(join(tmpdir(), 'goldstone-preflight-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const here = dirname(fileURLToPath(import.meta.url));
  const env: PluginEnvironment = {
    builtins: {
      task: { clt: '@goldstone/task-clt' },
      model: { mlp: '@goldstone/models', 'block-mlp': '@goldstone/models' },
      analysis: { hessian: '@goldstone/analysis-hessian' },
    },
    bases: [here],
  };

  /** What `goldstone run FILE --out OUT --force` does before training, in its order: every check, then the run directory. */
  async function runUpToTraining(file: string, out: string): Promise<void> {
    const { experiment, dir } = loadExperimentFile(file);
    const registry = await registryFor(env, experiment, dir, file);
    const resolved = resolveExperiment(experiment, registry, file);
    await prepareExperiment(resolved, { file });
    prepareOutDir(out, true);
  }

  it.each([
    ['train.groups', 'train: { groups: { encoder: { lr: 0.1 } } }', /train\.groups\.encoder: the model "mlp" has no parameter group "encoder"/],
    ['symmetry', "train: { symmetryPenalty: { form: sampled, lambda: 0.1, symmetry: rotation } }", /train\.symmetryPenalty\.symmetry: the task has no symmetry "rotation"/],
    ['tied without block', 'model: { name: block-mlp, options: { tied: true } }', /model\.options\.block: tied: true needs block/],
    ['hidden', 'model: { name: mlp, options: { hidden: [100000, 100000] } }', /model\.options\.hidden: the model would have 1\.0e10 parameters \(~149 GiB to train with adam\), more than/],
    ['trainSize', 'task: { name: clt, options: { trainSize: 1000000000 } }', /task\.options\.trainSize: the task's data .* more than/],
    ['hessian params', 'analyses: [{ name: hessian, options: { params: [nope] } }]', /analyses\[0\]\.options\.params\[0\]: the model has no parameter "nope"/],
    ['hessian split', 'analyses: [{ name: hessian, options: { split: ood } }]', /analyses\[0\]\.options\.split: the task has no split "ood"/],
  ])('%s: exit-2 error naming the file and field, and the finished run under --out --force is untouched', async (_name, line, pattern) => {
    const dir = mkdtempSync(join(root, 'case-'));
    const out = join(dir, 'runs', 'old');
    // a finished run that --force would replace
    rmSync(out, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'run.json'), '{"status":"completed"}');
    writeFileSync(join(out, 'metrics.jsonl'), '{"step":1}\n');
    const sections: Record<string, string> = {
      task: 'task: { name: clt, options: { trainSize: 64, testSize: 32, oodSize: 16 } }',
      model: 'model: { name: mlp, options: { hidden: [4] } }',
      train: 'train: { epochs: 2, batchSize: 16 }',
      analyses: 'analyses: []',
    };
    const key = line.split(':')[0];
    sections[key] = key === 'train' ? line.replace('train: {', 'train: { epochs: 2, batchSize: 16,') : line;
    const file = join(dir, 'exp.yaml');
    writeFileSync(file, `${Object.values(sections).join('\n')}\n`);
    const err = await runUpToTraining(file, out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message.startsWith(`${file}: `)).toBe(true);
    expect((err as UsageError).message).toMatch(pattern);
    expect(readdirSync(out).sort()).toEqual(['metrics.jsonl', 'run.json']);
    expect(readFileSync(join(out, 'run.json'), 'utf8')).toBe('{"status":"completed"}');
    expect(existsSync(join(dir, 'runs', 'old'))).toBe(true);
  });
});
