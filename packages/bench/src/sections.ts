import { ratio } from './stats';
import { hessianProblem, runExactHessian, runTorchHessian, type HessianReport } from './exact-hessian';
import { estimatorProblem, runEstimators, runTorchEstimators, type EstimatorReport } from './curvature-estimators';
import { epochsOf, runTorchSeeds, seedsModel, seedsProblem, trainSeedsInWorkers, trainSeedsSequential, type SeedsOutcome, type SeedsReport } from './seeds';
import { maxLossDiff, vectorisedSeeds } from './vectorised-seeds';
import type { BackendName } from '@goldstone/core';

/** What the issue-16 sections need from the bench settings. */
export interface SectionSettings {
  quick: boolean;
  seed: number;
  python?: string;
  log?: (line: string) => void;
}

const say = (s: SectionSettings, line: string) => s.log?.(`bench: ${line}`);

/** (a) the exact Hessian of the quickstart model on the current backend, then torch.autograd.functional.hessian. */
export async function hessianSection(s: SectionSettings, backend: string): Promise<HessianReport> {
  const p = hessianProblem(s.quick);
  say(s, `${backend.padEnd(10)} ${p.name}: ${p.reps} × denseMatrix`);
  const { run, matrix, peer } = await runExactHessian(p, s.seed, backend);
  say(s, `${backend.padEnd(10)} ${p.name}: ${run.products} HVPs in ${run.ms.toFixed(0)} ms (${run.ms_per_product.toFixed(2)} ms each)`);
  say(s, 'PyTorch peer, exact Hessian (torch.autograd.functional.hessian)');
  const pytorch = runTorchHessian(peer, matrix, { python: s.python });
  if (!pytorch.available) say(s, pytorch.reason);
  return {
    problem: { ...p, params: run.params, loss: 'mse, tanh MLP with biases (@goldstone/models mlp), CLT shapes (centred exponential spins, block sums / √2), float32' },
    ours: run,
    pytorch,
    ratio_vs_pytorch: ratio(run.ms, pytorch.available ? pytorch.ms : undefined),
  };
}

/** (b) SLQ and Hutchinson on the 51k model's Hessian on the current backend, then the PyHessian-style peer. */
export async function estimatorSection(s: SectionSettings, backend: string): Promise<EstimatorReport> {
  const p = estimatorProblem(s.quick);
  say(s, `${backend.padEnd(10)} ${p.name}: slq ${p.slq.probes}×${p.slq.steps}, hutchinson ${p.hutchinson.probes}, ${p.reps} reps`);
  const { run, peer } = await runEstimators(p, s.seed, backend);
  say(s, `${backend.padEnd(10)} slq ${run.slq.ms.toFixed(0)} ms, hutchinson ${run.hutchinson.ms.toFixed(0)} ms`);
  say(s, 'PyTorch peer, SLQ and Hutchinson (PyHessian style)');
  const pytorch = runTorchEstimators(peer, { python: s.python });
  if (!pytorch.available) say(s, pytorch.reason);
  return {
    problem: { ...p, params: run.params, loss: 'softmax-cross-entropy, ReLU MLP with biases (@goldstone/models mlp), Hessian by double backprop (float32)' },
    ours: run,
    pytorch,
    ratios: {
      slq: ratio(run.slq.ms, pytorch.available ? pytorch.slq.ms : undefined),
      hutchinson: ratio(run.hutchinson.ms, pytorch.available ? pytorch.hutchinson.ms : undefined),
    },
  };
}

const msOf = (o: SeedsOutcome) => (o.available ? o.ms : undefined);

/** (c) 16 seeds of the CLT 16-32-8 MLP: sequential, vectorised, 2 worker processes; then the PyTorch pool and single process. */
export async function seedsSection(s: SectionSettings, backend: BackendName, opts: { trainer?: object; dist?: string } = {}): Promise<SeedsReport> {
  const p = seedsProblem(s.quick, s.seed);
  say(s, `${backend.padEnd(10)} ${p.name}: sequential`);
  const sequential = await trainSeedsSequential(p);
  say(s, `${backend.padEnd(10)} sequential ${sequential.ms.toFixed(0)} ms (${sequential.seeds_per_s.toFixed(2)} seeds/s); vectorised`);
  const vectorised = await vectorisedSeeds(p, { trainer: opts.trainer });
  say(s, vectorised.available ? `${backend.padEnd(10)} vectorised ${vectorised.ms.toFixed(0)} ms` : `vectorised seeds unavailable: ${vectorised.reason}`);
  say(s, `${backend.padEnd(10)} ${p.workers} worker processes × ${Math.ceil(p.seeds / p.workers)} seeds`);
  const workers = await trainSeedsInWorkers(p, backend, opts.dist);
  say(s, workers.available ? `${backend.padEnd(10)} workers ${workers.ms.toFixed(0)} ms` : `seeds workers unavailable: ${workers.reason}`);
  say(s, 'PyTorch peer, seeds (pool of 2 processes, then one process)');
  const pytorch = runTorchSeeds(p, { python: s.python });
  if (!pytorch.available) say(s, pytorch.reason);
  const vsDiff = maxLossDiff(vectorised, sequential);
  return {
    problem: {
      ...p,
      epochs: epochsOf(p),
      params: seedsModel(p).paramCount,
      protocol: 'CLT 16 sites, block 2 (centred exponential spins → block sums / √2), tanh MLP 16-32-8 with nn.Linear init, MSE, Adam, the same data set for every seed, per-seed init and data order, loss evaluated at the end only',
    },
    backend,
    sequential,
    vectorised: vectorised.available && vsDiff !== null ? { ...vectorised, max_loss_diff_vs_sequential: vsDiff } : vectorised,
    workers,
    pytorch,
    ratios: {
      sequential: ratio(sequential.ms, pytorch.available ? pytorch.pool.train_ms : undefined),
      vectorised: ratio(msOf(vectorised), pytorch.available ? pytorch.pool.train_ms : undefined),
      workers: ratio(msOf(workers), pytorch.available ? pytorch.pool.ms : undefined),
    },
  };
}
