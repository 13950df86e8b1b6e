import { z } from 'zod';
import { API_VERSION, defineTask, formatCount, type Json, type SizeEstimate, type Rng, type Split, type TaskInstance } from '@goldstone/plugin-api';
import { DEFAULT_STUDENT_NU, DISTRIBUTIONS, exactCumulants, isSymmetric, sampleSpins, type DistributionName, type DistributionParams } from './distributions';
import { blockSumArray } from './block-sum';
import { coarseGrainCumulants, sampleCumulants } from './cumulants';
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
    /** Degrees of freedom ν of the `student-t` distribution (> 4, so that κ₄ = 6/(ν − 4) is finite). */
    studentNu: z.number().gt(4).default(DEFAULT_STUDENT_NU).describe('Degrees of freedom ν of the student-t distribution (> 4: κ₄ = 6/(ν − 4) is finite)'),
    /** Number of training examples. */
    trainSize: z.number().int().positive().default(2048).describe('Number of training examples'),
    /** Number of test examples (same distribution as training). */
    testSize: z.number().int().positive().default(1024).describe('Number of test examples (same distribution as training)'),
    /** Number of examples in each out-of-distribution split (default: `testSize`). */
    oodSize: z.number().int().positive().optional().describe('Number of examples in each out-of-distribution split (default: testSize)'),
    /** Distributions for `ood-<name>` splits (default: every distribution but the training one). */
    ood: z.array(distribution).optional().describe('Distributions for ood-<name> splits (default: every distribution but the training one)'),
    /** Amplitudes a for `ood-<distribution>-x<a>` splits: the training distribution's spins multiplied by a (κₙ → aⁿκₙ). */
    oodScales: z.array(z.number().positive()).default([]).describe('Amplitudes a for ood-<distribution>-x<a> splits: training spins multiplied by a (κn → a^n κn)'),
    /** Standard deviation of Gaussian noise added to the *training* targets only. */
    noise: z.number().min(0).default(0).describe('Standard deviation of Gaussian noise added to the training targets only'),
  })
  .superRefine((o, ctx) => {
    const seen = new Set<number>();
    o.oodScales.forEach((a, i) => {
      if (seen.has(a)) ctx.addIssue({ code: 'custom', path: ['oodScales', i], message: `the amplitude ${a} is listed twice (one split ood-<distribution>-x${a} each)` });
      seen.add(a);
    });
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

function distParams(o: CltOptions): DistributionParams {
  return { shape: o.gammaShape, nu: o.studentNu };
}

function makeSplit(
  dist: DistributionName,
  n: number,
  o: CltOptions,
  rng: Rng,
  noise: number,
  scale = 1,
): Split {
  const x = sampleSpins(dist, n * o.sites, rng.split('x'), distParams(o));
  if (scale !== 1) for (let i = 0; i < x.length; i++) x[i] *= scale;
  const y = blockSumArray(x, o.sites, o.block);
  if (noise > 0) {
    const noiseRng = rng.split('noise');
    for (let i = 0; i < y.length; i++) y[i] += noise * noiseRng.normal();
  }
  return { n, x, y, xShape: [o.sites], yShape: [o.sites / o.block] };
}

/** Exact κ₁…κ₄ of a split's inputs (the distribution at amplitude `scale`: κₙ·scaleⁿ) and of its clean targets. */
function cumulantInfo(dist: DistributionName, o: CltOptions, scale = 1): { input: number[]; target: number[] } {
  const input = exactCumulants(dist, distParams(o)).map((k, i) => k * scale ** (i + 1));
  return { input, target: coarseGrainCumulants(input, o.block) };
}

/** The amplitude in a split name: `2` → `x2`, `0.5` → `x0.5`. */
export function scaleSuffix(a: number): string {
  return `x${a}`;
}

/** What an OOD split holds: `ood-<d>` for each of `ood`, then `ood-<training>-x<a>` for each of `oodScales`. */
export function oodSplits(o: CltOptions): { name: string; distribution: DistributionName; scale: number }[] {
  const names = o.ood ?? DISTRIBUTIONS.filter((d) => d !== o.distribution);
  return [
    ...names.map((d) => ({ name: `ood-${d}`, distribution: d, scale: 1 })),
    ...o.oodScales.map((a) => ({ name: `ood-${o.distribution}-${scaleSuffix(a)}`, distribution: o.distribution, scale: a })),
  ];
}

/**
 * One split's record in `info.splits`: its distribution and amplitude, the exact cumulants of its
 * inputs and (clean) targets, and the k-statistics k₁…k₄ of all its input values and all its
 * target values (what a model's outputs on that split are compared with: the same sample's
 * sampling noise; null with fewer than 4 values). The training split's exact target κ₂ includes the label noise σ².
 */
function splitInfo(s: Split, dist: DistributionName, o: CltOptions, scale: number, noise: number): Json {
  const exact = cumulantInfo(dist, o, scale);
  if (noise > 0) exact.target[1] += noise * noise;
  return {
    distribution: dist,
    scale,
    n: s.n,
    exact,
    // k-statistics need 4 values; a smaller split records null
    kStatistics: { input: s.x.length >= 4 ? sampleCumulants(s.x) : null, target: s.y.length >= 4 ? sampleCumulants(s.y) : null },
  };
}

/**
 * What `create` allocates: every split's inputs (`sites` values per example) and targets
 * (`sites/block`), float32, blamed on the option that makes it big (the largest split's size, or
 * `sites` when an example is larger than the largest split).
 */
export function estimateClt(o: CltOptions): SizeEstimate {
  const oodNames = oodSplits(o);
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
 * block sums over blocks of b consecutive sites divided by √b (docs/learned-rg-maps.md).
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
    const ood = oodSplits(o);
    const oodNames = ood.map((s) => s.distribution);
    const splits: Record<string, Split> = {
      train: makeSplit(o.distribution, o.trainSize, o, rng.split('train'), o.noise),
      test: makeSplit(o.distribution, o.testSize, o, rng.split('test'), 0),
    };
    const splitInfos: Record<string, Json> = {
      train: splitInfo(splits.train, o.distribution, o, 1, o.noise),
      test: splitInfo(splits.test, o.distribution, o, 1, 0),
    };
    const oodCumulants: Record<string, Json> = {};
    for (const { name, distribution: d, scale } of ood) {
      splits[name] = makeSplit(d, oodSize, o, rng.split(name), 0, scale);
      oodCumulants[name] = cumulantInfo(d, o, scale);
      splitInfos[name] = splitInfo(splits[name], d, o, scale, 0);
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
        ...(o.distribution === 'student-t' || oodNames.includes('student-t') ? { studentNu: o.studentNu } : {}),
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
        splits: splitInfos,
        symmetries: ['permute-within-blocks'],
        equivariances: equivariances.map((e) => e.name),
      },
    };
  },
});
