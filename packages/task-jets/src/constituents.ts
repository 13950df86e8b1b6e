import type { ShowerBuffer } from './shower';

/**
 * The kept constituents of one jet before detector effects: the `count ≤ N` hardest (by energy)
 * final-state particles, hardest first, with energy fractions `z` (summing to 1 over the kept
 * ones) and angular coordinates (`eta`, `phi`) relative to the jet axis, centred so that
 * Σ z·Δη = Σ z·Δφ = 0. `mass` is the invariant mass of the kept four-vectors.
 */
export interface JetRecord {
  count: number;
  /** Final-state particles of the whole shower (before keeping the N hardest). */
  total: number;
  mass: number;
}

/**
 * Project a shower onto the (Δη, Δφ) plane of its jet, writing `count` kept constituents into
 * `z`, `eta`, `phi` at `offset` (room for `N`). The jet axis n is the direction of the summed
 * momentum of the kept particles; each particle at angle r from n and azimuth α about it gets
 * (Δη, Δφ) = r·(cos α, sin α), with α measured from the direction of the beam (z) projected
 * orthogonally to n (for a central jet along x, Δη ≈ θ_z and Δφ ≈ θ_y, the usual small-angle
 * coordinates). This map commutes exactly with rotations about the jet axis, and so does the
 * energy fraction z = E/ΣE (for a central jet the pT fraction to second order in the angles), so
 * rotation in the (Δη, Δφ) plane is an exact symmetry of the generated inputs.
 */
export function projectJet(
  shower: ShowerBuffer,
  N: number,
  z: Float64Array,
  eta: Float64Array,
  phi: Float64Array,
  offset: number,
  order: Int32Array,
): JetRecord {
  const p = shower.p;
  const total = shower.count;
  for (let i = 0; i < total; i++) order[i] = i;
  const idx = order.subarray(0, total).sort((i, j) => p[4 * j] - p[4 * i]);
  const count = Math.min(N, total);
  let E = 0;
  let X = 0;
  let Y = 0;
  let Z = 0;
  for (let k = 0; k < count; k++) {
    const o = 4 * idx[k];
    E += p[o];
    X += p[o + 1];
    Y += p[o + 2];
    Z += p[o + 3];
  }
  const P = Math.hypot(X, Y, Z);
  const mass = Math.sqrt(Math.max(0, E * E - P * P));
  const nx = X / P;
  const ny = Y / P;
  const nz = Z / P;
  // e_eta: the beam direction (0, 0, 1) made orthogonal to n; e_phi = e_eta × n
  let ex = -nz * nx;
  let ey = -nz * ny;
  let ez = 1 - nz * nz;
  const en = Math.hypot(ex, ey, ez);
  if (en < 1e-12) {
    ex = 1;
    ey = 0;
    ez = 0;
  } else {
    ex /= en;
    ey /= en;
    ez /= en;
  }
  const fx = ey * nz - ez * ny;
  const fy = ez * nx - ex * nz;
  const fz = ex * ny - ey * nx;
  let ce = 0;
  let cp = 0;
  for (let k = 0; k < count; k++) {
    const o = 4 * idx[k];
    const px = p[o + 1];
    const py = p[o + 2];
    const pz = p[o + 3];
    const along = px * nx + py * ny + pz * nz;
    const a = px * ex + py * ey + pz * ez;
    const b = px * fx + py * fy + pz * fz;
    const rho = Math.hypot(a, b);
    const r = Math.atan2(rho, along);
    const j = offset + k;
    z[j] = p[o] / E;
    eta[j] = rho > 0 ? (r * a) / rho : 0;
    phi[j] = rho > 0 ? (r * b) / rho : 0;
    ce += z[j] * eta[j];
    cp += z[j] * phi[j];
  }
  for (let k = 0; k < count; k++) {
    eta[offset + k] -= ce;
    phi[offset + k] -= cp;
  }
  return { count, total, mass };
}
