export interface CrossingOptions {
  /** First trial distance (> 0). */
  initialStep: number;
  /** Factor by which the trial distance grows until the target is crossed (default 2). */
  growth?: number;
  /** Give up when the trial distance exceeds this (default 1e3 × initialStep). */
  maxDistance?: number;
  /** Stop when the root is known to within this relative tolerance of its distance (default 1e-4). */
  relTol?: number;
  /** Most function evaluations for this side (default 100). */
  maxEvaluations?: number;
}

export type Crossing =
  | { found: true; distance: number; bracket: [number, number]; evaluations: number }
  | { found: false; reason: string; lastDistance: number; lastValue: number; evaluations: number };

/**
 * The first distance d > 0 at which g(d) crosses from below 0 to ≥ 0, where g(0) < 0: trial
 * distances initialStep·growthᵏ bracket the crossing, then Brent's method (inverse quadratic
 * interpolation guarded by bisection) finds it. A crossing never reached before `maxDistance`
 * (a loss that stays below its threshold, or a non-finite value) is reported, not guessed.
 */
export function findCrossing(g: (d: number) => number, options: CrossingOptions): Crossing {
  const growth = options.growth ?? 2;
  const maxDistance = options.maxDistance ?? 1e3 * options.initialStep;
  const relTol = options.relTol ?? 1e-4;
  const maxEvaluations = options.maxEvaluations ?? 100;
  if (!(options.initialStep > 0)) throw new RangeError(`findCrossing: initialStep must be > 0, got ${options.initialStep}`);
  if (!(growth > 1)) throw new RangeError(`findCrossing: growth must be > 1, got ${growth}`);
  let evaluations = 0;
  const f = (d: number) => {
    evaluations++;
    return g(d);
  };
  let a = 0;
  let fa = f(0);
  if (!(fa < 0)) return { found: false, reason: `the value at 0 is ${fa}, not below the target`, lastDistance: 0, lastValue: fa, evaluations };
  let b = options.initialStep;
  let fb = f(b);
  while (!(fb >= 0)) {
    if (!Number.isFinite(fb)) return { found: false, reason: `non-finite value at distance ${b}`, lastDistance: b, lastValue: fb, evaluations };
    if (b * growth > maxDistance || evaluations >= maxEvaluations) {
      return { found: false, reason: `still below the target at distance ${b} (limit ${maxDistance})`, lastDistance: b, lastValue: fb, evaluations };
    }
    a = b;
    fa = fb;
    b *= growth;
    fb = f(b);
  }
  const bracket: [number, number] = [a, b];
  if (fb === 0) return { found: true, distance: b, bracket, evaluations };
  return { found: true, distance: brent(f, a, fa, b, fb, relTol, () => evaluations >= maxEvaluations), bracket, evaluations: evaluations };
}

/** Brent's root finder on [a, b] with f(a) < 0 ≤ f(b) (Brent 1973, "zero"). */
function brent(
  f: (x: number) => number,
  a0: number,
  fa0: number,
  b0: number,
  fb0: number,
  relTol: number,
  exhausted: () => boolean,
): number {
  let a = a0;
  let fa = fa0;
  let b = b0;
  let fb = fb0;
  let c = a;
  let fc = fa;
  let d = b - a;
  let e = d;
  for (;;) {
    if (Math.sign(fb) === Math.sign(fc) && fb !== 0) {
      c = a;
      fc = fa;
      d = b - a;
      e = d;
    }
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tol = 2 * Number.EPSILON * Math.abs(b) + 0.5 * relTol * Math.abs(b);
    const m = 0.5 * (c - b);
    if (Math.abs(m) <= tol || fb === 0 || exhausted()) return b;
    if (Math.abs(e) >= tol && Math.abs(fa) > Math.abs(fb)) {
      let p: number;
      let q: number;
      const s = fb / fa;
      if (a === c) {
        p = 2 * m * s;
        q = 1 - s;
      } else {
        const qq = fa / fc;
        const r = fb / fc;
        p = s * (2 * m * qq * (qq - r) - (b - a) * (r - 1));
        q = (qq - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (2 * p < Math.min(3 * m * q - Math.abs(tol * q), Math.abs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = m;
        e = m;
      }
    } else {
      d = m;
      e = m;
    }
    a = b;
    fa = fb;
    b += Math.abs(d) > tol ? d : m > 0 ? tol : -tol;
    fb = f(b);
  }
}

export interface FlatnessResult {
  /** θˡ < 0 and θʳ > 0, where the profile reaches the threshold; null where it was not reached. */
  left: number | null;
  right: number | null;
  /** F = θʳ − θˡ, or null if either side was not found. */
  flatness: number | null;
  /** Why a side was not found. */
  leftReason?: string;
  rightReason?: string;
  evaluations: number;
}

/**
 * Flatness of a loss profile L(δ) (δ = 0 the centre) at level `target` (e.g. e·L(0)): the distance
 * between the nearest points on either side where L reaches `target`.
 */
export function profileFlatness(profile: (delta: number) => number, target: number, options: CrossingOptions): FlatnessResult {
  const right = findCrossing((d) => profile(d) - target, options);
  const left = findCrossing((d) => profile(-d) - target, options);
  const out: FlatnessResult = {
    left: left.found ? -left.distance : null,
    right: right.found ? right.distance : null,
    flatness: left.found && right.found ? right.distance + left.distance : null,
    evaluations: left.evaluations + right.evaluations,
  };
  if (!left.found) out.leftReason = left.reason;
  if (!right.found) out.rightReason = right.reason;
  return out;
}
