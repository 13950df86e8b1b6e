import * as tf from '@tensorflow/tfjs-core';
import { Rng, createAnalysisContext, disposeParams, flatLoss, flattenParams, gradientOf, unflattenParams } from '@goldstone/core';
import { headlineIssues, silentProgress, type AnalysisPlugin, type AnalysisResult, type ModelInstance, type Params, type Split, type TaskInstance } from '@goldstone/plugin-api';
import type { Check, TestPluginOptions } from './check';
import { checkIssuesShape, fail, parsedOptions } from './check-common';
import { assertJson } from './json';
import { expectNoLeaks } from './leaks';
import { toyRegressionTask } from './toy-task';
import { toyMlp } from './toy-models';

function tensorsOf(s: Split): [tf.Tensor, tf.Tensor] {
  return [tf.tensor(s.x, [s.n, ...s.xShape], 'float32'), tf.tensor(s.y, [s.n, ...s.yShape], 'float32')];
}

/**
 * The default setting an analysis is checked in: the toy regression task, a tanh toy MLP, and its
 * parameters after 50 steps of full-batch gradient descent (so they are not a random point).
 * The caller owns the returned parameters.
 */
export async function toyAnalysisSetting(seed = 1): Promise<{ task: TaskInstance; model: ModelInstance; params: Params }> {
  const rng = new Rng(seed);
  const task = await toyRegressionTask.create(toyRegressionTask.options.parse({}), { rng: rng.split('task') });
  const model = toyMlp.create(toyMlp.options.parse({}), {
    inputShape: task.inputShape,
    outputSize: task.outputSize,
    outputKind: task.outputKind,
  });
  const init = model.init(rng.split('init'));
  let w = flattenParams(init, model.specs);
  disposeParams(init);
  const [x, y] = tensorsOf(task.splits.train);
  const f = flatLoss(model, task.loss, x, y);
  for (let step = 0; step < 50; step++) {
    const g = gradientOf(f, w);
    const next = tf.tidy(() => tf.sub(w, tf.mul(g, 0.1)) as tf.Tensor1D);
    tf.dispose([g, w]);
    w = next;
  }
  const params = tf.tidy(() => unflattenParams(w, model.specs));
  tf.dispose([w, x, y]);
  return { task, model, params };
}

export function analysisChecks(plugin: AnalysisPlugin, opts: TestPluginOptions): Check[] {
  const seed = opts.seed ?? 1;
  const repeats = Math.min(opts.repeats ?? 2, 2);
  let setting: Promise<{ task: TaskInstance; model: ModelInstance; params: Params }> | undefined;
  const getSetting = () =>
    (setting ??= (async () => {
      const c = opts.context ?? {};
      if (c.task && c.model && c.params) return { task: c.task, model: c.model, params: c.params };
      const toy = await toyAnalysisSetting(seed);
      if (c.params && !(c.task && c.model)) fail('context.params needs context.task and context.model');
      return { task: c.task ?? toy.task, model: c.model ?? toy.model, params: c.params ?? toy.params };
    })());
  const run = async (): Promise<AnalysisResult> => {
    const s = await getSetting();
    const ctx = createAnalysisContext({
      ...s,
      seed,
      backend: tf.getBackend(),
      analysis: plugin.name,
      progress: silentProgress,
      previous: opts.context?.previous ?? {},
    });
    return plugin.run(ctx, parsedOptions(plugin, opts) as never);
  };
  let first: Promise<AnalysisResult> | undefined;
  const firstRun = () => (first ??= run());

  const checks: Check[] = [
    {
      name: 'check (if declared) returns nothing or well-formed issues, and does not throw',
      async run() {
        if (!plugin.check) return;
        const s = await getSetting();
        checkIssuesShape(plugin.check(parsedOptions(plugin, opts) as never, { task: s.task, model: s.model, train: { epochs: 1000, batchSize: 32, optimizer: 'adam' }, memoryLimit: 2 ** 34 }));
      },
    },
    {
      name: 'run returns a JSON-serialisable result with provenance naming the analysis',
      async run() {
        const r = await firstRun();
        if (typeof r !== 'object' || r === null) fail('run did not return an object');
        assertJson(r.result, '$result');
        if (typeof r.provenance !== 'object' || r.provenance === null) fail('the result has no provenance');
        assertJson(r.provenance, '$provenance');
        if (r.provenance.analysis !== plugin.name) fail(`provenance.analysis is "${r.provenance.analysis}", expected "${plugin.name}"`);
        if (r.provenance.seed !== seed) fail(`provenance.seed is ${r.provenance.seed}, expected the context's seed ${seed}`);
        if (typeof r.provenance.backend !== 'string') fail('provenance.backend is not a string');
        const copy = JSON.parse(JSON.stringify({ result: r.result, provenance: r.provenance }));
        if (JSON.stringify(copy) !== JSON.stringify({ result: r.result, provenance: r.provenance })) fail('the result does not round-trip through JSON');
      },
    },
    {
      name: 'declares its headline numbers, each with an error bar (headlineIssues finds nothing)',
      async run() {
        const r = await firstRun();
        if (r.headline === undefined) {
          fail(
            `${plugin.name} declares no headline: return \`headline: HeadlineNumber[]\` beside \`result\` (2–6 numbers a reader quotes first, ` +
              'each with stderr, interval + level, or exact: true; value: null with a note when it could not be measured). ' +
              'The run summary, `goldstone compare` and the report card show them; see HeadlineNumber in @goldstone/plugin-api.',
          );
        }
        const issues = headlineIssues(r.headline);
        if (issues.length > 0) fail(`the headline breaks the contract (the runner would drop it):\n  ${issues.join('\n  ')}`);
        if (r.headline.length === 0) fail('the headline is empty: declare at least one number a reader quotes first');
        assertJson(r.headline, '$headline');
      },
    },
    {
      name: 'figures, if any, are named Vega-Lite specs',
      async run() {
        const r = await firstRun();
        if (r.figures === undefined) return;
        if (!Array.isArray(r.figures)) fail('figures is not an array');
        const names = new Set<string>();
        r.figures.forEach((fig, i) => {
          if (typeof fig !== 'object' || fig === null) fail(`figures[${i}] is not an object`);
          if (typeof fig.name !== 'string' || fig.name === '') fail(`figures[${i}] has no name`);
          if (names.has(fig.name)) fail(`two figures are named "${fig.name}"`);
          names.add(fig.name);
          if (typeof fig.title !== 'string') fail(`figure "${fig.name}" has no title`);
          if (typeof fig.spec !== 'object' || fig.spec === null || Array.isArray(fig.spec)) fail(`figure "${fig.name}" has no spec object`);
          assertJson(fig.spec, `$figures[${i}].spec`);
        });
      },
    },
    {
      name: 'the same seed gives the same result',
      async run() {
        const a = await firstRun();
        const b = await run();
        const ja = JSON.stringify({ result: a.result, headline: a.headline, provenance: a.provenance, figures: a.figures });
        const jb = JSON.stringify({ result: b.result, headline: b.headline, provenance: b.provenance, figures: b.figures });
        if (ja !== jb) fail('two runs with the same seed gave different results');
      },
    },
    {
      name: 'run leaks no tensors',
      async run() {
        await firstRun();
        await expectNoLeaks(() => run(), repeats);
      },
    },
  ];
  if (plugin.summarize) {
    checks.push({
      name: 'summarize over several runs gives a JSON-serialisable summary',
      async run() {
        const r = await firstRun();
        const out = plugin.summarize!(
          [
            { run: 'a', settings: { seed }, result: r },
            { run: 'b', settings: { seed: seed + 1 }, result: r },
          ],
          parsedOptions(plugin, opts) as never,
        );
        assertJson(out.result, '$summary.result');
        for (const fig of out.figures ?? []) assertJson(fig.spec, `$summary.figures.${fig.name}`);
      },
    });
  }
  return checks;
}

