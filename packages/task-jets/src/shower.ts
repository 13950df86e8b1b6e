import type { Rng } from '@goldstone/plugin-api';

/** Settings of one shower (one jet class at one momentum). */
export interface ShowerSettings {
  /** Mass of the root (GeV). */
  rootMass: number;
  /** Rate of the exponential the root's virtuality fractions u are drawn from. */
  rootRate: number;
  /** Rate for every other node. */
  rate: number;
  /** Virtuality (GeV²) at or below which a node is a final-state particle. */
  tCut: number;
  /** |p| of the root (GeV), along the x axis. */
  momentum: number;
}

/**
 * The final-state particles of one shower as four-vectors (E, px, py, pz), `count` of them, in
 * `p[4i..4i+3]`. The buffer grows as needed and is reused between jets (copy what you keep).
 */
export interface ShowerBuffer {
  p: Float64Array;
  count: number;
}

export function showerBuffer(capacity = 256): ShowerBuffer {
  return { p: new Float64Array(4 * capacity), count: 0 };
}

/** u from an exponential of rate `rate`, redrawn until u < 0.999 (Ginkgo's truncation). */
function fraction(rng: Rng, rate: number): number {
  for (;;) {
    const u = -Math.log(1 - rng.uniform()) / rate;
    if (u < 0.999) return u;
  }
}

// node stack: E, px, py, pz, t, isRoot
const stack: number[] = [];

/**
 * A toy parton shower after Ginkgo (Cranmer, Macaluso et al.): the root (mass `rootMass`,
 * momentum `momentum` along x) splits 1 → 2 in its rest frame with an isotropic decay direction;
 * the children, boosted back to the lab, have virtualities t_L = t_P·u_L and
 * t_R = (√t_P − √t_L)²·u_R (u exponential of the node's rate, redrawn until < 0.999), and split in
 * turn until t ≤ tCut. Four-momentum is conserved at every splitting, so the final state's
 * invariant mass is the root mass. Writes the final-state particles into `out`.
 */
export function shower(s: ShowerSettings, rng: Rng, out: ShowerBuffer): void {
  out.count = 0;
  const m0 = s.rootMass;
  stack.length = 0;
  stack.push(Math.sqrt(s.momentum * s.momentum + m0 * m0), s.momentum, 0, 0, m0 * m0, 1);
  while (stack.length > 0) {
    const isRoot = stack.pop()!;
    const t = stack.pop()!;
    const pz = stack.pop()!;
    const py = stack.pop()!;
    const px = stack.pop()!;
    const E = stack.pop()!;
    if (t <= s.tCut) {
      if (4 * (out.count + 1) > out.p.length) {
        const grown = new Float64Array(out.p.length * 2);
        grown.set(out.p);
        out.p = grown;
      }
      const o = 4 * out.count++;
      out.p[o] = E;
      out.p[o + 1] = px;
      out.p[o + 2] = py;
      out.p[o + 3] = pz;
      continue;
    }
    const rate = isRoot ? s.rootRate : s.rate;
    const M = Math.sqrt(t);
    const tL = t * fraction(rng, rate);
    const mL = Math.sqrt(tL);
    const tR = (M - mL) * (M - mL) * fraction(rng, rate);
    const mR = Math.sqrt(tR);
    // two-body decay in the parent's rest frame
    const q = Math.sqrt(Math.max(0, (t - (mL + mR) ** 2) * (t - (mL - mR) ** 2))) / (2 * M);
    const cos = 2 * rng.uniform() - 1;
    const sin = Math.sqrt(Math.max(0, 1 - cos * cos));
    const az = 2 * Math.PI * rng.uniform();
    const kx = q * sin * Math.cos(az);
    const ky = q * sin * Math.sin(az);
    const kz = q * cos;
    const eL = Math.sqrt(q * q + tL);
    const eR = Math.sqrt(q * q + tR);
    // boost by β = p/E of the parent: γ = E/M
    const gamma = E / M;
    const bx = px / E;
    const by = py / E;
    const bz = pz / E;
    const b2 = bx * bx + by * by + bz * bz;
    const bk = bx * kx + by * ky + bz * kz;
    const c = b2 > 0 ? (gamma - 1) / b2 : 0;
    // left child (+k), right child (−k)
    const fL = c * bk + gamma * eL;
    stack.push(gamma * (eL + bk), kx + fL * bx, ky + fL * by, kz + fL * bz, tL, 0);
    const fR = -c * bk + gamma * eR;
    stack.push(gamma * (eR - bk), -kx + fR * bx, -ky + fR * by, -kz + fR * bz, tR, 0);
  }
}
