import { z } from 'zod';
import { API_VERSION, defineTask, formatCount, type Json, type SizeEstimate, type Rng, type Split, type TaskInstance } from '@goldstone/plugin-api';
import { DISTRIBUTIONS, exactCumulants, isSymmetric, sampleSpins, type DistributionName } from './distributions';
import { blockSumArray } from './block-sum';
import { coarseGrainCumulants } from './cumulants';
import { regressionMetrics } from './metrics';
import { permuteWithinBlocks, signFlip, translateByBlocks, type Equivariance } from './symmetries';

const distribution = z.enum(DISTRIBUTIONS);

/** Options of the `clt` task (all have defaults; `{}` is valid). */
export const cltOptions = z
  .strictObject({
    /** Number of input sites N. */
    sites: z.number().int().positive().default(16).describe('Number of input sites N'),
    /** Block size b; must divide `sites`. The target has N/b outputs. */
    block: z.number().int().positive().default(2).describe('Block size b; must divide sites. The target has N/b outputs'),
    /** Distribution of the training (and test) spins. Skewed by default so that κ₃ ≠ 0. */
    distribution: distribution.default('exponential').describe('Distribution of the training (and test) spins; skewed by default so that κ₃ ≠ 0'),
    /** Shape k of the `gamma` distribution (skewness 2/√k). */
    gammaShape: z.number().positive().default(2).describe('Shape k of the gamma distribution (skewness 2/√k)'),
    /** Number of training examples. */
    trainSize: z.number().int().positive().default(2048).describe('Number of training examples'),
    /** Number of test examples (same distribution as training). */
    testSize: z.number().int().positive().default(1024).describe('Number of test examples (same distribution as training)'),
    /** Number of examples in each out-of-distribution split (default: `testSize`). */
    oodSize: z.number().int().positive().optional().describe('Number of examples in each out-of-distribution split (default: testSize)'),
    /** Distributions for `ood-<name>` splits (default: every distribution but the training one). */
    ood: z.array(distribution).optional().describe('Distributions for ood-<name> splits (default: every distribution but the training one)'),
    /** Standard deviation of Gaussian noise added to the *training* targets only. */
    noise: z.number().min(0).default(0).describe('Standard deviation of Gaussian noise added to the training targets only'),
  })
  .superRefine((o, ctx) => {
    if (o.sites % o.block !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['block'],
        message: `block (${o.block}) must divide sites (${o.sites}); divisors of ${o.sites}: ${divisors(o.sites).join(', ')}`,
      });
    }
  });

export type CltOptions = z.output<typeof cltOptions>;

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

/** What `clt.create` returns: a `TaskInstance` plus the task's equivariances. */
export interface CltInstance extends TaskInstance {
  /**
   * Transformations under which the target changes in a known way (translation by whole blocks,
   * and the sign flip when the distribution is symmetric). Not in `symmetries`, whose members
   * must leave the target unchanged.
   */
  equivariances: Equivariance[];
}

function makeSplit(
  dist: DistributionName,
  n: number,
  o: CltOptions,
  rng: Rng,
  noise: number,
): Split {
  const x = sampleSpins(dist, n * o.sites, rng.split('x'), { shape: o.gammaShape });
  const y = blockSumArray(x, o.sites, o.block);
  if (noise > 0) {
    const noiseRng = rng.split('noise');
    for (let i = 0; i < y.length; i++) y[i] += noise * noiseRng.normal();
  }
  return { n, x, y, xShape: [o.sites], yShape: [o.sites / o.block] };
}

function cumulantInfo(dist: DistributionName, o: CltOptions): Json {
  const input = exactCumulants(dist, { shape: o.gammaShape });
  return { input, target: coarseGrainCumulants(input, o.block) };
}

/**
 * What `create` allocates: every split's inputs (`sites` values per example) and targets
 * (`sites/block`), float32, blamed on the option that makes it big (the largest split's size, or
 * `sites` when an example is larger than the largest split).
 */
export function estimateClt(o: CltOptions): SizeEstimate {
  const oodNames = o.ood ?? DISTRIBUTIONS.filter((d) => d !== o.distribution);
  const oodSize = o.oodSize ?? o.testSize;
  const perExample = o.sites + o.sites / o.block;
  const examples = o.trainSize + o.testSize + oodNames.length * oodSize;
  // examples each size option accounts for (testSize also sizes the ood splits unless oodSize is given)
  const counts: [string, number][] = [
    ['trainSize', o.trainSize],
    ['testSize', o.testSize * (1 + (o.oodSize === undefined ? oodNames.length : 0))],
    ['oodSize', o.oodSize === undefined ? 0 : oodNames.length * o.oodSize],
  ];
  const [countField] = counts.reduce((a, b) => (b[1] > a[1] ? b : a));
  const field = o.sites > Math.max(o.trainSize, o.testSize, oodSize) ? 'sites' : countField;
  return {
    bytes: 4 * examples * perExample,
    largestArray: Math.max(o.trainSize, o.testSize, oodNames.length ? oodSize : 0) * o.sites,
    field,
    what: `${2 + oodNames.length} splits of ${formatCount(examples)} examples in all, ${perExample} values each`,
  };
}

/**
 * The central-limit coarse-graining task: inputs are N i.i.d. standardised spins, targets the
 * block sums over blocks of b consecutive sites divided by √b (science.md §4).
 */
export const clt = defineTask({
  name: 'clt',
  apiVersion: API_VERSION,
  description: 'Learn the CLT coarse-graining map: block sums of i.i.d. spins divided by √b.',
  options: cltOptions,
  estimate: (options) => estimateClt(cltOptions.parse(options)),
  create(options, { rng }): CltInstance {
    const o = cltOptions.parse(options);
    const oodSize = o.oodSize ?? o.testSize;
    const oodNames = o.ood ?? DISTRIBUTIONS.filter((d) => d !== o.distribution);
    const splits: Record<string, Split> = {
      train: makeSplit(o.distribution, o.trainSize, o, rng.split('train'), o.noise),
      test: makeSplit(o.distribution, o.testSize, o, rng.split('test'), 0),
    };
    const oodCumulants: Record<string, Json> = {};
    for (const d of oodNames) {
      const name = `ood-${d}`;
      splits[name] = makeSplit(d, oodSize, o, rng.split(name), 0);
      oodCumulants[name] = cumulantInfo(d, o);
    }
    const equivariances = [translateByBlocks(o.sites, o.block)];
    if (isSymmetric(o.distribution)) equivariances.push(signFlip(o.sites, o.block));
    const weight = 1 / Math.sqrt(o.block);
    return {
      inputShape: [o.sites],
      outputSize: o.sites / o.block,
      outputKind: 'regression',
      loss: 'mse',
      splits: splits as CltInstance['splits'],
      metrics: regressionMetrics,
      symmetries: [permuteWithinBlocks(o.sites, o.block)],
      equivariances,
      info: {
        sites: o.sites,
        block: o.block,
        distribution: o.distribution,
        ...(o.distribution === 'gamma' || oodNames.includes('gamma') ? { gammaShape: o.gammaShape } : {}),
        noise: o.noise,
        exactSolution: {
          kind: 'linear',
          description: 'y_j = (1/√b) Σ_{i=jb}^{jb+b−1} x_i: tied weights 1/√b inside each block, zero elsewhere, no bias',
          weight,
          bias: 0,
        },
        cumulantMap: 'κn′ = b^(1 − n/2) κn (n = 1…4; exact for i.i.d. inputs with κ1 = 0)',
        cumulants: cumulantInfo(o.distribution, o),
        oodCumulants,
        symmetries: ['permute-within-blocks'],
        equivariances: equivariances.map((e) => e.name),
      },
    };
  },
});
