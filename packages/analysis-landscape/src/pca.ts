import { symmetricEigenDecompositionAsync } from '@goldstone/curvature';

/** The top principal components of a trajectory. */
export interface TrajectoryPca {
  /** Unit principal directions in parameter space, by decreasing variance. */
  components: Float32Array[];
  /** Variance along each component (mean over snapshots of the squared centred coordinate). */
  variances: number[];
  /** Each component's share of the total variance of the trajectory. */
  explained: number[];
  /** Snapshots used. */
  snapshots: number;
}

/**
 * PCA of a trajectory of T parameter vectors (each of length n), centred at its mean, through the
 * T×T Gram matrix of the centred snapshots (T ≪ n): eigenvectors uₖ of G = X Xᵀ give the principal
 * directions pₖ = Xᵀuₖ / ‖Xᵀuₖ‖ and variances λₖ / T. Each direction's sign is fixed so that the
 * trajectory moves along it from its first snapshot to its last (ties: largest component positive).
 */
export async function trajectoryPca(snapshots: readonly ArrayLike<number>[], components: number): Promise<TrajectoryPca> {
  const t = snapshots.length;
  if (t < 2) throw new Error(`landscape: the PCA needs at least 2 snapshots, found ${t}`);
  const n = snapshots[0].length;
  const mean = new Float64Array(n);
  for (const s of snapshots) for (let i = 0; i < n; i++) mean[i] += s[i];
  for (let i = 0; i < n; i++) mean[i] /= t;
  const centred = snapshots.map((s) => {
    const c = new Float64Array(n);
    for (let i = 0; i < n; i++) c[i] = s[i] - mean[i];
    return c;
  });
  const gram = new Float64Array(t * t);
  for (let a = 0; a < t; a++) {
    for (let b = 0; b <= a; b++) {
      const ca = centred[a];
      const cb = centred[b];
      let s = 0;
      for (let i = 0; i < n; i++) s += ca[i] * cb[i];
      gram[a * t + b] = s;
      gram[b * t + a] = s;
    }
  }
  const eig = await symmetricEigenDecompositionAsync(gram, t);
  let total = 0;
  for (const v of eig.values) total += Math.max(v, 0);
  const k = Math.min(components, t - 1);
  const out: TrajectoryPca = { components: [], variances: [], explained: [], snapshots: t };
  for (let j = 0; j < k; j++) {
    const idx = t - 1 - j; // ascending order
    const lambda = Math.max(eig.values[idx], 0);
    const u = eig.vector(idx);
    const p = new Float64Array(n);
    for (let a = 0; a < t; a++) {
      const ca = centred[a];
      const w = u[a];
      for (let i = 0; i < n; i++) p[i] += w * ca[i];
    }
    let nn = 0;
    for (let i = 0; i < n; i++) nn += p[i] * p[i];
    const scale = nn > 0 ? 1 / Math.sqrt(nn) : 0;
    // sign: the trajectory moves along +p from its first to its last snapshot
    let drift = 0;
    for (let i = 0; i < n; i++) drift += p[i] * (centred[t - 1][i] - centred[0][i]);
    let sign = drift < 0 ? -1 : 1;
    if (drift === 0) {
      let arg = 0;
      for (let i = 1; i < n; i++) if (Math.abs(p[i]) > Math.abs(p[arg])) arg = i;
      sign = p[arg] < 0 ? -1 : 1;
    }
    const dir = new Float32Array(n);
    for (let i = 0; i < n; i++) dir[i] = sign * scale * p[i];
    out.components.push(dir);
    out.variances.push(lambda / t);
    out.explained.push(total > 0 ? lambda / total : 0);
  }
  return out;
}

/** Coordinates of each snapshot relative to `origin` along orthonormal `directions`. */
export function projectTrajectory(snapshots: readonly ArrayLike<number>[], origin: ArrayLike<number>, directions: readonly ArrayLike<number>[]): number[][] {
  return snapshots.map((s) =>
    directions.map((d) => {
      let v = 0;
      for (let i = 0; i < origin.length; i++) v += (s[i] - origin[i]) * d[i];
      return v;
    }),
  );
}
