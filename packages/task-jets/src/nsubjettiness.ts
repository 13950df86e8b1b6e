/**
 * N-subjettiness of one jet in the (Δη, Δφ) plane: τ_N = Σᵢ zᵢ · min_a Rᵢₐ over N axes, with
 * Rᵢₐ the Euclidean distance from constituent i to axis a. τ₁'s axis is the z-weighted centroid.
 * τ₂'s axes come from exclusive-kT clustering to two pseudojets (distance min(zᵢ², zⱼ²)·Rᵢⱼ², merged
 * by z-weighted position), refined by three Lloyd steps (assign to the nearer axis, move each axis
 * to the z-weighted centroid of its constituents); τ₂ is the smaller of the two (kT and refined). Rotation- and
 * permutation-invariant. The common normalisation Σ zᵢ·R₀ cancels in the ratio, so it is left out.
 */
export function nSubjettiness(z: ArrayLike<number>, eta: ArrayLike<number>, phi: ArrayLike<number>, count: number): { tau1: number; tau2: number } {
  if (count === 0) return { tau1: 0, tau2: 0 };
  let zs = 0;
  let ce = 0;
  let cp = 0;
  for (let i = 0; i < count; i++) {
    zs += z[i];
    ce += z[i] * eta[i];
    cp += z[i] * phi[i];
  }
  ce /= zs;
  cp /= zs;
  let tau1 = 0;
  for (let i = 0; i < count; i++) tau1 += z[i] * Math.hypot(eta[i] - ce, phi[i] - cp);
  if (count <= 2) return { tau1, tau2: 0 };
  // exclusive kT to two pseudojets
  const pz = Float64Array.from({ length: count }, (_, i) => z[i]);
  const pe = Float64Array.from({ length: count }, (_, i) => eta[i]);
  const pp = Float64Array.from({ length: count }, (_, i) => phi[i]);
  const alive = new Uint8Array(count).fill(1);
  for (let left = count; left > 2; left--) {
    let best = Infinity;
    let bi = -1;
    let bj = -1;
    for (let i = 0; i < count; i++) {
      if (!alive[i]) continue;
      for (let j = i + 1; j < count; j++) {
        if (!alive[j]) continue;
        const m = Math.min(pz[i], pz[j]);
        const d = m * m * ((pe[i] - pe[j]) ** 2 + (pp[i] - pp[j]) ** 2);
        if (d < best) {
          best = d;
          bi = i;
          bj = j;
        }
      }
    }
    const w = pz[bi] + pz[bj];
    pe[bi] = w > 0 ? (pz[bi] * pe[bi] + pz[bj] * pe[bj]) / w : pe[bi];
    pp[bi] = w > 0 ? (pz[bi] * pp[bi] + pz[bj] * pp[bj]) / w : pp[bi];
    pz[bi] = w;
    alive[bj] = 0;
  }
  const axes: number[] = [];
  for (let i = 0; i < count; i++) if (alive[i]) axes.push(pe[i], pp[i]);
  const tau2Of = (): number => {
    let t = 0;
    for (let i = 0; i < count; i++) t += z[i] * Math.min(Math.hypot(eta[i] - axes[0], phi[i] - axes[1]), Math.hypot(eta[i] - axes[2], phi[i] - axes[3]));
    return t;
  };
  const kt = tau2Of();
  for (let step = 0; step < 3; step++) {
    const sum = [0, 0, 0, 0, 0, 0]; // w, we, wp per axis
    for (let i = 0; i < count; i++) {
      const a = Math.hypot(eta[i] - axes[0], phi[i] - axes[1]) <= Math.hypot(eta[i] - axes[2], phi[i] - axes[3]) ? 0 : 3;
      sum[a] += z[i];
      sum[a + 1] += z[i] * eta[i];
      sum[a + 2] += z[i] * phi[i];
    }
    for (const a of [0, 3]) {
      if (sum[a] > 0) {
        axes[(a / 3) * 2] = sum[a + 1] / sum[a];
        axes[(a / 3) * 2 + 1] = sum[a + 2] / sum[a];
      }
    }
  }
  return { tau1, tau2: Math.min(kt, tau2Of()) };
}

/** τ₂₁ = τ₂/τ₁ of one jet (0 when τ₁ = 0): small for two-prong (W-like) jets, near 1 for one-prong ones. */
export function tau21(z: ArrayLike<number>, eta: ArrayLike<number>, phi: ArrayLike<number>, count: number): number {
  const { tau1, tau2 } = nSubjettiness(z, eta, phi, count);
  return tau1 > 0 ? tau2 / tau1 : 0;
}
