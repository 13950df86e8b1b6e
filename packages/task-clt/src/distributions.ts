import type { Rng } from '@goldstone/plugin-api';

/** The single-site ("spin") distributions the CLT task can draw from, all with mean 0 and variance 1. */
export const DISTRIBUTIONS = ['gaussian', 'uniform', 'laplace', 'exponential', 'spins', 'gamma', 'student-t'] as const;

export type DistributionName = (typeof DISTRIBUTIONS)[number];

/** Extra parameters of a distribution: the shape k > 0 of `gamma`, the degrees of freedom ν > 4 of `student-t`. */
export interface DistributionParams {
  /** Shape k of the gamma distribution (default 2): skewness 2/√k, excess kurtosis 6/k. */
  shape?: number;
  /** Degrees of freedom ν of the Student-t distribution (default 5): excess kurtosis 6/(ν − 4); ν > 4 so that κ₄ is finite. */
  nu?: number;
}

const DEFAULT_GAMMA_SHAPE = 2;
/** Default degrees of freedom of `student-t`: the heaviest integer tail with a finite κ₄ (= 6). */
export const DEFAULT_STUDENT_NU = 5;

/** Whether the standardised distribution is symmetric under x → −x (all odd cumulants vanish). */
export function isSymmetric(dist: DistributionName): boolean {
  return dist === 'gaussian' || dist === 'uniform' || dist === 'laplace' || dist === 'spins' || dist === 'student-t';
}

function gammaShape(params?: DistributionParams): number {
  const k = params?.shape ?? DEFAULT_GAMMA_SHAPE;
  if (!(k > 0) || !Number.isFinite(k)) throw new RangeError(`gamma shape must be a positive number, got ${k}`);
  return k;
}

function studentNu(params?: DistributionParams): number {
  const nu = params?.nu ?? DEFAULT_STUDENT_NU;
  if (!(nu > 4) || !Number.isFinite(nu)) throw new RangeError(`student-t degrees of freedom must be a number > 4 (for a finite κ₄), got ${nu}`);
  return nu;
}

/**
 * The exact cumulants κ₁, κ₂, κ₃, κ₄ of the standardised distribution (κ₁ = 0, κ₂ = 1).
 *
 * - gaussian: κ₃ = κ₄ = 0
 * - uniform on [−√3, √3]: κ₄ = −6/5
 * - laplace with scale 1/√2: κ₄ = 3
 * - exponential, centred (E − 1, E ~ Exp(1)): κₙ = (n − 1)!, so κ₃ = 2, κ₄ = 6
 * - spins ±1 with probability ½: κ₄ = −2
 * - gamma of shape k, standardised ((G − k)/√k): κₙ = (n − 1)! k^(1 − n/2), so κ₃ = 2/√k, κ₄ = 6/k
 * - student-t with ν degrees of freedom, scaled by √((ν − 2)/ν) to unit variance: κ₄ = 6/(ν − 4)
 *   (6 at ν = 5; moments above the (ν−1)-th diverge, so k₄'s own sampling error is heavy-tailed)
 */
export function exactCumulants(dist: DistributionName, params?: DistributionParams): [number, number, number, number] {
  switch (dist) {
    case 'gaussian':
      return [0, 1, 0, 0];
    case 'uniform':
      return [0, 1, 0, -6 / 5];
    case 'laplace':
      return [0, 1, 0, 3];
    case 'exponential':
      return [0, 1, 2, 6];
    case 'spins':
      return [0, 1, 0, -2];
    case 'gamma': {
      const k = gammaShape(params);
      return [0, 1, 2 / Math.sqrt(k), 6 / k];
    }
    case 'student-t':
      return [0, 1, 0, 6 / (studentNu(params) - 4)];
    default:
      throw new RangeError(`unknown distribution "${String(dist)}"; expected one of ${DISTRIBUTIONS.join(', ')}`);
  }
}

/** Uniform in (0, 1), never exactly 0 (safe under log). */
function openUniform(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng.uniform();
  return u;
}

/** Gamma(k, 1) by Marsaglia–Tsang; for k < 1 via the boost G(k) = G(k + 1)·U^(1/k). */
function gammaVariate(k: number, rng: Rng): number {
  if (k < 1) return gammaVariate(k + 1, rng) * Math.pow(openUniform(rng), 1 / k);
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let z: number;
    let v: number;
    do {
      z = rng.normal();
      v = 1 + c * z;
    } while (v <= 0);
    v = v * v * v;
    const u = openUniform(rng);
    if (u < 1 - 0.0331 * z * z * z * z) return d * v;
    if (Math.log(u) < 0.5 * z * z + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * `n` independent draws from the standardised distribution (mean 0, variance 1), computed on the
 * host in float64 from `rng` and returned as float32: identical on every backend.
 */
export function sampleSpins(dist: DistributionName, n: number, rng: Rng, params?: DistributionParams): Float32Array {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`sampleSpins: n must be a non-negative integer, got ${n}`);
  const out = new Float32Array(n);
  switch (dist) {
    case 'gaussian':
      for (let i = 0; i < n; i++) out[i] = rng.normal();
      break;
    case 'uniform': {
      const a = Math.sqrt(3);
      for (let i = 0; i < n; i++) out[i] = a * (2 * rng.uniform() - 1);
      break;
    }
    case 'laplace': {
      const s = Math.SQRT1_2;
      for (let i = 0; i < n; i++) {
        // inverse CDF: u uniform in (−½, ½), x = −s·sign(u)·ln(1 − 2|u|)
        const u = openUniform(rng) - 0.5;
        out[i] = -s * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
      }
      break;
    }
    case 'exponential':
      for (let i = 0; i < n; i++) out[i] = -Math.log(openUniform(rng)) - 1;
      break;
    case 'spins':
      for (let i = 0; i < n; i++) out[i] = rng.uint32() & 1 ? 1 : -1;
      break;
    case 'gamma': {
      const k = gammaShape(params);
      const sk = Math.sqrt(k);
      for (let i = 0; i < n; i++) out[i] = (gammaVariate(k, rng) - k) / sk;
      break;
    }
    case 'student-t': {
      // t = Z/√(V/ν) with V ~ χ²_ν = 2·Gamma(ν/2); scaled by √((ν − 2)/ν) to unit variance
      const nu = studentNu(params);
      const scale = Math.sqrt((nu - 2) / nu);
      for (let i = 0; i < n; i++) {
        const z = rng.normal();
        const v = 2 * gammaVariate(nu / 2, rng);
        out[i] = (scale * z) / Math.sqrt(v / nu);
      }
      break;
    }
    default:
      throw new RangeError(`unknown distribution "${String(dist)}"; expected one of ${DISTRIBUTIONS.join(', ')}`);
  }
  return out;
}
