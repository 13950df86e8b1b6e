import type { PluginNames } from './names';

/**
 * The analysis a new analysis package starts from: loss, gradient norm and curvature along the
 * gradient (a Hessian-vector product) at the trained parameters, on every split, with headline
 * numbers, a figure and provenance. Its test checks the numbers on a linear model, where they
 * are known in closed form.
 */
export function analysisSource({ plugin, identifier }: PluginNames): { index: string; test: string } {
  const index = `import * as tf from '@tensorflow/tfjs-core';
import { API_VERSION, checkSplit, defineAnalysis, packageInfo, z, type AnalysisContext, type HeadlineNumber } from '@goldstone/plugin-api';
import { barChart, flatLoss, flattenParams, gradientOf, hvp, splitTensors } from '@goldstone/core';

const { version } = packageInfo(import.meta.url);

/** What the analysis measures on one split, at the trained parameters. */
export type SplitReading = {
  split: string;
  examples: number;
  /** The task's data loss. */
  loss: number;
  /** ‖∇L‖, the norm of its gradient with respect to the flat parameter vector. */
  gradNorm: number;
  /** gᵀHg / gᵀg: the curvature of the loss along the gradient g (null where g = 0). */
  curvature: number | null;
};

/** Loss, gradient and curvature along the gradient on one split (every tensor made here is disposed). */
async function readSplit(ctx: AnalysisContext, w: tf.Tensor1D, split: string): Promise<SplitReading> {
  const data = ctx.task.splits[split];
  if (!data) throw new Error('split "' + split + '" not found (the task has: ' + Object.keys(ctx.task.splits).join(', ') + ')');
  // The split as tensors, and the loss as a function of the flat parameter vector.
  const { x, y } = splitTensors(data);
  const f = flatLoss(ctx.model, ctx.task.loss, x, y);
  const [loss, gg, gHg] = tf.tidy(() => {
    const g = gradientOf(f, w); // ∇L(w)
    const hg = hvp(f, w, g); // H(w)·g, by double backpropagation
    return [f(w), tf.dot(g, g), tf.dot(g, hg)];
  });
  const [l, g2, c] = await Promise.all([loss.data(), gg.data(), gHg.data()]);
  tf.dispose([x, y, loss, gg, gHg]);
  return { split, examples: data.n, loss: l[0], gradNorm: Math.sqrt(g2[0]), curvature: g2[0] > 0 ? c[0] / g2[0] : null };
}

/** The numbers to read first: whole splits at fixed parameters, so no sampling error. */
function headlineOf(rows: SplitReading[]): HeadlineNumber[] {
  const key = (name: string, split: string) => name + '.' + split.replace(/[^A-Za-z0-9_.-]/g, '_');
  const out: HeadlineNumber[] = [];
  for (const r of rows.filter((r) => r.split === 'train' || r.split === 'test')) {
    out.push({ key: key('loss', r.split), label: 'loss on ' + r.split, value: r.loss, exact: true, better: 'lower' });
  }
  const train = rows.find((r) => r.split === 'train');
  if (train) {
    out.push({ key: 'gradNorm.train', label: '‖∇L‖ on train', value: train.gradNorm, exact: true });
    out.push(
      train.curvature === null
        ? { key: 'curvature.train', label: 'gᵀHg/gᵀg on train', value: null, note: 'the gradient is zero' }
        : { key: 'curvature.train', label: 'gᵀHg/gᵀg on train', value: train.curvature, exact: true },
    );
  }
  return out;
}

/** Loss, gradient norm and curvature along the gradient at the trained parameters, per split. */
export const ${identifier} = defineAnalysis({
  name: '${plugin}',
  apiVersion: API_VERSION,
  description: 'Loss, gradient norm and curvature along the gradient at the trained parameters, per split',
  options: z.strictObject({
    splits: z.array(z.string()).min(1).optional().describe('the splits to measure (default: every split of the task)'),
  }),
  // Before training: a misspelt split is exit 2 naming the field, not a failed run.
  check: (options, { task }) => (options.splits ?? []).flatMap((s, i) => checkSplit(task, 'splits[' + i + ']', s)),
  async run(ctx, options) {
    const splits = options.splits ?? Object.keys(ctx.task.splits);
    const w = flattenParams(ctx.params, ctx.model.specs);
    const rows: SplitReading[] = [];
    ctx.progress.start('${plugin}', splits.length);
    try {
      for (const split of splits) {
        rows.push(await readSplit(ctx, w, split));
        ctx.progress.tick(1, { split });
      }
    } finally {
      w.dispose();
      ctx.progress.stop();
    }
    return {
      result: { splits: rows },
      headline: headlineOf(rows),
      figures: [
        barChart('grad-norm', 'Gradient norm per split', rows, { field: 'split', title: 'split' }, { field: 'gradNorm', title: '‖∇L‖' }),
      ],
      provenance: { analysis: '${plugin}', version, seed: ctx.seed, backend: ctx.backend, loss: ctx.task.loss, splits, hvp: 'double backprop' },
    };
  },
});
`;

  const test = `import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAnalysisContext, paramsFromArray, Rng } from '@goldstone/core';
import { testPlugin, toyLinearModel, toyRegressionTask } from '@goldstone/testkit';
import { ${identifier}, type SplitReading } from '../src/index';

// The conformance suite every goldstone plugin passes: kind, name and API version; the options
// schema; same seed → same JSON; no leaked tensors; JSON results with provenance and a valid headline.
testPlugin(${identifier}, { badOptions: { splits: 'train' } });

describe('${plugin}', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matches the closed form on a linear model at W = 0, b = 0', async () => {
    const task = await toyRegressionTask.create(toyRegressionTask.options.parse({ inputs: 3, outputs: 2 }), { rng: new Rng(1) });
    const model = toyLinearModel.create(toyLinearModel.options.parse({}), { inputShape: [3], outputSize: 2, outputKind: 'regression' });
    const params = paramsFromArray(new Float32Array(model.paramCount), model.specs);
    const out = await ${identifier}.run(createAnalysisContext({ task, model, params, seed: 1, backend: 'cpu' }), { splits: ['train'] });
    const [train] = (out.result as { splits: SplitReading[] }).splits;

    // mse = mean over the n·k entries of (x·W + b − y)²: at zero, the mean of y², gradient
    // −(2/nk)·(xᵀy, Σy), and the curvature along d = (dW, db) is (2/nk)·Σ (x·dW + db)².
    const { n, x, y } = task.splits.train;
    const k = 2;
    const gW = new Float64Array(3 * k);
    const gb = new Float64Array(k);
    let loss = 0;
    for (let r = 0; r < n; r++)
      for (let j = 0; j < k; j++) {
        const t = y[r * k + j];
        loss += (t * t) / (n * k);
        gb[j] -= (2 * t) / (n * k);
        for (let i = 0; i < 3; i++) gW[i * k + j] -= (2 * x[r * 3 + i] * t) / (n * k);
      }
    const g2 = [...gW, ...gb].reduce((s, v) => s + v * v, 0);
    let dHd = 0;
    for (let r = 0; r < n; r++)
      for (let j = 0; j < k; j++) {
        let z = gb[j];
        for (let i = 0; i < 3; i++) z += x[r * 3 + i] * gW[i * k + j];
        dHd += (2 * z * z) / (n * k);
      }
    expect(train.loss).toBeCloseTo(loss, 4);
    expect(train.gradNorm).toBeCloseTo(Math.sqrt(g2), 4);
    expect(train.curvature).toBeCloseTo(dHd / g2, 3);
    expect(out.headline?.map((h) => h.key)).toEqual(['loss.train', 'gradNorm.train', 'curvature.train']);
    tf.dispose(Object.values(params));
  });
});
`;
  return { index, test };
}
