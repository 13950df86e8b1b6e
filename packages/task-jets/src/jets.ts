import type * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { API_VERSION, defineTask, formatCount, type Json, type Rng, type SizeEstimate, type Split, type TaskInstance } from '@goldstone/plugin-api';
import { auc, scoreTensors } from '@goldstone/core';
import { channelsOf, DEFAULT_FEATURES, FEATURES, fractionOf, type Channels, type FeatureName } from './features';
import { generateClasses, MASS_BINS, type RawJets, type SampleSettings } from './generate';
import { tau21 } from './nsubjettiness';
import { constituentPermutation, jetInputMask, jetRotation, softParticles } from './symmetries';

/** Options of the `jets` task (all have defaults; `{}` is valid). */
export const jetsOptions = z
  .strictObject({
    momentum: z.number().positive().default(400).describe('Jet momentum |p| in GeV (train and test splits)'),
    tCut: z.number().positive().default(4).describe('Virtuality t_cut (GeV²) at or below which a shower node is a final-state particle'),
    signalMass: z.number().positive().default(80).describe('Mean root mass of the signal (W-like) jets, GeV'),
    signalWidth: z.number().min(0).default(2).describe('Gaussian width of the signal root mass, GeV (0: exactly signalMass)'),
    signalRootRate: z.number().positive().default(3).describe("Rate of the exponential of the signal root's virtuality fractions"),
    rate: z.number().positive().default(1.5).describe('Rate of the exponential of every other node (all background nodes)'),
    massWindow: z
      .tuple([z.number().min(0), z.number().positive()])
      .default([70, 90])
      .describe('Jet-mass window [lo, hi] in GeV; both classes are kept only inside it, with equal mass histograms'),
    constituents: z.number().int().min(1).default(32).describe('N: the hardest constituents kept per jet; fewer are padded with all-zero rows'),
    features: z
      .array(z.enum(FEATURES))
      .min(1)
      .default(DEFAULT_FEATURES)
      .describe('Channels per constituent, in this order: logz (log energy fraction), deta, dphi, z (energy fraction); needs deta, dphi and logz or z'),
    epsilon: z.number().min(0).default(0).describe('Pixel size ε: Δη, Δφ rounded to multiples of ε (0: exact)'),
    resolutionEta: z.number().min(0).default(0).describe('σ of Gaussian smearing of Δη (unequal resolutions break the rotation symmetry)'),
    resolutionPhi: z.number().min(0).default(0).describe('σ of Gaussian smearing of Δφ'),
    trainSize: z.number().int().min(2).default(10000).describe('Jets in the train split (half signal, half background)'),
    testSize: z.number().int().min(2).default(4000).describe('Jets in the test split'),
    oodSize: z.number().int().min(2).optional().describe('Jets in each out-of-distribution split (default: testSize)'),
    oodMomentum: z.number().positive().default(800).describe('Jet momentum of the ood-momentum split, GeV'),
    oodEpsilon: z.number().min(0).default(0.1).describe('Pixel size of the ood-epsilon split'),
  })
  .superRefine((o, ctx) => {
    if (o.tCut >= o.signalMass ** 2) {
      ctx.addIssue({ code: 'custom', path: ['tCut'], message: `tCut (${o.tCut}) must be below signalMass² (${o.signalMass ** 2}): a root at or below t_cut never splits` });
    }
    const [lo, hi] = o.massWindow;
    if (lo >= hi) ctx.addIssue({ code: 'custom', path: ['massWindow'], message: `mass window [${lo}, ${hi}]: lo must be below hi` });
    else if (lo >= o.signalMass + 3 * o.signalWidth) {
      ctx.addIssue({ code: 'custom', path: ['massWindow', 0], message: `mass window [${lo}, ${hi}] lies above the signal (root mass ${o.signalMass} ± ${o.signalWidth}; jet masses do not exceed it): no signal jet would be kept` });
    } else if (hi <= Math.sqrt(o.tCut)) {
      ctx.addIssue({ code: 'custom', path: ['massWindow', 1], message: `mass window [${lo}, ${hi}] lies below √tCut (${Math.sqrt(o.tCut)}): a jet that light never splits` });
    }
    const seen = new Set<string>();
    o.features.forEach((f, i) => {
      if (seen.has(f)) ctx.addIssue({ code: 'custom', path: ['features', i], message: `channel "${f}" appears twice` });
      seen.add(f);
    });
    if (!seen.has('deta') || !seen.has('dphi')) ctx.addIssue({ code: 'custom', path: ['features'], message: `features must include deta and dphi (the rotation acts on them); got [${o.features.join(', ')}]` });
    if (!seen.has('logz') && !seen.has('z')) ctx.addIssue({ code: 'custom', path: ['features'], message: `features must include logz or z (the energy fraction); got [${o.features.join(', ')}]` });
    if (o.constituents === 1 && !seen.has('z')) {
      ctx.addIssue({ code: 'custom', path: ['constituents'], message: 'a single constituent has log z = Δη = Δφ = 0, an all-zero row read as padding: use constituents ≥ 2 or add z to features' });
    }
  });

export type JetsOptions = z.output<typeof jetsOptions>;

/** The detector: Gaussian smearing of Δη, Δφ, then pixelisation to multiples of ε. */
export interface Detector {
  epsilon: number;
  resolutionEta: number;
  resolutionPhi: number;
}

function pixel(v: number, eps: number): number {
  return eps > 0 ? eps * Math.round(v / eps) : v;
}

/** Summary of the generated jets of one split, for `info`. */
interface SplitStats {
  constituents: { mean: number; min: number; max: number };
  kept: { mean: number };
}

function statsOf(jets: RawJets[]): SplitStats {
  let n = 0;
  let sum = 0;
  let kept = 0;
  let min = Infinity;
  let max = 0;
  for (const j of jets) {
    for (let i = 0; i < j.n; i++) {
      n++;
      sum += j.total[i];
      kept += j.count[i];
      min = Math.min(min, j.total[i]);
      max = Math.max(max, j.total[i]);
    }
  }
  return { constituents: { mean: sum / n, min, max }, kept: { mean: kept / n } };
}

/**
 * One split: n jets (⌊n/2⌋ signal, the rest background) in a random order, detector effects
 * applied, as [n, N, F] inputs and [n, 1] labels (1 = signal).
 */
export function makeJetSplit(s: SampleSettings, det: Detector, features: readonly FeatureName[], n: number, rng: Rng): { split: Split; stats: SplitStats; mass: Float64Array } {
  const nSignal = Math.floor(n / 2);
  const { signal, background } = generateClasses(s, nSignal, n - nSignal, rng);
  const N = s.constituents;
  const c = channelsOf(features);
  const x = new Float32Array(n * N * c.width);
  const y = new Float32Array(n);
  const mass = new Float64Array(n);
  const order = rng.split('order').permutation(n);
  const noise = rng.split('detector');
  for (let r = 0; r < n; r++) {
    const isSignal = order[r] < nSignal;
    const jets = isSignal ? signal : background;
    const i = isSignal ? order[r] : order[r] - nSignal;
    y[r] = isSignal ? 1 : 0;
    mass[r] = jets.mass[i];
    for (let k = 0; k < jets.count[i]; k++) {
      const src = i * N + k;
      const o = (r * N + k) * c.width;
      let eta = jets.eta[src];
      let phi = jets.phi[src];
      if (det.resolutionEta > 0) eta += det.resolutionEta * noise.normal();
      if (det.resolutionPhi > 0) phi += det.resolutionPhi * noise.normal();
      x[o + c.deta] = pixel(eta, det.epsilon);
      x[o + c.dphi] = pixel(phi, det.epsilon);
      if (c.logz >= 0) x[o + c.logz] = Math.log(jets.z[src]);
      if (c.z >= 0) x[o + c.z] = jets.z[src];
    }
  }
  return { split: { n, x, y, xShape: [N, c.width], yShape: [1] }, stats: statsOf([signal, background]), mass };
}

/** τ₂₁ of every jet of a host batch [rows, N, F] (on the inputs as given: after detector effects). */
export function tau21OfInputs(x: ArrayLike<number>, rows: number, N: number, c: Channels): Float64Array {
  const out = new Float64Array(rows);
  const z = new Float64Array(N);
  const eta = new Float64Array(N);
  const phi = new Float64Array(N);
  for (let r = 0; r < rows; r++) {
    let k = 0;
    for (let j = 0; j < N; j++) {
      const row = r * N + j;
      const f = fractionOf(x, row, c);
      if (f === 0) continue;
      z[k] = f;
      eta[k] = x[row * c.width + c.deta];
      phi[k] = x[row * c.width + c.dphi];
      k++;
    }
    out[r] = tau21(z, eta, phi, k);
  }
  return out;
}

/** The AUC of −τ₂₁ (small τ₂₁: signal-like) on a split. */
export function tau21Auc(split: Split, c: Channels): number {
  const N = split.xShape[0];
  const t = tau21OfInputs(split.x, split.n, N, c);
  return auc(Array.from(t, (v) => -v), split.y);
}

function sampleOf(o: JetsOptions, momentum: number): SampleSettings {
  return {
    momentum,
    tCut: o.tCut,
    signalMass: o.signalMass,
    signalWidth: o.signalWidth,
    signalRootRate: o.signalRootRate,
    rate: o.rate,
    massWindow: o.massWindow,
    constituents: o.constituents,
  };
}

/** The splits `create` makes, with their sizes, momenta and pixel sizes. */
function splitPlan(o: JetsOptions): { name: string; n: number; momentum: number; epsilon: number }[] {
  const oodSize = o.oodSize ?? o.testSize;
  return [
    { name: 'train', n: o.trainSize, momentum: o.momentum, epsilon: o.epsilon },
    { name: 'test', n: o.testSize, momentum: o.momentum, epsilon: o.epsilon },
    { name: 'ood-momentum', n: oodSize, momentum: o.oodMomentum, epsilon: o.epsilon },
    { name: 'ood-epsilon', n: oodSize, momentum: o.momentum, epsilon: o.oodEpsilon },
  ];
}

/**
 * What `create` allocates: every split's inputs (N·F float32 per jet) and labels, plus the
 * float64 scratch of the largest split's generation (3·N per jet), blamed on the size option that
 * makes it big (or `constituents` when a jet is larger than the largest split).
 */
export function estimateJets(o: JetsOptions): SizeEstimate {
  const plan = splitPlan(o);
  const F = o.features.length;
  const N = o.constituents;
  const examples = plan.reduce((s, p) => s + p.n, 0);
  const largest = Math.max(...plan.map((p) => p.n));
  const counts: [string, number][] = [
    ['trainSize', o.trainSize],
    ['testSize', o.testSize * (o.oodSize === undefined ? 3 : 1)],
    ['oodSize', o.oodSize === undefined ? 0 : 2 * o.oodSize],
  ];
  const [countField] = counts.reduce((a, b) => (b[1] > a[1] ? b : a));
  return {
    bytes: 4 * examples * (N * F + 1) + 8 * largest * (3 * N + 4),
    largestArray: largest * N * Math.max(F, 3),
    field: N * F > largest ? 'constituents' : countField,
    what: `${plan.length} splits of ${formatCount(examples)} jets in all, ${N} × ${F} values each`,
  };
}

/**
 * Binary metrics of logits `[B, 1]` against 0/1 labels: `accuracy` (logit > 0) and `auc`
 * (core's scoring).
 */
export function binaryMetrics(pred: tf.Tensor, y: tf.Tensor): Record<string, number> {
  return scoreTensors('binary', pred, y);
}

/**
 * Jet tagging on a toy parton shower (docs/jets-soft-symmetry.md): W-like two-prong signal against QCD-like
 * background at equal jet-mass histograms, inputs (log z, Δη, Δφ) of the N hardest constituents.
 */
export const jets = defineTask({
  name: 'jets',
  apiVersion: API_VERSION,
  description: 'Tag W-like against QCD-like jets from a toy parton shower; rotation about the jet axis is a symmetry the detector breaks softly.',
  options: jetsOptions,
  estimate: (options) => estimateJets(jetsOptions.parse(options)),
  create(options, { rng }): TaskInstance {
    const o = jetsOptions.parse(options);
    const c = channelsOf(o.features);
    const N = o.constituents;
    const det = (epsilon: number): Detector => ({ epsilon, resolutionEta: o.resolutionEta, resolutionPhi: o.resolutionPhi });
    const splits: Record<string, Split> = {};
    const splitInfo: Record<string, Json> = {};
    let testMass: Float64Array | undefined;
    for (const p of splitPlan(o)) {
      const made = makeJetSplit(sampleOf(o, p.momentum), det(p.epsilon), o.features, p.n, rng.split(p.name));
      splits[p.name] = made.split;
      if (p.name === 'test') testMass = made.mass;
      splitInfo[p.name] = { n: p.n, momentum: p.momentum, epsilon: p.epsilon, ...made.stats, tau21Auc: tau21Auc(made.split, c) };
    }
    const test = splits.test;
    return {
      inputShape: [N, c.width],
      outputSize: 1,
      outputKind: 'binary',
      loss: 'binary-cross-entropy',
      splits: splits as TaskInstance['splits'],
      metrics: binaryMetrics,
      symmetries: [jetRotation(N, c), constituentPermutation(N, c)],
      inputMask: jetInputMask,
      perturbations: [softParticles(N, c)],
      info: {
        generator: {
          shower: 'Ginkgo-like 1→2 splittings, isotropic in the parent rest frame; t_L = t_P·u_L, t_R = (√t_P − √t_L)²·u_R, u ~ Exp(rate) redrawn until < 0.999; final once t ≤ tCut',
          signal: { rootMass: o.signalMass, rootMassWidth: o.signalWidth, rootRate: o.signalRootRate, rate: o.rate },
          background: { rootMass: 'proposed near signal jet masses, accepted to equal the signal jet-mass histogram', rate: o.rate },
          massWindow: [...o.massWindow],
          massBins: MASS_BINS,
          momentum: o.momentum,
          tCut: o.tCut,
        },
        detector: { epsilon: o.epsilon, resolutionEta: o.resolutionEta, resolutionPhi: o.resolutionPhi },
        constituents: N,
        features: [...o.features],
        padding: 'all-zero rows (deep-sets mask: nonzero)',
        splits: splitInfo,
        baselines: {
          tau21Auc: tau21Auc(test, c),
          massAuc: auc(testMass ?? [], test.y),
          tau21: 'τ₂/τ₁ (β = 1) in the (Δη, Δφ) plane on the inputs, axes from exclusive kT + 3 Lloyd steps; AUC of −τ₂₁ on the test split',
        },
        symmetries: ['rotation', 'permutation'],
        perturbations: ['soft-particles'],
      },
    };
  },
});
