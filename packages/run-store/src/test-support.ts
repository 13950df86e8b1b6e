import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every file and directory under `dir` (hidden temporaries included) by relative path, sorted:
 * a file maps to the SHA-256 of its bytes, a directory to `dir`. Two equal snapshots taken before
 * and after a command show that it wrote, created and deleted nothing there.
 */
export async function snapshotDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(dir, rel), { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out[path] = 'dir';
        await walk(path);
      } else {
        out[path] = createHash('sha256').update(await readFile(join(dir, path))).digest('hex');
      }
    }
  };
  await walk('');
  return out;
}

/**
 * Writes a realistic run directory for tests and for looking at a sample report: a run.json,
 * metrics.jsonl with step and epoch rows (deterministic curves, no randomness), and three
 * analyses with line, point and heat-map figures. Text that must be escaped (`<script>`) is
 * planted in the config, an analysis result, a figure title and figure data.
 */
export async function writeFixtureRun(
  dir: string,
  options: { status?: string; error?: unknown; steps?: number; epochs?: number } = {},
): Promise<void> {
  const steps = options.steps ?? 600;
  const epochs = options.epochs ?? 12;
  await mkdir(join(dir, 'analyses'), { recursive: true });
  await mkdir(join(dir, 'checkpoints'), { recursive: true });
  const run = {
    name: 'jets-mlp-lambda0.1',
    status: options.status ?? 'completed',
    config: {
      name: 'jets-soft-symmetry',
      task: { name: 'jets', options: { constituents: 32, anisotropy: 0.1, note: '<script>alert("config")</script>' } },
      model: { name: 'mlp', options: { hidden: [64, 64], activation: 'relu' } },
      train: { epochs, batchSize: 128, optimizer: { name: 'adam', lr: 0.001 }, penalty: { kind: 'group', lambda: 0.1 } },
      analyses: [{ name: 'hessian', options: { k: 20 } }, { name: 'compressibility' }, { name: 'phase' }],
    },
    seed: 7,
    backend: 'wasm',
    packages: { '@goldstone/core': '0.1.0', '@goldstone/models': '0.1.0', '@tensorflow/tfjs-core': '4.22.0' },
    createdAt: '2025-11-24T10:00:00.000Z',
    updatedAt: '2025-11-24T10:07:30.000Z',
    ...(options.status === 'completed' || options.status === undefined ? { finishedAt: '2025-11-24T10:07:30.000Z' } : {}),
    ...(options.error !== undefined ? { error: options.error } : {}),
    summary: { 'test.acc': 0.912, 'test.auc': 0.967, 'hessian.lambdaMax': 41.3 },
  };
  await writeFile(join(dir, 'run.json'), JSON.stringify(run, null, 2));

  const lines: string[] = [];
  const perEpoch = Math.floor(steps / epochs);
  for (let s = 0; s < steps; s++) {
    const epoch = Math.floor(s / perEpoch);
    const loss = 0.7 * Math.exp(-s / 150) + 0.08 + 0.03 * Math.abs(Math.sin(s * 1.7));
    const lr = 0.001 * Math.min(1, (s + 1) / 50) * (0.5 + 0.5 * Math.cos((Math.PI * s) / steps));
    lines.push(JSON.stringify({ kind: 'step', step: s, epoch, loss, lr }));
    if ((s + 1) % perEpoch === 0) {
      const t = (s + 1) / steps;
      lines.push(
        JSON.stringify({
          kind: 'epoch',
          epoch,
          step: s,
          time: 30 * (epoch + 1),
          'train.loss': 0.65 * Math.exp(-4 * t) + 0.05,
          'test.loss': 0.6 * Math.exp(-3 * t) + 0.12,
          'ood-pt.loss': 0.55 * Math.exp(-2 * t) + 0.25,
          'train.acc': 0.95 - 0.4 * Math.exp(-5 * t),
          'test.acc': 0.91 - 0.4 * Math.exp(-4 * t),
          'ood-pt.acc': 0.84 - 0.35 * Math.exp(-3 * t),
          'test.auc': 0.967 - 0.4 * Math.exp(-4 * t),
          'ood-pt.auc': 0.9 - 0.35 * Math.exp(-3 * t),
        }),
      );
    }
  }
  await writeFile(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');

  const eigenvalues = Array.from({ length: 20 }, (_, i) => 41.3 * Math.pow(0.72, i));
  const hessian = {
    result: {
      eigenvalues,
      trace: { estimate: 182.4, stderr: 3.1 },
      nearZeroModes: 1204,
      goldstone: { curvature: 0.0031, rank: 1718 },
    },
    figures: [
      {
        name: 'spectrum',
        title: 'Top Hessian eigenvalues',
        spec: {
          data: { values: eigenvalues.map((v, i) => ({ index: i + 1, eigenvalue: v })) },
          mark: { type: 'point', filled: true },
          encoding: {
            x: { field: 'index', type: 'quantitative', title: 'index i' },
            y: { field: 'eigenvalue', type: 'quantitative', scale: { type: 'log' }, title: 'λᵢ' },
          },
        },
      },
      {
        name: 'density',
        title: 'Spectral density (SLQ)',
        spec: {
          data: {
            values: Array.from({ length: 120 }, (_, i) => {
              const x = -2 + (i * 45) / 119;
              return { lambda: x, density: Math.exp(-x * x * 2) + 0.02 * Math.exp(-((x - 40) ** 2) / 4) };
            }),
          },
          mark: { type: 'area', clip: true },
          encoding: {
            x: { field: 'lambda', type: 'quantitative', title: 'λ', scale: { domain: [-2, 43] } },
            y: { field: 'density', type: 'quantitative', title: 'density' },
          },
        },
      },
    ],
    provenance: { analysis: 'hessian', version: '0.1.0', seed: 7, backend: 'wasm', estimator: 'lanczos', iterations: 80, hvps: 160 },
  };
  await writeFile(join(dir, 'analyses', 'hessian.json'), JSON.stringify(hessian));

  const sparsities = [0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98];
  const compress = {
    result: {
      baseline: { acc: 0.912, auc: 0.967 },
      pruning: sparsities.map((s) => ({ sparsity: s, auc: 0.967 - 0.3 * s ** 6 })),
      comment: '<script>alert("result")</script>',
    },
    figures: [
      {
        name: 'pruning',
        title: 'AUC against sparsity <script>alert("title")</script>',
        spec: {
          data: {
            values: sparsities.flatMap((s) => [
              { sparsity: s, auc: 0.967 - 0.3 * s ** 6, method: 'magnitude' },
              { sparsity: s, auc: 0.967 - 0.45 * s ** 4, method: 'random <script>' },
            ]),
          },
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'sparsity', type: 'quantitative' },
            y: { field: 'auc', type: 'quantitative', scale: { zero: false } },
            color: { field: 'method', type: 'nominal' },
          },
        },
      },
    ],
    provenance: { analysis: 'compressibility', seed: 7, backend: 'wasm', split: 'test' },
  };
  await writeFile(join(dir, 'analyses', 'compressibility.json'), JSON.stringify(compress));

  const cells: { encLr: string; decLr: string; testAcc: number }[] = [];
  const lrs = ['1e-4', '1e-3', '1e-2', '1e-1'];
  lrs.forEach((e, i) => lrs.forEach((d, j) => cells.push({ encLr: e, decLr: d, testAcc: 0.5 + 0.45 * Math.exp(-((i - 2) ** 2 + (j - 1) ** 2) / 2) })));
  const phase = {
    result: { grid: cells.map((c) => [c.encLr, c.decLr, c.testAcc]), best: cells.reduce((a, b) => (a.testAcc > b.testAcc ? a : b)) },
    figures: [
      {
        name: 'phase',
        title: 'Test accuracy over learning rates',
        spec: {
          data: { values: cells },
          mark: 'rect',
          encoding: {
            x: { field: 'encLr', type: 'ordinal', sort: lrs, title: 'encoder lr' },
            y: { field: 'decLr', type: 'ordinal', sort: lrs, title: 'decoder lr' },
            color: { field: 'testAcc', type: 'quantitative', title: 'test acc' },
          },
        },
      },
    ],
    provenance: { analysis: 'phase', seed: 7, backend: 'wasm' },
  };
  await writeFile(join(dir, 'analyses', 'phase.json'), JSON.stringify(phase));
}
