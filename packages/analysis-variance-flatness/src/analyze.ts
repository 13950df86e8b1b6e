import { cosine, trajectoryPca, type PcaMethod, type TrajectoryPca } from './pca';
import { profileFlatness } from './root-finding';
import { bootstrapFits, linearFit, powerLawFit, SLOPE_ESTIMATORS, type PowerLawFit, type SlopeEstimator } from './fit';

export interface AnalyzeOptions {
  /** PCs whose flatness is measured (1-based ranks 1 … components). */
  components: number;
  /** Flatness threshold as a multiple of L₀ (default e). */
  thresholdFactor: number;
  /** Leave PC1 (a drift along ⟨w⟩ in SGD) out of the ψ fit and the variance fractions. */
  excludeFirst: boolean;
  /** γ is fitted over ranks gammaFrom … gammaTo (clipped to the rank of the trajectory). */
  gammaFrom: number;
  gammaTo: number;
  /** The variance fraction is reported for the top `topK` PCs (PC1 excluded if `excludeFirst`). */
  topK: number;
  /** Which PCs get a loss-profile figure, and at how many points. */
  profileComponents: number[];
  profilePoints: number;
  /** Root-finding: first step (in units of σᵢ), growth, largest distance, relative tolerance. */
  initialStepSigmas: number;
  growth: number;
  maxDistance: number;
  relTol: number;
  pcaMethod: PcaMethod;
  /** Confidence level of the intervals. */
  level: number;
  /** ψ is fitted over PCs of rank fitFrom … fitTo (defaults: 2, or 1 without excludeFirst; components). */
  fitFrom?: number;
  fitTo?: number;
  /** ψ against the number of PCs used: the fit repeated with these fitTo values (clipped to components). */
  fitToScan: number[];
  /** Bootstrap resamples over PCs for the intervals of the OLS, reverse and RMA fits, and their seed. */
  bootstrap: number;
  seed: number;
}

export const DEFAULT_ANALYZE_OPTIONS: AnalyzeOptions = {
  components: 50,
  thresholdFactor: Math.E,
  excludeFirst: true,
  gammaFrom: 20,
  gammaTo: 500,
  topK: 35,
  profileComponents: [2, 5, 10, 20],
  profilePoints: 21,
  initialStepSigmas: 1,
  growth: 2,
  maxDistance: 100,
  relTol: 1e-4,
  pcaMethod: 'auto',
  level: 0.95,
  fitToScan: [],
  bootstrap: 2000,
  seed: 1,
};

/** ψ by one estimator: −slope of ln σᵢ² against ln Fᵢ, with its percentile bootstrap interval over PCs. */
export interface PsiEstimate {
  value: number;
  ci: [number, number];
  /** ln σ² ≈ intercept − ψ ln F (for drawing the line). */
  intercept: number;
}

/**
 * ψ by the three estimators over one PC range: OLS of ln σ² on ln F (ψ = −slope), the reverse
 * regression of ln F on ln σ² inverted, and the reduced major axis; intervals from one seeded
 * bootstrap over the PCs.
 */
export interface PsiFits {
  ols: PsiEstimate;
  reverse: PsiEstimate;
  rma: PsiEstimate;
  r2: number;
  n: number;
  from: number;
  to: number;
  ranks: number[];
  level: number;
  resamples: number;
  seed: number;
}

/** The three fits of ψ over the usable PCs with ranks from … to; null if fewer than 3. */
export function psiFits(components: readonly ComponentResult[], from: number, to: number, o: { level: number; bootstrap: number; seed: number }): PsiFits | null {
  const used = components.filter((c) => c.rank >= from && c.rank <= to && c.flatness !== null && c.flatness > 0 && c.variance > 0);
  if (used.length < 3) return null;
  const x = used.map((c) => Math.log(c.flatness!));
  if (x.every((v) => v === x[0])) return null;
  const y = used.map((c) => Math.log(c.variance));
  const f = bootstrapFits(x, y, { resamples: o.bootstrap, level: o.level, seed: o.seed });
  const est = (e: SlopeEstimator): PsiEstimate => ({ value: -f[e].slope, ci: [-f[e].ci[1], -f[e].ci[0]], intercept: f[e].intercept });
  const [ols, reverse, rma] = SLOPE_ESTIMATORS.map(est);
  return { ols, reverse, rma, r2: f.r2, n: f.n, from, to, ranks: used.map((c) => c.rank), level: o.level, resamples: o.bootstrap, seed: o.seed };
}

export interface ComponentResult {
  /** 1-based rank of the PC. */
  rank: number;
  variance: number;
  left: number | null;
  right: number | null;
  flatness: number | null;
  evaluations: number;
  /** Why a side was not found (only where it was not). */
  note?: string;
}

export interface VarianceFlatness {
  pca: Pick<TrajectoryPca, 'snapshots' | 'dimension' | 'method' | 'totalVariance'>;
  /** L₀ = L(w₀) and the level e·L₀ at which flatness is measured. */
  L0: number;
  threshold: number;
  components: ComponentResult[];
  /** ψ of σᵢ² ∝ Fᵢ^(−ψ): −(slope of ln σ² on ln F); null with a reason if fewer than 3 usable PCs. */
  psi: { value: number; stdErr: number; ci: [number, number]; level: number; r2: number; n: number; ranks: number[]; prefactor: number } | null;
  psiNote?: string;
  /** ψ by OLS, reverse regression and reduced major axis over PCs fitFrom … fitTo, with bootstrap intervals over PCs. */
  fits: PsiFits | null;
  /** ψ against the number of PCs used: the three fits over fitFrom … k for each k of fitToScan. */
  psiByFitTo: PsiFits[];
  /** γ of σᵢ² ∝ i^(−γ) over ranks from … to. */
  gamma: { value: number; stdErr: number; ci: [number, number]; r2: number; from: number; to: number } | null;
  /** Variance spectrum σᵢ² in rank order (all min(T, N) values). */
  spectrum: number[];
  fractions: {
    excludesFirst: boolean;
    /** Fraction of the (PC1-excluded) variance in the top `topK` PCs. */
    topK: number;
    top: number;
    /** How many PCs hold 90 % of the (PC1-excluded) variance. */
    pcsFor90: number;
    /** PC1's share of the total variance. */
    first: number;
  };
  drift: {
    /** cos between PC1 and ⟨w⟩, and between PC1 and the net displacement w(T) − w(0). */
    pc1MeanCosine: number;
    pc1DisplacementCosine: number;
    /** The rank (among the top 5) of the PC best aligned with the net displacement, and that cosine. */
    driftRank: number;
    driftCosine: number;
    /** Whether PC1 is the drift direction (it is the best aligned with the displacement, |cos| > 0.5). */
    pc1IsDrift: boolean;
  };
  /** Loss profiles L(w₀ + δpᵢ) sampled for figures. */
  profiles: { rank: number; delta: number; loss: number }[];
  evaluations: number;
}

/**
 * The variance–flatness analysis of a trajectory (docs/variance-flatness.md), on host arrays. `snapshots` are
 * the recorded parameter-subset vectors; `lossAt(w)` is the full-training-set loss with the subset
 * set to `w` (everything else fixed); `center` is w₀, where the loss profiles are centred (default
 * ⟨w⟩). PCA gives σᵢ² and pᵢ; for each of the top `components` PCs the profile Lᵢ(δ) = L(w₀ + δpᵢ)
 * is root-found on both sides at e·L₀, Fᵢ = θᵢʳ − θᵢˡ; ψ is fitted on log–log axes over the PCs
 * with both sides found (PC1 left out if `excludeFirst`).
 */
export function analyzeTrajectory(
  snapshots: ArrayLike<number>[],
  lossAt: (w: Float64Array) => number,
  opts: Partial<AnalyzeOptions> & { center?: ArrayLike<number>; onComponent?: (rank: number) => void } = {},
): VarianceFlatness {
  const o: AnalyzeOptions = { ...DEFAULT_ANALYZE_OPTIONS, ...opts };
  const pca = trajectoryPca(snapshots, { components: Math.max(o.components, 5), method: o.pcaMethod });
  return analyzePca(pca, { first: snapshots[0], last: snapshots[snapshots.length - 1] }, lossAt, opts);
}

/**
 * `analyzeTrajectory` after the PCA: the same analysis from a trajectory's PCA and its first and
 * last snapshot (so that a recorder can reduce a finished window to its PCA and drop the snapshots).
 */
export function analyzePca(
  pca: TrajectoryPca,
  ends: { first: ArrayLike<number>; last: ArrayLike<number> },
  lossAt: (w: Float64Array) => number,
  opts: Partial<AnalyzeOptions> & { center?: ArrayLike<number>; onComponent?: (rank: number) => void } = {},
): VarianceFlatness {
  const o: AnalyzeOptions = { ...DEFAULT_ANALYZE_OPTIONS, ...opts };
  const profileRanks = o.profileComponents.filter((r) => r >= 1 && r <= o.components);
  const N = pca.dimension;
  const w0 = Float64Array.from(opts.center ?? pca.mean);
  if (w0.length !== N) throw new Error(`analyzeTrajectory: center has ${w0.length} values, snapshots ${N}`);
  let evaluations = 0;
  const buf = new Float64Array(N);
  const profile = (p: Float64Array) => (delta: number) => {
    for (let j = 0; j < N; j++) buf[j] = w0[j] + delta * p[j];
    evaluations++;
    return lossAt(buf);
  };
  const L0 = profile(new Float64Array(N))(0);
  if (!(L0 > 0) || !Number.isFinite(L0)) throw new Error(`analyzeTrajectory: the loss at the centre is ${L0}; flatness at e·L₀ needs a positive finite L₀`);
  const threshold = o.thresholdFactor * L0;

  const count = Math.min(o.components, pca.components.length);
  const components: ComponentResult[] = [];
  for (let i = 0; i < count; i++) {
    const sigma = Math.sqrt(pca.variances[i]);
    const step = Math.max(o.initialStepSigmas * sigma, 1e-8);
    const r = profileFlatness(profile(pca.components[i]), threshold, {
      initialStep: step,
      growth: o.growth,
      maxDistance: o.maxDistance,
      relTol: o.relTol,
    });
    const c: ComponentResult = { rank: i + 1, variance: pca.variances[i], left: r.left, right: r.right, flatness: r.flatness, evaluations: r.evaluations };
    const notes = [r.leftReason && `left: ${r.leftReason}`, r.rightReason && `right: ${r.rightReason}`].filter(Boolean);
    if (notes.length) c.note = notes.join('; ');
    components.push(c);
    opts.onComponent?.(i + 1);
  }

  const fitFrom = Math.max(o.fitFrom ?? (o.excludeFirst ? 2 : 1), o.excludeFirst ? 2 : 1);
  const fitTo = Math.min(o.fitTo ?? count, count);
  const usable = components.filter((c) => c.flatness !== null && c.flatness > 0 && c.variance > 0 && c.rank >= fitFrom && c.rank <= fitTo);
  const fits = psiFits(components, fitFrom, fitTo, o);
  const scan = [...new Set(o.fitToScan.map((k) => Math.min(k, count)))].filter((k) => k >= fitFrom + 2).sort((a, b) => a - b);
  const psiByFitTo = scan.map((k) => psiFits(components, fitFrom, k, o)).filter((f): f is PsiFits => f !== null);
  let psi: VarianceFlatness['psi'] = null;
  let psiNote: string | undefined;
  if (usable.length >= 3) {
    const fit: PowerLawFit = powerLawFit(
      usable.map((c) => c.flatness!),
      usable.map((c) => c.variance),
      o.level,
    );
    psi = {
      value: -fit.exponent,
      stdErr: fit.stdErr,
      ci: [-fit.ci[1], -fit.ci[0]],
      level: fit.level,
      r2: fit.r2,
      n: fit.n,
      ranks: usable.map((c) => c.rank),
      prefactor: fit.prefactor,
    };
  } else {
    psiNote = `only ${usable.length} PCs with a measured flatness (need 3)`;
  }

  const spectrum = Array.from(pca.variances);
  const positive = spectrum.filter((v) => v > spectrum[0] * 1e-12).length;
  const gFrom = o.gammaFrom;
  const gTo = Math.min(o.gammaTo, positive);
  let gamma: VarianceFlatness['gamma'] = null;
  if (gTo - gFrom + 1 >= 3) {
    const ranks: number[] = [];
    const vals: number[] = [];
    for (let r = gFrom; r <= gTo; r++) {
      ranks.push(Math.log(r));
      vals.push(Math.log(spectrum[r - 1]));
    }
    const f = linearFit(ranks, vals, o.level);
    gamma = { value: -f.slope, stdErr: f.slopeStdErr, ci: [-f.slopeCi[1], -f.slopeCi[0]], r2: f.r2, from: gFrom, to: gTo };
  }

  const skip = o.excludeFirst ? 1 : 0;
  const rest = spectrum.slice(skip);
  const restTotal = rest.reduce((a, b) => a + b, 0);
  let acc = 0;
  let pcsFor90 = rest.length;
  for (let i = 0; i < rest.length; i++) {
    acc += rest[i];
    if (acc >= 0.9 * restTotal) {
      pcsFor90 = i + 1;
      break;
    }
  }
  const top = rest.slice(0, o.topK).reduce((a, b) => a + b, 0) / (restTotal || 1);

  const first = Float64Array.from(ends.first);
  const last = ends.last;
  const displacement = first.map((v, j) => last[j] - v);
  let driftRank = 1;
  let driftCosine = 0;
  pca.components.slice(0, 5).forEach((p, i) => {
    const c = cosine(p, displacement);
    if (Math.abs(c) > Math.abs(driftCosine)) {
      driftCosine = c;
      driftRank = i + 1;
    }
  });
  const pc1 = pca.components[0];
  const drift = {
    pc1MeanCosine: pc1 ? cosine(pc1, pca.mean) : 0,
    pc1DisplacementCosine: pc1 ? cosine(pc1, displacement) : 0,
    driftRank,
    driftCosine,
    pc1IsDrift: driftRank === 1 && Math.abs(driftCosine) > 0.5,
  };

  const profiles: VarianceFlatness['profiles'] = [];
  for (const rank of profileRanks) {
    const c = components[rank - 1];
    if (!c) continue;
    const reach = Math.max(Math.abs(c.left ?? 0), Math.abs(c.right ?? 0), 3 * Math.sqrt(c.variance)) * 1.25;
    const f = profile(pca.components[rank - 1]);
    for (let k = 0; k < o.profilePoints; k++) {
      const delta = -reach + (2 * reach * k) / Math.max(1, o.profilePoints - 1);
      profiles.push({ rank, delta, loss: f(delta) });
    }
  }

  const out: VarianceFlatness = {
    pca: { snapshots: pca.snapshots, dimension: N, method: pca.method, totalVariance: pca.totalVariance },
    L0,
    threshold,
    components,
    psi,
    fits,
    psiByFitTo,
    gamma,
    spectrum,
    fractions: { excludesFirst: o.excludeFirst, topK: o.topK, top, pcsFor90, first: pca.totalVariance > 0 ? spectrum[0] / pca.totalVariance : 0 },
    drift,
    profiles,
    evaluations,
  };
  if (psiNote) out.psiNote = psiNote;
  return out;
}
